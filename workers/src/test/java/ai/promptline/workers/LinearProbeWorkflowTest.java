package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.Backends;
import ai.promptline.activities.ModelCache;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two linear probes in a real campaign (Temporal's test environment, the real activities, the
 * demo dataset and tiny CLIP), protocol {@code all}: {@code linear-probe} is fitted (no loss, C and
 * val accuracy logged, evaluated on all classes), {@code linear-probe-rpo} trains with a falling
 * loss; and the plan-time refusals of {@code linear-probe} under base-to-novel and cross-dataset.
 */
class LinearProbeWorkflowTest {
  @TempDir static Path dir;

  private static CampaignFile campaign(DemoAssets.Assets assets, List<CampaignFile.Method> methods, String protocol,
      List<CampaignFile.Dataset> targets) {
    return new CampaignFile("lp", "lp", new CampaignFile.Model("tiny-clip-scenes", assets.weights().toString(), null),
        List.of(new CampaignFile.Dataset(DemoAssets.DATASET, assets.datasetRoot().toString())), methods, List.of(4), List.of(1),
        protocol, 1, 60, targets);
  }

  @Test
  void linearProbesRunWithProtocolAll() {
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    FileTracker tracker = new FileTracker(dir.resolve("mlflow"));
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    List<CampaignFile.Method> methods = List.of(new CampaignFile.Method("linear-probe", null),
        new CampaignFile.Method("linear-probe-rpo", Map.of("epochs", 4, "batchSize", 4, "lr", 0.0005, "augViews", 2)));
    CampaignSpec spec = campaign(assets, methods, "all", null).plan(Path.of("."));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(); ModelCache models = new ModelCache()) {
      PromptlineWorker.register((q, o) -> env.newWorker(q, io.temporal.worker.WorkerOptions.newBuilder(o).build()),
          new Backends(store, tracker, new SimpleMeterRegistry()), new PromptlineWorker.Options(java.util.Set.of("cpu", "gpu"), 1, 2),
          models);
      env.start();
      CampaignResult result = CampaignSubmitter.start(env.getWorkflowClient(), store, spec).getResult(CampaignResult.class);
      assertEquals(2, result.runs().size());
      for (RunResult r : result.runs()) {
        String m = r.config().method();
        assertEquals(Stages.FINISHED, r.status(), m + ": " + r.error());
        Tracker.RunInfo run = tracker.findRuns(tracker.experimentId(spec.experiment()), "promptline.run_key", r.runKey()).get(0);
        List<Tracker.Metric> loss = tracker.metricHistory(run.runId(), "loss");
        assertTrue(r.eval().baseTotal() > 0 && r.eval().novelTotal() == 0, m + " is evaluated on all classes");
        if (m.equals("linear-probe")) {
          assertTrue(loss.isEmpty(), "a fitted method logs no loss");
          List<Tracker.Metric> c = tracker.metricHistory(run.runId(), "fit.C");
          assertEquals(1, c.size(), "the chosen C is logged");
          assertTrue(c.get(0).value() > 0);
          assertEquals(1, tracker.metricHistory(run.runId(), "fit.val_acc").size());
          assertTrue(r.eval().accBase() > 100.0 / 24, "linear-probe beats chance: " + r.eval().accBase());
          System.out.printf("linear-probe: C=%s val %.1f, test %.1f%n", c.get(0).value(),
              tracker.metricHistory(run.runId(), "fit.val_acc").get(0).value(), r.eval().accBase());
        } else {
          assertEquals(4, loss.size(), m + " logs one loss per epoch");
          double first = loss.get(0).value();
          double laterMin = loss.subList(1, loss.size()).stream().mapToDouble(Tracker.Metric::value).min().orElseThrow();
          assertTrue(laterMin < first, m + ": loss should go down, got " + loss.stream().map(Tracker.Metric::value).toList());
          System.out.printf("linear-probe-rpo: loss %s, test %.1f%n", loss.stream().map(Tracker.Metric::value).toList(), r.eval().accBase());
        }
      }
    }
  }

  @Test
  void linearProbeIsRefusedForBaseToNovel_atPlanTime() {
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        campaign(assets, List.of(new CampaignFile.Method("linear-probe", null)), "base2novel", null).plan(Path.of(".")));
    assertEquals("campaign file: method 'linear-probe' cannot run under protocol 'base2novel': it learns a classifier over"
        + " its training classes and has no text classifier, so it cannot score the unseen novel classes; use protocol: all",
        e.getMessage());
    IllegalArgumentException t = assertThrows(IllegalArgumentException.class, () -> campaign(assets,
        List.of(new CampaignFile.Method("linear-probe", Map.of("epochs", 5))), "all", null).plan(Path.of(".")));
    assertTrue(t.getMessage().contains("'train:' does not apply"), t.getMessage());
    // the RPO variant has a text classifier: base-to-novel plans
    campaign(assets, List.of(new CampaignFile.Method("linear-probe-rpo", null)), "base2novel", null).plan(Path.of("."));
  }

  @Test
  void linearProbeIsRefusedForCrossDataset_atPlanTime() {
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    Path target = dir.resolve("target");
    ai.promptline.ml.data.SyntheticDataset.generate(target, new ai.promptline.ml.data.SyntheticSpec("ShapesT", 3, 1, 1, 2, 32, 9));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> campaign(assets,
        List.of(new CampaignFile.Method("linear-probe", null)), "cross-dataset",
        List.of(new CampaignFile.Dataset("Synthetic", target.toString()))).plan(Path.of(".")));
    assertEquals("campaign file: method 'linear-probe' cannot run under protocol 'cross-dataset': its classifier covers only"
        + " the source dataset's classes (no text classifier), so it cannot score a target's label space; use protocol: all",
        e.getMessage());
  }

  @Test
  void linearProbeNeedsADatasetWithAValSplit_atPlanTime() {
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    Path noVal = dir.resolve("no-val");
    ai.promptline.ml.data.SyntheticDataset.generate(noVal, new ai.promptline.ml.data.SyntheticSpec("NoVal", 3, 4, 0, 2, 32, 9));
    CampaignFile f = new CampaignFile("lp", "lp", new CampaignFile.Model("tiny-clip-scenes", assets.weights().toString(), null),
        List.of(new CampaignFile.Dataset("Synthetic", noVal.toString())), List.of(new CampaignFile.Method("linear-probe", null)),
        List.of(4), List.of(1), "all", 1, 60, null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.plan(Path.of(".")));
    assertTrue(e.getMessage().contains("method 'linear-probe' selects its hyper-parameters on the few-shot val split, but Synthetic ("
        + noVal + ") has no val split"), e.getMessage());
  }
}
