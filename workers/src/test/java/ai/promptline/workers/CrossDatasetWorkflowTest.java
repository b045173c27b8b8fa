package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.Backends;
import ai.promptline.activities.ModelCache;
import ai.promptline.activities.TrackingActivitiesImpl;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import ai.promptline.workflows.CampaignWorkflowImpl;
import ai.promptline.workflows.RunWorkflowImpl;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.Stages.TargetResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowClient;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cross-dataset campaign with the real activities in Temporal's test environment: CoOp trained
 * on the demo source (the 24-class Scenes benchmark), evaluated on two synthetic targets with their own
 * classes (6 and 3); then a campaign whose target changed on disk after planning, which must fail
 * its run at once with the tracker run closed.
 */
class CrossDatasetWorkflowTest {
  @TempDir static Path dir;
  static TestWorkflowEnvironment env;
  static FileTracker tracker;
  static LocalObjectStore store;
  static ModelCache models = new ModelCache();
  static DemoAssets.Assets assets;
  static CampaignResult result;
  static String workflowId;

  static CampaignFile campaign(List<Integer> seeds, Path... targets) {
    List<CampaignFile.Dataset> ts = java.util.Arrays.stream(targets)
        .map(t -> new CampaignFile.Dataset("Synthetic", t.toString())).toList();
    return new CampaignFile("xd", "promptline-xd", new CampaignFile.Model("tiny-clip-scenes", assets.weights().toString(), null),
        List.of(new CampaignFile.Dataset(DemoAssets.DATASET, assets.datasetRoot().toString())),
        List.of(new CampaignFile.Method("coop", Map.of("epochs", 2, "batchSize", 4, "lr", 0.01, "augViews", 1))),
        List.of(2), seeds, "cross-dataset", 1, 30, ts);
  }

  @BeforeAll
  static void runOnce() {
    assets = DemoAssets.ensure(dir.resolve("demo"));
    SyntheticDataset.generate(dir.resolve("shapes6"), new SyntheticSpec("Shapes6", 6, 1, 1, 3, 32, 11));
    SyntheticDataset.generate(dir.resolve("shapes3"), new SyntheticSpec("Shapes3", 3, 1, 1, 4, 32, 12));
    tracker = new FileTracker(dir.resolve("mlflow"));
    store = new LocalObjectStore(dir.resolve("store"));
    env = TestWorkflowEnvironment.newInstance();
    PromptlineWorker.register((q, o) -> env.newWorker(q, io.temporal.worker.WorkerOptions.newBuilder(o).build()),
        new Backends(store, tracker, new SimpleMeterRegistry()), new PromptlineWorker.Options(
            java.util.Set.of("cpu", "gpu"), 1, 2), models);
    env.start();
    CampaignSpec spec = campaign(List.of(1), dir.resolve("shapes6"), dir.resolve("shapes3")).plan(Path.of("."));
    workflowId = CampaignSubmitter.workflowId(spec);
    result = CampaignSubmitter.start(env.getWorkflowClient(), store, spec).getResult(CampaignResult.class);
  }

  @AfterAll
  static void close() {
    env.close();
    models.close();
  }

  @Test
  void run_evaluatesEveryTargetOnItsOwnClasses_inOrder() {
    assertEquals(Stages.FINISHED, result.status(), Demo.table(result.runs()));
    RunResult r = result.runs().get(0);
    assertEquals(24 * 25, r.eval().baseTotal(), "the source: all 24 Scenes classes x 25 test images");
    assertEquals(0, r.eval().novelTotal());
    List<TargetResult> t = r.eval().targets();
    assertEquals(List.of("Shapes6", "Shapes3"), t.stream().map(TargetResult::dataset).toList());
    assertEquals(List.of(6 * 3, 3 * 4), t.stream().map(TargetResult::total).toList());
    assertEquals(r.config().targets().get(0).fingerprint(), t.get(0).fingerprint());
    assertTrue(store.exists("runs/" + r.runKey() + "/targets/Shapes6.json"));
    assertTrue(store.exists("runs/" + r.runKey() + "/targets/Shapes3.json"));
    assertEquals(r, committed(r.runKey()), "the committed result keeps the targets");
    String table = Demo.table(result.runs());
    assertTrue(table.contains("Shapes6") && table.contains("target avg"), table);
  }

  @Test
  void tracker_hasPerTargetMetrics_andTheSummaryHasTargetColumns() throws Exception {
    RunResult r = result.runs().get(0);
    FileTracker.RunRecord child = tracker.record(r.mlflowRunId());
    assertEquals("FINISHED", child.status());
    assertEquals("Synthetic,Synthetic", child.params().get("targets"));
    assertEquals("Synthetic,Synthetic", child.tags().get(TrackingActivitiesImpl.TAG_TARGETS));
    for (String m : List.of("acc_base", "acc_target/Shapes6", "acc_target/Shapes3", "acc_target_avg"))
      assertTrue(child.metrics().stream().anyMatch(x -> x.key().equals(m)), m + " in " + child.metrics());
    List<Tracker.RunInfo> parents = tracker.findRuns(tracker.experimentId("promptline-xd"),
        TrackingActivitiesImpl.TAG_CAMPAIGN_KEY, result.campaignKey());
    FileTracker.RunRecord parent = tracker.record(parents.get(0).runId());
    assertTrue(parent.metrics().stream().anyMatch(m -> m.key().equals("Scenes/coop/2shot/acc_target/Shapes3_mean")),
        parent.metrics().toString());
    assertTrue(parent.metrics().stream().anyMatch(m -> m.key().equals("Scenes/coop/2shot/acc_target_avg_mean")));
    String csv = new String(tracker.artifact(parent.runId(), "summary.csv"));
    assertTrue(csv.startsWith("dataset,method,shots,seed,status,acc_base,acc_novel,hm,acc_target/Shapes6,acc_target/Shapes3,"
        + "acc_target_avg,"), csv);
    assertTrue(new String(tracker.artifact(parent.runId(), "summary.md")).contains("| Shapes6 | Shapes3 | target avg |"));
  }

  @Test
  void histories_replayDeterministically() throws Exception {
    WorkflowClient client = env.getWorkflowClient();
    WorkflowReplayer.replayWorkflowExecution(client.fetchHistory(workflowId), CampaignWorkflowImpl.class);
    for (RunResult r : result.runs())
      WorkflowReplayer.replayWorkflowExecution(client.fetchHistory("run-" + r.runKey()), RunWorkflowImpl.class);
  }

  @Test
  void targetChangedAfterPlanning_failsTheRunWithADatasetError_andClosesItsTrackerRun() throws Exception {
    Path changing = dir.resolve("changing");
    SyntheticDataset.Generated g = SyntheticDataset.generate(changing, new SyntheticSpec("Changing", 2, 1, 1, 2, 32, 13));
    CampaignSpec spec = campaign(List.of(7), dir.resolve("shapes6"), changing).plan(Path.of("."));
    Files.delete(g.imageRoot().resolve(g.splits().test().get(0).relPath())); // after planning
    CampaignResult failed = CampaignSubmitter.start(env.getWorkflowClient(), store, spec).getResult(CampaignResult.class);
    assertEquals(Stages.FAILED, failed.status());
    RunResult r = failed.runs().get(0);
    assertEquals(Stages.FAILED, r.status());
    assertTrue(r.error().contains("dataset Changing: missing image"), r.error());
    assertTrue(!store.exists("runs/" + r.runKey() + "/result.json"), "a failed run commits nothing");
    List<Tracker.RunInfo> runs = tracker.findRuns(tracker.experimentId("promptline-xd"), TrackingActivitiesImpl.TAG_RUN_KEY,
        r.runKey());
    assertEquals(1, runs.size());
    FileTracker.RunRecord child = tracker.record(runs.get(0).runId());
    assertEquals("FAILED", child.status());
    assertTrue(child.tags().get(TrackingActivitiesImpl.TAG_ERROR).contains("missing image"), child.tags().toString());
    // the first target was evaluated before the broken one was reached
    assertTrue(store.exists("runs/" + r.runKey() + "/targets/Shapes6.json"));
    assertTrue(!store.exists("runs/" + r.runKey() + "/targets/Changing.json"));
  }

  private static RunResult committed(String runKey) {
    return new TrackingActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry())).lookupFinished(runKey);
  }
}
