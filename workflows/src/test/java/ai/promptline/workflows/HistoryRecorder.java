package ai.promptline.workflows;

import ai.promptline.workflows.api.SearchAttrs;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.Stages.RunResult;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Records the histories {@code CommittedHistoryReplayTest} replays: run once per release with
 * {@code -Dpromptline.recordHistories=workflows/src/test/resources/histories/<release>} and commit
 * the files. Never part of a normal build.
 *
 * <p>The campaign: zsclip and coop × seeds 1, 2, the second coop run failing (a history with a
 * failed child), with search attributes and two runs per execution, so the chain has a
 * continue-as-new; every execution of the chain and every run is written.
 */
@EnabledIfSystemProperty(named = "promptline.recordHistories", matches = ".+")
class HistoryRecorder {
  @Test
  void recordCampaignAndRunHistories() throws Exception {
    Path out = Path.of(System.getProperty("promptline.recordHistories"));
    Files.createDirectories(out);
    RunWorkflowFailureTest.ScriptedActivities acts = new RunWorkflowFailureTest.ScriptedActivities();
    acts.failTrainingFor.set(1);
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      CampaignControlTest.registerSearchAttributes(env);
      Worker cpu = env.newWorker(TaskQueues.CPU);
      cpu.registerWorkflowImplementationTypes(CampaignWorkflowImpl.class, RunWorkflowImpl.class);
      cpu.registerActivitiesImplementations(acts.tracking, acts.data, acts.campaign);
      env.newWorker(TaskQueues.GPU).registerActivitiesImplementations(acts.compute);
      env.start();
      CampaignPlan plan = CampaignPlan.of(ContentKeysTest.spec(2, 0));
      String id = "campaign-recorded";
      CampaignWorkflow wf = env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class,
          WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(id).build());
      var execution = io.temporal.client.WorkflowClient.start(wf::run, acts.request(plan, plan, true, 2));
      CampaignResult r = io.temporal.client.WorkflowStub.fromTyped(wf).getResult(CampaignResult.class);
      String runId = execution.getRunId();
      for (int i = 1; runId != null; i++) {
        WorkflowExecutionHistory h = env.getWorkflowClient().fetchHistory(id, runId);
        Files.writeString(out.resolve("campaign-execution-" + i + ".json"), h.toJson(true));
        HistoryEvent last = h.getLastEvent();
        runId = last.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
            ? last.getWorkflowExecutionContinuedAsNewEventAttributes().getNewExecutionRunId() : null;
      }
      int i = 0;
      for (RunResult run : r.runs())
        Files.writeString(out.resolve("run-" + (i++) + "-" + run.config().method() + "-" + run.status().toLowerCase() + ".json"),
            env.getWorkflowClient().fetchHistory(RunWorkflow.workflowId(run.runKey())).toJson(true));
    }
  }
}
