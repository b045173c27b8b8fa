package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CampaignCostTest {
  @TempDir Path dir;

  static RunResult run(int seed, boolean reused, String status, Map<String, Double> cost) {
    return new RunResult("rk" + seed, RunCostTest.config("EuroSAT", "coop", 16, seed), "r" + seed, status,
        status.equals(Stages.FINISHED) ? new EvalResult(80, 60, 68.6, 10, 10) : null, reused, null, cost, "cpu()");
  }

  private static final List<RunResult> RUNS = List.of(
      run(1, false, Stages.FINISHED, Map.of("split_s", 1.0, "features_s", 10.0, "train_s", 100.0, "evaluate_s", 5.0, "log_s", 2.0,
          "wall_s", 118.0, "train_step_ms", 40.0, "peak_rss_bytes", 2e9, "heap_peak_bytes", 5e8, "features_cache_hit", 0.0)),
      run(2, false, Stages.FINISHED, Map.of("split_s", 1.0, "features_s", 1.0, "train_s", 50.0, "evaluate_s", 3.0, "log_s", 1.0,
          "wall_s", 56.0, "train_step_ms", 20.0, "peak_rss_bytes", 3e9, "heap_peak_bytes", 4e8, "features_cache_hit", 1.0)),
      run(3, true, Stages.FINISHED, Map.of("train_s", 70.0, "wall_s", 80.0, "features_cache_hit", 1.0)), // an earlier campaign's
      run(4, false, Stages.FAILED, Map.of()),
      run(5, false, Stages.FINISHED, Map.of())); // written before cost existed

  @Test
  void sum_addsTheComputedRuns_andCountsReusedAndCostlessApart() {
    Map<String, Double> s = CampaignCost.sum(RUNS);
    assertEquals(150.0, s.get("cost.total_train_s"), "100 + 50; the reused run's 70 s is not this campaign's");
    assertEquals(174.0, s.get("cost.total_wall_s"));
    assertEquals(11.0, s.get("cost.total_features_s"));
    assertEquals(0.0, s.get("cost.total_targets_s"));
    assertEquals(80.0, s.get("cost.reused_wall_s"));
    assertEquals(2.0, s.get("cost.runs_computed"));
    assertEquals(1.0, s.get("cost.runs_reused"));
    assertEquals(2.0, s.get("cost.runs_without_cost"), "the failed run and the one from before cost existed");
    assertEquals(1.0, s.get("cost.runs_features_cached"), "run 2 (run 3 is reused)");
    assertEquals(30.0, s.get("cost.mean_train_step_ms"));
    assertEquals(3e9, s.get("cost.max_peak_rss_bytes"));
    assertEquals(5e8, s.get("cost.max_heap_peak_bytes"));
    assertEquals("2 run(s) computed in 2m 54s (train 2m 30s), 1 reused (saved 1m 20s), 1 with cached features",
        CampaignCost.describe(s));
  }

  @Test
  void nothingComputed_sumsToZero_withoutMeansOfNothing() {
    Map<String, Double> s = CampaignCost.sum(List.of(RUNS.get(2)));
    assertEquals(0.0, s.get("cost.total_wall_s"));
    assertEquals(1.0, s.get("cost.runs_reused"));
    assertFalse(s.containsKey("cost.mean_train_step_ms"));
  }

  @Test
  void logCampaignCost_logsTheSumToTheParentRun() {
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    String parent = tracker.createRun(tracker.experimentId("e"), "campaign:c", Map.of());
    CampaignCost.logCampaignCost(tracker, parent, RUNS);
    assertEquals(List.of(174.0), tracker.metricHistory(parent, "cost.total_wall_s").stream().map(Metric::value).toList());
    assertEquals(List.of(2.0), tracker.metricHistory(parent, "cost.runs_computed").stream().map(Metric::value).toList());
  }
}
