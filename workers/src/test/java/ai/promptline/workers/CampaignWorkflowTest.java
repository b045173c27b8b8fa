package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.Backends;
import ai.promptline.activities.ModelCache;
import ai.promptline.activities.TrackingActivitiesImpl;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.workflows.CampaignWorkflowImpl;
import ai.promptline.workflows.RunWorkflowImpl;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline in Temporal's test environment with the real activities: real dataset files,
 * a real (tiny) CLIP, real training; the object store and the tracker are their file-system
 * implementations. The same campaign against real services is in {@code LocalServicesIT}.
 */
class CampaignWorkflowTest {
  @TempDir static Path dir;
  static TestWorkflowEnvironment env;
  static FileTracker tracker;
  static LocalObjectStore store;
  static ModelCache models = new ModelCache();
  static CampaignSpec spec;
  static CampaignResult first;
  static String firstWorkflowId;

  @BeforeAll
  static void runOnce() {
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    tracker = new FileTracker(dir.resolve("mlflow"));
    store = new LocalObjectStore(dir.resolve("store"));
    env = TestWorkflowEnvironment.newInstance();
    PromptlineWorker.register((q, o) -> env.newWorker(q, io.temporal.worker.WorkerOptions.newBuilder(o).build()),
        new Backends(store, tracker, new SimpleMeterRegistry()), new PromptlineWorker.Options(
            java.util.Set.of("cpu", "gpu"), 1, 2), models);
    env.start();
    spec = Demo.campaignFile(assets, new Demo.Options(null, List.of(1), List.of(16), List.of("zsclip", "coop"))).plan(Path.of("."));
    firstWorkflowId = CampaignSubmitter.workflowId(spec);
    WorkflowStub stub = CampaignSubmitter.start(env.getWorkflowClient(), store, spec);
    first = stub.getResult(CampaignResult.class);
  }

  @AfterAll
  static void close() {
    env.close();
    models.close();
  }

  @Test
  void campaign_finishesEveryRun_withAccuraciesAndHm() {
    assertEquals(Stages.FINISHED, first.status(), Demo.table(first.runs()));
    assertEquals(2, first.runs().size());
    for (RunResult r : first.runs()) {
      assertEquals(Stages.FINISHED, r.status());
      assertFalse(r.reused());
      assertTrue(r.eval().accBase() >= 0 && r.eval().accBase() <= 100);
      assertEquals(Stages.EvalResult.harmonicMean(r.eval().accBase(), r.eval().accNovel()), r.eval().hm(), 1e-9);
      assertEquals(12 * 25, r.eval().baseTotal(), "24 Scenes classes: 12 base x 25 test images");
      assertEquals(12 * 25, r.eval().novelTotal());
      assertEquals(ContentKeys.runKey(r.config()), r.runKey());
      assertTrue(store.exists("runs/" + r.runKey() + "/result.json"));
    }
  }

  /**
   * Learning, not plumbing: with the shipped pretrained tiny CLIP, CoOp's learned context beats the
   * hand template on the base classes. Measured with this recipe (the demo's: 16 shots, 100 epochs,
   * batch 32, lr 0.002) in the demo campaign, seeds 1-3: CoOp base 87.0, 90.7, 89.3 against
   * zero-shot 79.0 (+8.0, +11.7, +10.3; this test runs seed 1). The margin asserted (6) is below
   * the smallest of those; CoOp at 4 shots and the other methods are in the README's table.
   */
  @Test
  void coop_beatsZeroShotOnTheBaseClasses() {
    double zs = first.runs().stream().filter(r -> r.config().method().equals("zsclip")).findFirst().orElseThrow().eval().accBase();
    double coop = first.runs().stream().filter(r -> r.config().method().equals("coop")).findFirst().orElseThrow().eval().accBase();
    assertTrue(zs >= 3 * 100.0 / 12 && zs < 90, "zero-shot base accuracy " + zs + " should be useful but far from perfect");
    assertTrue(coop - zs >= 6, "CoOp base " + coop + " vs zero-shot " + zs);
  }

  @Test
  void tracker_holdsParentAndChildren_withTagsParamsMetricsAndArtifacts() throws Exception {
    String exp = tracker.experimentId("promptline-demo");
    List<Tracker.RunInfo> parents = tracker.findRuns(exp, TrackingActivitiesImpl.TAG_CAMPAIGN_KEY, first.campaignKey());
    assertEquals(1, parents.size());
    assertEquals("FINISHED", parents.get(0).status());
    FileTracker.RunRecord parent = tracker.record(parents.get(0).runId());
    assertTrue(parent.metrics().stream().anyMatch(m -> m.key().equals("Scenes/coop/16shot/hm_mean")), parent.metrics().toString());
    assertTrue(new String(tracker.artifact(parent.runId(), "summary.csv")).contains("Scenes,coop,16,1,FINISHED"));
    for (RunResult r : first.runs()) {
      FileTracker.RunRecord child = tracker.record(r.mlflowRunId());
      assertEquals("FINISHED", child.status());
      Map<String, String> t = child.tags();
      assertEquals(parent.runId(), t.get("mlflow.parentRunId"));
      assertEquals(r.runKey(), t.get("promptline.run_key"));
      assertEquals(r.config().method(), t.get("promptline.method"));
      assertEquals("Scenes", t.get("promptline.dataset"));
      assertEquals("16", t.get("promptline.shots"));
      assertEquals("1", t.get("promptline.seed"));
      assertEquals("demo", t.get("promptline.campaign"));
      assertEquals(r.config().method(), child.params().get("method"));
      assertEquals(String.valueOf(r.config().train().lr()), child.params().get("train.lr"));
      for (String m : List.of("acc_base", "acc_novel", "hm"))
        assertTrue(child.metrics().stream().anyMatch(x -> x.key().equals(m)), m);
      assertNotNull(tracker.artifact(child.runId(), "provenance.json"));
      if (r.config().method().equals("coop")) {
        List<Long> steps = child.metrics().stream().filter(x -> x.key().equals("loss")).map(Tracker.Metric::step).toList();
        assertEquals(java.util.stream.LongStream.rangeClosed(1, r.config().train().epochs()).boxed().toList(), steps,
            "one loss point per epoch, no duplicates");
        byte[] prompt = tracker.artifact(child.runId(), "prompt/prompt.safetensors");
        assertTrue(prompt.length > 8);
      }
    }
  }

  @Test
  void resubmittingTheCampaign_reusesFinishedRuns_andCreatesNoNewTrackerRuns() {
    String exp = tracker.experimentId("promptline-demo");
    int before = countRuns(exp);
    CampaignResult again = CampaignSubmitter.start(env.getWorkflowClient(), store, spec).getResult(CampaignResult.class);
    assertEquals(Stages.FINISHED, again.status());
    assertTrue(again.runs().stream().allMatch(RunResult::reused), Demo.table(again.runs()));
    assertEquals(before, countRuns(exp));
  }

  @Test
  void histories_replayDeterministically() throws Exception {
    WorkflowClient client = env.getWorkflowClient();
    WorkflowExecutionHistory campaign = client.fetchHistory(firstWorkflowId);
    WorkflowReplayer.replayWorkflowExecution(campaign, CampaignWorkflowImpl.class);
    for (RunResult r : first.runs()) {
      WorkflowExecutionHistory run = client.fetchHistory("run-" + r.runKey());
      WorkflowReplayer.replayWorkflowExecution(run, RunWorkflowImpl.class);
    }
  }

  private static int countRuns(String exp) {
    int n = tracker.findRuns(exp, TrackingActivitiesImpl.TAG_CAMPAIGN, "demo").size();
    return n + tracker.findRuns(exp, TrackingActivitiesImpl.TAG_CAMPAIGN_KEY, first.campaignKey()).size();
  }

}
