package ai.promptline.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workflows.CampaignWorkflow.Progress;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.TrainParams;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A campaign of 10,000 runs completes in Temporal's test environment with fast stand-in
 * activities (every run goes through the real run workflow: lookup, start, split, features,
 * train, evaluate, log, finish). The largest history of any execution, in events and bytes, stays
 * far below Temporal's limits (50,000 events, 50 MB), and the progress query answers across
 * continue-as-new. The figures go to {@code target/campaign-scale.md}.
 * {@code -Dpromptline.scale.runs=N} changes the size (default 10,000).
 */
class CampaignScaleTest {
  static final int RUNS = Integer.getInteger("promptline.scale.runs", 10_000);

  /** Temporal's default limits, and the much lower ceilings this test holds the campaign to. */
  static final int EVENT_LIMIT = 51_200;
  static final long BYTE_LIMIT = 50L << 20;
  static final int EVENT_CEILING = 10_000;
  static final long BYTE_CEILING = 4L << 20;

  static CampaignSpec grid(int runs) {
    int seeds = runs / 10;
    List<CampaignSpec.MethodSpec> methods = List.of(new CampaignSpec.MethodSpec("zsclip", TrainParams.coopDefaults(0)),
        new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(2)));
    return new CampaignSpec("scale", "exp", List.of(new DatasetRef("EuroSAT", "/d", "f")), new ModelRef("m", "/w", "s"), methods,
        List.of(1, 2, 4, 8, 16), IntStream.rangeClosed(1, seeds).boxed().toList(), "base2novel", 64, 0);
  }

  @Test
  void tenThousandRuns_complete_withEveryHistoryFarBelowTheLimits() throws Exception {
    RunWorkflowFailureTest.ScriptedActivities acts = new RunWorkflowFailureTest.ScriptedActivities();
    CampaignSpec spec = grid(RUNS);
    CampaignPlan plan = CampaignPlan.of(spec);
    assertEquals(RUNS, plan.runs().size());
    // real time, not time skipping: nothing here waits on a timer, and skipping only makes the test
    // server fire stale activity-timeout timers. (The test is superlinear either way: 1,000 runs take
    // about 21 s, 10,000 about 550 s on 2 cores; the cause inside the test server is not found yet.)
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(
        io.temporal.testing.TestEnvironmentOptions.newBuilder().setUseTimeskipping(false).build())) {
      WorkerOptions wide = WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(64)
          .setMaxConcurrentWorkflowTaskExecutionSize(64).build();
      Worker cpu = env.newWorker(TaskQueues.CPU, wide);
      cpu.registerWorkflowImplementationTypes(CampaignWorkflowImpl.class, RunWorkflowImpl.class);
      cpu.registerActivitiesImplementations(acts.tracking, acts.data, acts.campaign);
      env.newWorker(TaskQueues.GPU, wide).registerActivitiesImplementations(acts.compute);
      env.start();
      String id = "campaign-scale";
      CampaignWorkflow wf = env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class,
          WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(id).build());
      long t0 = System.nanoTime();
      var execution = WorkflowClient.start(wf::run, acts.request(plan, plan, false, 0));
      WorkflowStub stub = WorkflowStub.fromTyped(wf);
      // the progress query answers while the campaign crosses continue-as-new
      List<Progress> seen = new ArrayList<>();
      while (true) {
        try {
          CampaignResult r = stub.getResult(5, java.util.concurrent.TimeUnit.SECONDS, CampaignResult.class);
          long millis = (System.nanoTime() - t0) / 1_000_000;
          check(env, id, execution.getRunId(), r, seen, millis, acts);
          return;
        } catch (java.util.concurrent.TimeoutException running) {
          seen.add(env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class, id).progress());
        }
      }
    }
  }

  private static void check(TestWorkflowEnvironment env, String id, String firstRunId, CampaignResult r, List<Progress> seen,
      long millis, RunWorkflowFailureTest.ScriptedActivities acts) throws Exception {
    assertEquals(Stages.FINISHED, r.status());
    assertEquals(new CampaignResult.Counts(RUNS, RUNS, 0, 0, 0), r.counts());
    assertEquals(RUNS, acts.results.size(), "every run committed its result");
    // progress only grows, across executions
    for (int i = 1; i < seen.size(); i++) assertTrue(seen.get(i).done() >= seen.get(i - 1).done(), seen.get(i - 1) + " -> " + seen.get(i));
    assertTrue(seen.stream().anyMatch(p -> p.executions() > 1), "progress was answered by a continued execution");

    int executions = 0;
    int maxEvents = 0;
    long maxBytes = 0;
    long totalEvents = 0;
    String runId = firstRunId;
    while (runId != null) {
      WorkflowExecutionHistory h = env.getWorkflowClient().fetchHistory(id, runId);
      executions++;
      int events = h.getEvents().size();
      long bytes = h.getHistory().getSerializedSize();
      totalEvents += events;
      maxEvents = Math.max(maxEvents, events);
      maxBytes = Math.max(maxBytes, bytes);
      HistoryEvent last = h.getLastEvent();
      runId = last.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
          ? last.getWorkflowExecutionContinuedAsNewEventAttributes().getNewExecutionRunId() : null;
    }
    WorkflowExecutionHistory oneRun = env.getWorkflowClient().fetchHistory(RunWorkflow.workflowId(r.runs().isEmpty()
        ? acts.results.keySet().iterator().next() : r.runs().get(0).runKey()));
    int expectedExecutions = (RUNS + CampaignWorkflowImpl.DEFAULT_RUNS_PER_EXECUTION - 1) / CampaignWorkflowImpl.DEFAULT_RUNS_PER_EXECUTION;
    assertEquals(expectedExecutions, executions, "one execution per " + CampaignWorkflowImpl.DEFAULT_RUNS_PER_EXECUTION + " runs");
    assertTrue(maxEvents < EVENT_CEILING, "largest campaign execution: " + maxEvents + " events");
    assertTrue(maxBytes < BYTE_CEILING, "largest campaign execution: " + maxBytes + " bytes");
    assertTrue(r.runs().isEmpty() == (RUNS > CampaignResult.INLINE_RUNS), "results travel as a blob above " + CampaignResult.INLINE_RUNS);
    String report = String.format(Locale.ROOT, """
        # Campaign scale test (CampaignScaleTest, Temporal test environment, stand-in activities)

        | runs | executions (continue-as-new chain) | largest execution: events | largest execution: bytes | all executions: events | one run workflow: events / bytes | wall time |
        |---|---|---|---|---|---|---|
        | %,d | %d | %,d (%.1f%% of %,d) | %,d (%.2f%% of 50 MiB) | %,d | %d / %,d | %.1f s |
        """, RUNS, executions, maxEvents, 100.0 * maxEvents / EVENT_LIMIT, EVENT_LIMIT, maxBytes, 100.0 * maxBytes / BYTE_LIMIT,
        totalEvents, oneRun.getEvents().size(), oneRun.getHistory().getSerializedSize(), millis / 1000.0);
    System.out.println(report);
    Path out = Path.of("target/campaign-scale.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, report);
  }
}
