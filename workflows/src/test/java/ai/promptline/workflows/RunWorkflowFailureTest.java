package ai.promptline.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workflows.api.CampaignActivities;
import ai.promptline.workflows.api.ComputeActivities;
import ai.promptline.workflows.api.DataActivities;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.api.TrackingActivities;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignRequest;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.EvalInput;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.FeatureResult;
import ai.promptline.workflows.model.Stages.LogInput;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.Stages.SplitResult;
import ai.promptline.workflows.model.Stages.StageInput;
import ai.promptline.workflows.model.Stages.TargetInput;
import ai.promptline.workflows.model.Stages.TargetResult;
import ai.promptline.workflows.model.Stages.TargetSplit;
import ai.promptline.workflows.model.Stages.TrainInput;
import ai.promptline.workflows.model.Stages.TrainResult;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Error paths of the orchestration, with scripted activities (the real ones are exercised in the
 * workers module's workflow and integration tests): whatever fails, the tracker run ends in a
 * terminal status and the campaign keeps going.
 */
class RunWorkflowFailureTest {
  private TestWorkflowEnvironment env;
  private final ScriptedActivities acts = new ScriptedActivities();

  @BeforeEach
  void setUp() {
    env = TestWorkflowEnvironment.newInstance();
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

  private CampaignResult runCampaign(CampaignSpec spec) {
    CampaignWorkflow wf = env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class,
        WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId("campaign-test").build());
    return wf.run(acts.request(spec));
  }

  @Test
  void nonRetryableTrainingFailure_marksRunFailed_andCampaignContinues() {
    acts.failTrainingFor.set(1); // seed 1 of coop fails with a bad-input failure
    CampaignResult r = runCampaign(ContentKeysTest.spec(2, 0));
    assertEquals(Stages.FAILED, r.status());
    assertEquals(4, r.runs().size());
    assertEquals(1, r.failed());
    RunResult failed = r.runs().stream().filter(x -> Stages.FAILED.equals(x.status())).findFirst().orElseThrow();
    assertEquals("coop", failed.config().method());
    assertTrue(failed.error().contains("loss became NaN"), failed.error());
    assertEquals(1, acts.trainAttempts.get(), "InvalidInput must not be retried");
    // every tracker run ended in a terminal status; the failed one says why
    acts.statuses.forEach((run, status) -> assertTrue(List.of("FINISHED", "FAILED").contains(status), run + " " + status));
    assertEquals(1, acts.statuses.values().stream().filter("FAILED"::equals).count());
    assertEquals("FAILED", acts.campaignStatus.get(0));
  }

  @Test
  void transientFailure_isRetried_andRunFinishes() {
    acts.transientTrainFailures.set(2);
    CampaignResult r = runCampaign(ContentKeysTest.spec(1, 0));
    assertEquals(Stages.FINISHED, r.status());
    assertEquals(0, r.failed());
    assertEquals("FINISHED", acts.campaignStatus.get(0));
  }

  @Test
  void finishedRuns_areReused_notRecomputed() {
    CampaignSpec spec = ContentKeysTest.spec(2, 0);
    runCampaign(spec);
    int trained = acts.trainCalls.get();
    CampaignWorkflow again = env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class,
        WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId("campaign-test-2").build());
    CampaignResult r = again.run(acts.request(spec));
    assertEquals(trained, acts.trainCalls.get(), "no run may train again");
    assertEquals(4, r.counts().reused(), "every run was found finished: " + r.counts());
    assertEquals(0, r.counts().finished());
    assertTrue(r.runs().stream().allMatch(RunResult::reused), "a small campaign's rows say reused");
  }

  @Test
  void cancelledCampaign_marksRunningRunsKilled_andClosesTheParent() throws Exception {
    acts.blockTraining.set(true);
    CampaignWorkflow wf = env.getWorkflowClient().newWorkflowStub(CampaignWorkflow.class,
        WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId("campaign-cancel").build());
    io.temporal.client.WorkflowClient.start(wf::run, acts.request(ContentKeysTest.spec(2, 5)));
    assertTrue(acts.trainingStarted.await(30, java.util.concurrent.TimeUnit.SECONDS), "training never started");
    io.temporal.client.WorkflowStub.fromTyped(wf).cancel();
    org.junit.jupiter.api.Assertions.assertThrows(io.temporal.client.WorkflowFailedException.class,
        () -> io.temporal.client.WorkflowStub.fromTyped(wf).getResult(CampaignResult.class));
    assertTrue(acts.statuses.containsValue("KILLED"), acts.statuses.toString());
    assertTrue(acts.statuses.values().stream().noneMatch("RUNNING"::equals), acts.statuses.toString());
    assertEquals(List.of("KILLED"), acts.campaignStatus);
  }

  @Test
  void crossDatasetRun_evaluatesEveryTargetInOrder_afterTheSource_andLogsTheirResults() {
    CampaignResult r = runCampaign(ContentKeysTest.crossDatasetSpec(
        new DatasetRef("DescribableTextures", "/t/dtd", "fp-dtd"), new DatasetRef("OxfordPets", "/t/pets", "fp-pets")));
    assertEquals(Stages.FINISHED, r.status());
    assertEquals(1, r.runs().size());
    assertEquals(List.of("split:DescribableTextures", "eval:DescribableTextures", "split:OxfordPets", "eval:OxfordPets"),
        acts.targetCalls);
    RunResult run = r.runs().get(0);
    EvalResult eval = run.eval();
    assertEquals(80, eval.accBase(), "the source accuracy is kept");
    assertEquals(List.of(new TargetResult("DescribableTextures", "fp-DescribableTextures", 20, 6),
        new TargetResult("OxfordPets", "fp-OxfordPets", 40, 6)), eval.targets());
    assertEquals(30, eval.targetMean(), 1e-12);
    assertEquals(eval, acts.results.get(run.runKey()).eval(), "logRun received the target results");
    assertEquals(Map.of("run-" + run.runKey(), "FINISHED"), acts.statuses);
  }

  @Test
  void crossDatasetTargetWithADatasetError_failsTheRunAtOnce_andClosesItsTrackerRun() {
    CampaignResult r = runCampaign(ContentKeysTest.crossDatasetSpec(
        new DatasetRef("DescribableTextures", "/t/dtd", "fp-dtd"), new DatasetRef("Caltech101", "/t/caltech", "fp-c")));
    assertEquals(Stages.FAILED, r.status());
    RunResult run = r.runs().get(0);
    assertEquals(Stages.FAILED, run.status());
    assertTrue(run.error().contains("dataset Caltech101: split file not found"), run.error());
    assertEquals(2, acts.targetSplitAttempts.get(), "DatasetError must not be retried (one call per target)");
    assertEquals(List.of("split:DescribableTextures", "eval:DescribableTextures"), acts.targetCalls);
    assertTrue(acts.results.isEmpty(), "nothing committed for a failed run");
    assertEquals(List.of("FAILED"), List.copyOf(acts.statuses.values()), "the tracker run is closed as FAILED");
    assertEquals(List.of("FAILED"), acts.campaignStatus);
  }

  @Test
  void runWithoutTargets_neverCallsTheTargetStages() {
    runCampaign(ContentKeysTest.spec(2, 0));
    assertEquals(0, acts.targetSplitAttempts.get());
    assertTrue(acts.targetCalls.isEmpty());
  }

  /** Activities that follow a script; they record what the workflows asked of them. */
  static final class ScriptedActivities {
    final AtomicInteger failTrainingFor = new AtomicInteger(-1);
    final AtomicInteger transientTrainFailures = new AtomicInteger(0);
    final AtomicInteger trainAttempts = new AtomicInteger();
    final AtomicInteger trainCalls = new AtomicInteger();
    /** Calls of train that began (any method, any outcome). */
    final AtomicInteger trainEntered = new AtomicInteger();
    /** When set, each train call takes a permit first. */
    volatile java.util.concurrent.Semaphore trainGate;
    /** Only trains of this seed wait at the gate (-1: all). */
    volatile int gateSeed = -1;
    final java.util.concurrent.atomic.AtomicBoolean blockTraining = new java.util.concurrent.atomic.AtomicBoolean();
    final java.util.concurrent.CountDownLatch trainingStarted = new java.util.concurrent.CountDownLatch(1);
    final Map<String, String> statuses = new ConcurrentHashMap<>();
    final Map<String, RunResult> results = new ConcurrentHashMap<>();
    final List<String> campaignStatus = new CopyOnWriteArrayList<>();

    final TrackingActivities tracking = new TrackingActivities() {
      @Override
      public RunResult lookupFinished(String runKey) {
        return results.get(runKey);
      }

      @Override
      public String startCampaign(String campaignKey, CampaignSpec spec, String workflowId) {
        return "parent";
      }

      @Override
      public String startRun(String runKey, RunConfig config, String parentRunId, String workflowId) {
        statuses.put("run-" + runKey, "RUNNING");
        return "run-" + runKey;
      }

      @Override
      public RunResult logRun(LogInput in) {
        RunResult r = new RunResult(in.run().runKey(), in.run().config(), in.run().mlflowRunId(), Stages.FINISHED,
            in.eval(), false, null);
        results.put(in.run().runKey(), r);
        return r;
      }

      @Override
      public void finishRun(String id, String status, String message) {
        statuses.put(id, status);
      }

      @Override
      public void closeIfRunning(String runKey, String status, String message) {
        statuses.computeIfPresent("run-" + runKey, (k, s) -> s.equals("RUNNING") ? status : s);
      }

      @Override
      public void finishCampaign(String campaignKey, String id, String status, List<RunResult> runs) {
        campaignStatus.add(status);
      }
    };

    /** Calls of the target stages in order, e.g. {@code split:DescribableTextures}, {@code eval:DescribableTextures}. */
    final List<String> targetCalls = new CopyOnWriteArrayList<>();
    final AtomicInteger targetSplitAttempts = new AtomicInteger();

    /** Plans by SHA-256, as the object store would hold them. */
    final Map<String, CampaignPlan> plans = new ConcurrentHashMap<>();
    final AtomicInteger planSlices = new AtomicInteger();
    final List<CampaignActivities.CampaignClose> closes = new CopyOnWriteArrayList<>();

    /** The request the submitter would send for {@code spec}'s whole grid. */
    CampaignRequest request(CampaignSpec spec) {
      return request(CampaignPlan.of(spec), CampaignPlan.of(spec), false, 0);
    }

    /** A request that works through {@code plan} (a subset of, or equal to, {@code full}). */
    CampaignRequest request(CampaignPlan plan, CampaignPlan full, boolean indexed, int runsPerExecution) {
      BlobRef ref = store(plan);
      BlobRef fullRef = store(full);
      return new CampaignRequest(full.campaignKey(), full.spec(), ref, plan.runs().size(), fullRef, full.runs().size(), indexed,
          runsPerExecution, null);
    }

    BlobRef store(CampaignPlan plan) {
      String sha = ContentKeys.sha256Hex(ContentKeys.canonicalJson(plan));
      plans.put(sha, plan);
      return new BlobRef("campaigns/" + plan.campaignKey() + "/plans/" + sha + ".json", sha, 1);
    }

    final CampaignActivities campaign = new CampaignActivities() {
      @Override
      public List<CampaignPlan.PlannedRun> planSlice(BlobRef plan, int from, int count) {
        planSlices.incrementAndGet();
        List<CampaignPlan.PlannedRun> runs = plans.get(plan.sha256()).runs();
        return new java.util.ArrayList<>(runs.subList(from, Math.min(runs.size(), from + count)));
      }

      @Override
      public CampaignResult closeCampaign(CampaignActivities.CampaignClose close) {
        closes.add(close);
        campaignStatus.add(close.status());
        Map<String, CampaignRequest.RunFailure> failures = new java.util.HashMap<>();
        close.failures().forEach(f -> failures.put(f.runKey(), f));
        List<RunResult> rows = new java.util.ArrayList<>();
        for (CampaignPlan.PlannedRun p : plans.get(close.fullPlan().sha256()).runs()) {
          RunResult r = results.get(p.runKey());
          CampaignRequest.RunFailure f = failures.get(p.runKey());
          if (r != null && close.reusedKeys().contains(p.runKey())) r = r.asReused();
          rows.add(r != null ? r : new RunResult(p.runKey(), p.config(), null, f == null ? "NOT_STARTED" : f.status(), null, false,
              f == null ? null : f.message()));
        }
        // as CampaignActivitiesImpl: rows inline only for small campaigns (the blob ref is not modelled here)
        return new CampaignResult(close.campaignKey(), close.parentRunId(), close.status(),
            rows.size() <= CampaignResult.INLINE_RUNS ? rows : List.of(), close.counts(), close.reason(), null);
      }
    };

    final DataActivities data = new DataActivities() {
      @Override
      public SplitResult split(StageInput run) {
        return new SplitResult(new BlobRef("runs/x/split.json", "00", 2), "fp", "a photo of a {}.",
            List.of("a"), List.of("b"), 4, 4, 4);
      }

      @Override
      public TargetSplit targetSplit(StageInput run, DatasetRef target) {
        targetSplitAttempts.incrementAndGet();
        if (target.name().equals("Caltech101")) // what DataActivitiesImpl raises for a broken dataset
          throw ApplicationFailure.newNonRetryableFailure("dataset Caltech101: split file not found: /t/x.json", "DatasetError");
        targetCalls.add("split:" + target.name());
        return new TargetSplit(target.name(), new BlobRef("runs/x/targets/" + target.name() + ".json", "00", 2),
            "fp-" + target.name(), "{} texture.", 3, 6);
      }
    };

    final ComputeActivities compute = new ComputeActivities() {
      @Override
      public FeatureResult cacheFeatures(StageInput run, SplitResult split) {
        return new FeatureResult("k", null, null, null, 8, 1, false);
      }

      @Override
      public TrainResult train(TrainInput input) {
        trainEntered.incrementAndGet();
        java.util.concurrent.Semaphore gate = trainGate;
        if (gate != null && (gateSeed < 0 || gateSeed == input.run().config().seed())) { // training that waits for the test to let it finish (heartbeating, so cancellable)
          try {
            while (!gate.tryAcquire(20, java.util.concurrent.TimeUnit.MILLISECONDS))
              io.temporal.activity.Activity.getExecutionContext().heartbeat(null);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        }
        if (!input.run().config().method().equals("coop")) return new TrainResult(null, 0, 0, 0, 0, 0);
        if (blockTraining.get()) { // a long training that only stops when cancelled (seen at a heartbeat)
          trainingStarted.countDown();
          for (int i = 0; i < 600; i++) {
            io.temporal.activity.Activity.getExecutionContext().heartbeat(i);
            try {
              Thread.sleep(50);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException(e);
            }
          }
          throw new IllegalStateException("training was never cancelled");
        }
        if (input.run().config().seed() == failTrainingFor.get()) {
          trainAttempts.incrementAndGet();
          throw ApplicationFailure.newNonRetryableFailure("loss became NaN at epoch 1; lower the learning rate", "InvalidInput");
        }
        if (transientTrainFailures.getAndDecrement() > 0) throw new IllegalStateException("MinIO: connection reset");
        trainCalls.incrementAndGet();
        return new TrainResult(new BlobRef("p", "00", 1), 2, 0, 0.5, 8, 1);
      }

      @Override
      public EvalResult evaluate(EvalInput input) {
        return new EvalResult(80, 60, EvalResult.harmonicMean(80, 60), 4, 4);
      }

      @Override
      public TargetResult evaluateTarget(TargetInput input) {
        targetCalls.add("eval:" + input.target().name());
        assertEquals(input.target().name(), input.split().dataset(), "the split of this target");
        return new TargetResult(input.split().dataset(), input.split().fingerprint(), 10 * targetCalls.size(), 6);
      }
    };
  }

  @Test
  void harmonicMean_isZeroWhenBothAreZero() {
    assertEquals(0, EvalResult.harmonicMean(0, 0));
    assertEquals(2 * 80 * 60 / 140.0, EvalResult.harmonicMean(80, 60), 1e-12);
  }
}
