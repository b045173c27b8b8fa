package ai.promptline.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.ActivityTaskScheduledEventAttributes;
import io.temporal.api.history.v1.History;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The activity retry options outlast an outage (many more attempts than the old 5/10, with
 * backoff up to a minute), while bad input still fails at once (RunWorkflowFailureTest); and
 * histories recorded with the old options replay on this code, so running campaigns survive the
 * upgrade.
 */
class ActivityOptionsReplayTest {
  private TestWorkflowEnvironment env;
  private final RunWorkflowFailureTest.ScriptedActivities acts = new RunWorkflowFailureTest.ScriptedActivities();

  @BeforeEach
  void setUp() {
    env = TestWorkflowEnvironment.newInstance();
    Worker cpu = env.newWorker(ai.promptline.workflows.api.TaskQueues.CPU);
    cpu.registerWorkflowImplementationTypes(CampaignWorkflowImpl.class, RunWorkflowImpl.class);
    cpu.registerActivitiesImplementations(acts.tracking, acts.data, acts.campaign);
    env.newWorker(ai.promptline.workflows.api.TaskQueues.GPU).registerActivitiesImplementations(acts.compute);
    env.start();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  private CampaignResult run(String id) {
    return env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class, WorkflowOptions.newBuilder()
        .setTaskQueue(ai.promptline.workflows.api.TaskQueues.CPU).setWorkflowId(id).build()).run(acts.request(ContentKeysTest.spec(1, 0)));
  }

  /** 12 transient failures in a row (the old policy gave up after 5): about 8 minutes of backoff, then the run finishes. */
  @Test
  void aLongOutage_isRetriedThrough_andTheRunFinishes() {
    acts.transientTrainFailures.set(12);
    long t0 = env.currentTimeMillis();
    CampaignResult r = run("campaign-outage");
    assertEquals(Stages.FINISHED, r.status(), r.runs().toString());
    assertEquals(0, r.failed());
    long waited = env.currentTimeMillis() - t0;
    assertTrue(waited >= 5 * 60_000, "the retries spanned more than 5 minutes (test-server time): " + waited + " ms");
  }

  @Test
  void scheduledActivities_carryTheLongRetryOptions() {
    CampaignResult r = run("campaign-options");
    String coop = r.runs().stream().filter(x -> x.config().method().equals("coop")).findFirst().orElseThrow().runKey();
    Map<String, ActivityTaskScheduledEventAttributes> byType = new TreeMap<>();
    for (HistoryEvent e : env.getWorkflowClient().fetchHistory(RunWorkflow.workflowId(coop)).getEvents())
      if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        byType.putIfAbsent(e.getActivityTaskScheduledEventAttributes().getActivityType().getName(),
            e.getActivityTaskScheduledEventAttributes());
    ActivityTaskScheduledEventAttributes train = byType.get("Train");
    assertEquals(ActivityStubs.MAX_ATTEMPTS, train.getRetryPolicy().getMaximumAttempts());
    assertEquals(60, train.getRetryPolicy().getMaximumInterval().getSeconds());
    assertEquals(60, train.getHeartbeatTimeout().getSeconds());
    assertTrue(train.getRetryPolicy().getNonRetryableErrorTypesList().containsAll(List.of(ActivityStubs.NON_RETRYABLE)));
    ActivityTaskScheduledEventAttributes start = byType.get("StartRun");
    assertEquals(ActivityStubs.MAX_ATTEMPTS, start.getRetryPolicy().getMaximumAttempts());
    assertEquals(15 * 60, start.getStartToCloseTimeout().getSeconds());
  }

  /** The same histories with the options the previous version scheduled (5/10 attempts, 2 min/30 s, 5 min) replay. */
  @Test
  void historiesWithThePreviousOptions_replayOnThisCode() throws Exception {
    CampaignResult r = run("campaign-replay");
    WorkflowReplayer.replayWorkflowExecution(withOldOptions(env.getWorkflowClient().fetchHistory("campaign-replay")),
        CampaignWorkflowImpl.class);
    for (RunResult run : r.runs())
      WorkflowReplayer.replayWorkflowExecution(withOldOptions(env.getWorkflowClient().fetchHistory(
          RunWorkflow.workflowId(run.runKey()))), RunWorkflowImpl.class);
  }

  private static WorkflowExecutionHistory withOldOptions(WorkflowExecutionHistory h) {
    List<HistoryEvent> events = new ArrayList<>();
    int changed = 0;
    for (HistoryEvent e : h.getEvents()) {
      if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        ActivityTaskScheduledEventAttributes.Builder a = e.getActivityTaskScheduledEventAttributes().toBuilder();
        boolean gpu = a.getTaskQueue().getName().equals(ai.promptline.workflows.api.TaskQueues.GPU);
        a.setRetryPolicy(a.getRetryPolicy().toBuilder().setMaximumAttempts(gpu ? 5 : 10)
            .setMaximumInterval(com.google.protobuf.Duration.newBuilder().setSeconds(gpu ? 120 : 30)));
        if (a.getStartToCloseTimeout().getSeconds() == 15 * 60)
          a.setStartToCloseTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(5 * 60));
        e = e.toBuilder().setActivityTaskScheduledEventAttributes(a).build();
        changed++;
      }
      events.add(e);
    }
    assertTrue(changed > 0, "the history schedules activities");
    return new WorkflowExecutionHistory(History.newBuilder().addAllEvents(events).build(), h.getWorkflowExecution().getWorkflowId());
  }
}
