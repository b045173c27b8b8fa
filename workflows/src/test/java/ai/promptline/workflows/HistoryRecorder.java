package ai.promptline.workflows;

import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.Stages.RunResult;
import io.temporal.client.WorkflowOptions;
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
 */
@EnabledIfSystemProperty(named = "promptline.recordHistories", matches = ".+")
class HistoryRecorder {
  @Test
  void recordCampaignAndRunHistories() throws Exception {
    Path out = Path.of(System.getProperty("promptline.recordHistories"));
    Files.createDirectories(out);
    RunWorkflowFailureTest.ScriptedActivities acts = new RunWorkflowFailureTest.ScriptedActivities();
    acts.failTrainingFor.set(1); // the second coop run fails: a history with a failed child
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      Worker cpu = env.newWorker(TaskQueues.CPU);
      cpu.registerWorkflowImplementationTypes(CampaignWorkflowImpl.class, RunWorkflowImpl.class);
      cpu.registerActivitiesImplementations(acts.tracking, acts.data);
      env.newWorker(TaskQueues.GPU).registerActivitiesImplementations(acts.compute);
      env.start();
      CampaignResult r = env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class, WorkflowOptions.newBuilder()
          .setTaskQueue(TaskQueues.CPU).setWorkflowId("campaign-recorded").build()).run(ContentKeysTest.spec(2, 0));
      Files.writeString(out.resolve("campaign.json"), env.getWorkflowClient().fetchHistory("campaign-recorded").toJson(true));
      int i = 0;
      for (RunResult run : r.runs())
        Files.writeString(out.resolve("run-" + (i++) + "-" + run.config().method() + "-" + run.status().toLowerCase() + ".json"),
            env.getWorkflowClient().fetchHistory(RunWorkflow.workflowId(run.runKey())).toJson(true));
    }
  }
}
