package ai.promptline.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workflows.CampaignWorkflow.Progress;
import ai.promptline.workflows.api.SearchAttrs;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignPlan.PlannedRun;
import ai.promptline.workflows.model.CampaignRequest;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.FailurePolicy;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every control of the campaign workflow in Temporal's test environment, with scripted activities:
 * pause and resume, cancel, recover, reuse of another campaign's runs (--from), the failure
 * policies, continue-as-new with the counters and the pause carried over, search attributes.
 * Grid of {@link ContentKeysTest#spec}: zsclip s1, zsclip s2, coop s1, coop s2.
 */
@org.junit.jupiter.api.Timeout(60)
class CampaignControlTest {
  private TestWorkflowEnvironment env;
  private final RunWorkflowFailureTest.ScriptedActivities acts = new RunWorkflowFailureTest.ScriptedActivities();

  static void registerSearchAttributes(TestWorkflowEnvironment env) {
    for (String[] a : SearchAttrs.ALL)
      env.registerSearchAttribute(a[0], a[1].equals("Int") ? IndexedValueType.INDEXED_VALUE_TYPE_INT
          : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
  }

  @BeforeEach
  void setUp() {
    env = TestWorkflowEnvironment.newInstance();
    registerSearchAttributes(env);
    Worker cpu = env.newWorker(TaskQueues.CPU);
    cpu.registerWorkflowImplementationTypes(CampaignWorkflowImpl.class, RunWorkflowImpl.class);
    cpu.registerActivitiesImplementations(acts.tracking, acts.data, acts.campaign);
    env.newWorker(TaskQueues.GPU).registerActivitiesImplementations(acts.compute);
    env.start();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  private CampaignWorkflow stub(String id) {
    return env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class,
        WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(id).build());
  }

  private WorkflowStub start(String id, CampaignRequest request) {
    CampaignWorkflow wf = stub(id);
    WorkflowClient.start(wf::run, request);
    return WorkflowStub.fromTyped(wf);
  }

  private Progress progress(String id) {
    return env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class, id).progress();
  }

  private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
      Thread.sleep(20);
    }
  }

  private CampaignRequest request(CampaignSpec spec, int runsPerExecution) {
    CampaignPlan plan = CampaignPlan.of(spec);
    return acts.request(plan, plan, true, runsPerExecution);
  }

  @Test
  void pause_startsNoNewRun_letsTheRunningOneFinish_andResumeCompletesTheCampaign() throws Exception {
    acts.trainGate = new Semaphore(0);
    WorkflowStub wf = start("campaign-pause", request(ContentKeysTest.spec(1, 0), 0));
    waitUntil("the first run trains", () -> acts.trainEntered.get() == 1);
    wf.signal("pause");
    waitUntil("the pause is seen", () -> progress("campaign-pause").paused());
    acts.trainGate.release(); // the running run finishes
    waitUntil("the running run finished", () -> progress("campaign-pause").finished() == 1);
    Thread.sleep(1500); // a paused campaign starts nothing, however long it waits
    Progress p = progress("campaign-pause");
    assertEquals(1, acts.trainEntered.get(), "no run started while paused: " + p);
    assertEquals(0, p.running());
    assertEquals(3, p.pending());
    assertEquals("paused", p.state());
    wf.signal("resume");
    acts.trainGate.release(100);
    CampaignResult r = wf.getResult(CampaignResult.class);
    assertEquals(Stages.FINISHED, r.status());
    assertEquals(new CampaignResult.Counts(4, 4, 0, 0, 0), r.counts());
    assertEquals(4, r.runs().size());
  }

  @Test
  void aPause_survivesContinueAsNew_withTheCountersAndTheWindow() throws Exception {
    acts.trainGate = new Semaphore(0);
    WorkflowStub wf = start("campaign-pause-can", request(ContentKeysTest.spec(1, 0), 1)); // one run per execution
    waitUntil("the first run trains", () -> acts.trainEntered.get() == 1);
    wf.signal("pause");
    waitUntil("the pause is seen", () -> progress("campaign-pause-can").paused());
    acts.trainGate.release();
    waitUntil("the next execution runs", () -> progress("campaign-pause-can").executions() == 2);
    Progress p = progress("campaign-pause-can");
    assertTrue(p.paused(), "the pause is carried into the new execution: " + p);
    assertEquals(1, p.finished());
    assertEquals(3, p.pending());
    Thread.sleep(1000);
    assertEquals(1, acts.trainEntered.get(), "still nothing new starts");
    wf.signal("resume");
    acts.trainGate.release(100);
    CampaignResult r = wf.getResult(CampaignResult.class);
    assertEquals(new CampaignResult.Counts(4, 4, 0, 0, 0), r.counts());
    assertEquals(4, progress("campaign-pause-can").executions(), "one execution per run: the counters crossed three continue-as-new");
  }

  @Test
  void continueAsNew_keepsProgress_andTheResultCoversEveryRun() {
    acts.failTrainingFor.set(2); // coop seed 2 fails
    CampaignResult r = stub("campaign-can").run(request(ContentKeysTest.spec(2, 0), 1));
    assertEquals(Stages.FAILED, r.status());
    assertEquals(new CampaignResult.Counts(4, 3, 0, 1, 0), r.counts());
    assertEquals(4, r.runs().size());
    assertEquals(List.of(Stages.FINISHED, Stages.FINISHED, Stages.FINISHED, Stages.FAILED),
        r.runs().stream().map(RunResult::status).toList());
    assertTrue(r.reason().contains("1 of 4 runs did not finish"), r.reason());
    Progress p = progress("campaign-can");
    assertEquals(4, p.done());
    assertEquals(1, p.recentFailures().size(), "the failure crossed the continue-as-new");
    assertTrue(p.recentFailures().get(0).message().contains("loss became NaN"));
    assertTrue(p.executions() >= 2, "the campaign continued as new: " + p.executions());
  }

  @Test
  void cancel_killsTheRunningRuns_startsNoOther_andClosesTheParentKilled() throws Exception {
    acts.trainGate = new Semaphore(0);
    WorkflowStub wf = start("campaign-cancel", request(ContentKeysTest.spec(2, 0), 0));
    waitUntil("two runs train", () -> acts.trainEntered.get() == 2);
    wf.cancel();
    assertThrows(WorkflowFailedException.class, () -> wf.getResult(CampaignResult.class));
    assertEquals(2, acts.trainEntered.get(), "nothing started after the cancel");
    assertEquals(2, acts.statuses.values().stream().filter("KILLED"::equals).count(), acts.statuses.toString());
    assertTrue(acts.statuses.values().stream().noneMatch("RUNNING"::equals), acts.statuses.toString());
    assertEquals(List.of(Stages.KILLED), acts.campaignStatus);
    assertEquals(new CampaignResult.Counts(4, 0, 0, 0, 2), acts.closes.get(0).counts());
    assertEquals(2, acts.closes.get(0).counts().notStarted());
  }

  @Test
  void recover_runsOnlyTheRunsWithoutAResult_andTheSummaryCoversTheWholeGrid() {
    acts.failTrainingFor.set(1);
    CampaignSpec spec = ContentKeysTest.spec(2, 0);
    CampaignResult first = stub("campaign-recover").run(request(spec, 0));
    assertEquals(Stages.FAILED, first.status());
    int trained = acts.trainCalls.get();
    acts.failTrainingFor.set(-1); // the cause was fixed
    CampaignPlan full = CampaignPlan.of(spec);
    CampaignPlan todo = new CampaignPlan(full.campaignKey(), spec,
        full.runs().stream().filter(r -> !acts.results.containsKey(r.runKey())).toList());
    assertEquals(1, todo.runs().size());
    CampaignResult again = stub("campaign-recover").run(acts.request(todo, full, true, 0));
    assertEquals(Stages.FINISHED, again.status());
    assertEquals(trained + 1, acts.trainCalls.get(), "only the failed run trained again");
    assertEquals(new CampaignResult.Counts(1, 1, 0, 0, 0), again.counts());
    assertEquals(4, again.runs().size(), "the summary covers the whole grid");
    assertTrue(again.runs().stream().allMatch(r -> Stages.FINISHED.equals(r.status())));
  }

  @Test
  void from_reusesTheOtherCampaignsFinishedRuns_withoutStartingThem() {
    CampaignSpec spec = ContentKeysTest.spec(2, 0);
    stub("campaign-a").run(request(spec, 0));
    int lookups = acts.statuses.size();
    CampaignPlan full = CampaignPlan.of(spec);
    CampaignPlan reuse = new CampaignPlan(full.campaignKey(), spec,
        full.runs().stream().map(r -> new PlannedRun(r.runKey(), r.config(), true)).toList());
    CampaignResult b = stub("campaign-b").run(acts.request(reuse, full, true, 0));
    assertEquals(Stages.FINISHED, b.status());
    assertEquals(new CampaignResult.Counts(4, 0, 4, 0, 0), b.counts());
    assertEquals(lookups, acts.statuses.size(), "no run workflow ran");
  }

  @Test
  void failFast_stopsAtTheFirstFailure_andCancelsTheRunningRuns() {
    acts.failTrainingFor.set(1);
    // zsclip seed 2 trains until cancelled; coop seed 1 fails next to it; coop seed 2 must never start
    acts.trainGate = new Semaphore(0);
    acts.gateSeed = 2;
    CampaignSpec spec = ContentKeysTest.spec(2, 0).withFailurePolicy(FailurePolicy.failFastPolicy());
    CampaignResult r = stub("campaign-ff").run(request(spec, 0));
    assertEquals(Stages.FAILED, r.status());
    assertTrue(r.reason().startsWith("failFast"), r.reason());
    assertEquals(new CampaignResult.Counts(4, 1, 0, 1, 1), r.counts());
    assertEquals(List.of(Stages.FINISHED, Stages.KILLED, Stages.FAILED, "NOT_STARTED"),
        r.runs().stream().map(RunResult::status).toList());
    assertEquals(3, acts.trainEntered.get());
    assertTrue(acts.statuses.values().stream().noneMatch("RUNNING"::equals), acts.statuses.toString());
  }

  @Test
  void failFast_withOneRunAtATime_startsNothingAfterTheFailure() {
    acts.failTrainingFor.set(1);
    // coop seed 1 is the third run; with one run at a time the fourth never starts
    CampaignSpec spec = ContentKeysTest.spec(1, 0).withFailurePolicy(FailurePolicy.failFastPolicy());
    CampaignResult r = stub("campaign-ff1").run(request(spec, 0));
    assertEquals(new CampaignResult.Counts(4, 2, 0, 1, 0), r.counts());
    assertEquals(3, acts.trainEntered.get());
    assertEquals("NOT_STARTED", r.runs().get(3).status());
  }

  @Test
  void maxFailures_toleratesUpToN_theCampaignFinishes() {
    acts.failTrainingFor.set(1);
    CampaignSpec spec = ContentKeysTest.spec(1, 0).withFailurePolicy(FailurePolicy.maxFailures(1));
    CampaignResult r = stub("campaign-mf").run(request(spec, 0));
    assertEquals(Stages.FINISHED, r.status(), r.reason());
    assertEquals(new CampaignResult.Counts(4, 3, 0, 1, 0), r.counts());
  }

  @Test
  void maxFailuresZero_stopsAtTheFirstFailure() {
    acts.failTrainingFor.set(1);
    CampaignSpec spec = ContentKeysTest.spec(1, 0).withFailurePolicy(FailurePolicy.maxFailures(0));
    CampaignResult r = stub("campaign-mf0").run(request(spec, 0));
    assertEquals(Stages.FAILED, r.status());
    assertTrue(r.reason().contains("maxFailures 0 exceeded"), r.reason());
    assertEquals(1, r.counts().notStarted());
  }

  @Test
  void minSuccessRatio_stopsWhenItCanNoLongerBeReached() {
    acts.failTrainingFor.set(1);
    CampaignSpec strict = ContentKeysTest.spec(1, 0).withFailurePolicy(FailurePolicy.minSuccessRatio(0.9));
    CampaignResult r = stub("campaign-ratio").run(request(strict, 0));
    assertEquals(Stages.FAILED, r.status());
    assertTrue(r.reason().contains("minSuccessRatio 0.9 can no longer be reached"), r.reason());
    assertEquals(1, r.counts().notStarted());
  }

  @Test
  void minSuccessRatio_met_theCampaignFinishesDespiteAFailure() {
    acts.failTrainingFor.set(1);
    CampaignSpec lenient = ContentKeysTest.spec(1, 0).withFailurePolicy(FailurePolicy.minSuccessRatio(0.75));
    CampaignResult r = stub("campaign-ratio-ok").run(request(lenient, 0));
    assertEquals(Stages.FINISHED, r.status());
    assertEquals(new CampaignResult.Counts(4, 3, 0, 1, 0), r.counts());
  }

  @Test
  void runs_carrySearchAttributes_phaseAndStatus_andAHumanSummary() {
    acts.failTrainingFor.set(1);
    CampaignResult r = stub("campaign-index").run(request(ContentKeysTest.spec(2, 0), 0));
    RunResult failed = r.runs().stream().filter(x -> Stages.FAILED.equals(x.status())).findFirst().orElseThrow();
    RunResult ok = r.runs().get(0);
    var failedAttrs = describe(RunWorkflow.workflowId(failed.runKey()));
    assertEquals("coop", failedAttrs.get(SearchAttrs.METHOD));
    assertEquals("EuroSAT", failedAttrs.get(SearchAttrs.DATASET));
    assertEquals(4L, failedAttrs.get(SearchAttrs.SHOTS));
    assertEquals(1L, failedAttrs.get(SearchAttrs.SEED));
    assertEquals("campaign-index", failedAttrs.get(SearchAttrs.CAMPAIGN));
    assertEquals("base2novel", failedAttrs.get(SearchAttrs.PROTOCOL));
    assertEquals("m", failedAttrs.get(SearchAttrs.MODEL));
    assertEquals("failed", failedAttrs.get(SearchAttrs.PHASE));
    assertEquals("FAILED", failedAttrs.get(SearchAttrs.RUN_STATUS));
    var okAttrs = describe(RunWorkflow.workflowId(ok.runKey()));
    assertEquals("done", okAttrs.get(SearchAttrs.PHASE));
    assertEquals("FINISHED", okAttrs.get(SearchAttrs.RUN_STATUS));
    assertEquals("zsclip · EuroSAT · 4 shots · seed 1", CampaignWorkflowImpl.summary(ok.config()));
  }

  @Test
  void unindexedRequests_setNoSearchAttributes() {
    CampaignPlan plan = CampaignPlan.of(ContentKeysTest.spec(2, 0));
    CampaignResult r = stub("campaign-plain").run(acts.request(plan, plan, false, 0));
    var attrs = describe(RunWorkflow.workflowId(r.runs().get(0).runKey()));
    assertFalse(attrs.containsKey(SearchAttrs.PHASE));
  }

  private io.temporal.common.SearchAttributes describe(String workflowId) {
    var d = env.getWorkflowClient().newUntypedWorkflowStub(workflowId).describe();
    assertNotNull(d);
    return d.getTypedSearchAttributes();
  }
}
