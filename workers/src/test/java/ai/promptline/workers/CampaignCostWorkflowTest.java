package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.Backends;
import ai.promptline.activities.CampaignCost;
import ai.promptline.activities.CampaignPlots;
import ai.promptline.activities.ModelCache;
import ai.promptline.activities.RunCost;
import ai.promptline.activities.TrackingActivitiesImpl;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.testing.TestWorkflowEnvironment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cost end to end on the real activities (tiny CLIP, Scenes benchmark): every run's cost crosses the
 * workflow payloads into MLflow and result.json; the campaign entry points the campaign close
 * calls ({@link CampaignCost#logCampaignCost}, {@link CampaignPlots#log}) work on its parent run; a
 * re-submission reuses every run and costs nothing.
 */
class CampaignCostWorkflowTest {
  @TempDir Path dir;

  @Test
  void everyRunLogsItsCost_andTheCampaignSumsIt_andAReRunCostsNothing() throws Exception {
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    FileTracker tracker = new FileTracker(dir.resolve("mlflow"));
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    try (ModelCache models = new ModelCache(); TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      PromptlineWorker.register((q, o) -> env.newWorker(q, io.temporal.worker.WorkerOptions.newBuilder(o).build()),
          new Backends(store, tracker, new SimpleMeterRegistry()), new PromptlineWorker.Options(java.util.Set.of("cpu", "gpu"), 1, 2), models);
      env.start();
      CampaignSpec spec = Demo.campaignFile(assets, new Demo.Options(null, List.of(1), List.of(4), List.of("zsclip", "coop")))
          .plan(Path.of("."));
      CampaignResult first = CampaignSubmitter.start(env.getWorkflowClient(), store, spec).getResult(CampaignResult.class);
      assertEquals(Stages.FINISHED, first.status(), Demo.table(first.runs()));
      for (RunResult r : first.runs()) {
        Map<String, Double> c = r.cost();
        for (String k : List.of("split_s", "features_s", "train_s", "evaluate_s", "log_s"))
          assertTrue(c.containsKey(k), r.config().method() + " lacks " + k + ": " + c);
        assertEquals(c.get("split_s") + c.get("features_s") + c.get("train_s") + c.get("evaluate_s") + c.get("log_s"), c.get("wall_s"), 1e-9);
        assertEquals("cpu()", r.device());
        assertEquals("cpu()", tracker.getRun(r.mlflowRunId()).tags().get(RunCost.TAG_DEVICE));
        assertEquals(c.get("wall_s"), tracker.metricHistory(r.mlflowRunId(), "cost.wall_s").get(0).value());
        assertTrue(c.get("peak_rss_bytes") > 0 && c.get("eval_images_per_s") > 0, c.toString());
        if (r.config().method().equals("coop")) assertTrue(c.get("train_step_ms") > 0 && c.get("train_images_per_s") > 0, c.toString());
      }

      String exp = tracker.experimentId(spec.experiment());
      String parent = tracker.findRuns(exp, TrackingActivitiesImpl.TAG_CAMPAIGN_KEY, ContentKeys.campaignKey(spec)).get(0).runId();
      // the campaign's close logged the sums and the plots
      double total = first.runs().stream().mapToDouble(r -> r.cost().get("wall_s")).sum();
      assertEquals(total, tracker.metricHistory(parent, "cost.total_wall_s").get(0).value(), 1e-9);
      assertTrue(tracker.artifact(parent, CampaignPlots.ACCURACY).length > 1000);
      assertTrue(tracker.artifact(parent, CampaignPlots.CURVES).length > 1000);

      CampaignResult again = CampaignSubmitter.start(env.getWorkflowClient(), store, spec).getResult(CampaignResult.class);
      Map<String, Double> sum = CampaignCost.sum(again.runs());
      assertEquals(2.0, sum.get("cost.runs_reused"));
      assertEquals(0.0, sum.get("cost.total_wall_s"), "a re-run with nothing changed computes nothing");
      assertEquals(total, sum.get("cost.reused_wall_s"), 1e-9, "and says how much the reuse saved");
    }
  }
}
