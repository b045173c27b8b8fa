package ai.promptline.activities;

import ai.promptline.activities.tracking.Tracker;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A campaign's cost: the sum of its runs' {@link RunCost}s, as {@code cost.*} metrics of the
 * campaign's MLflow parent run.
 *
 * <p>Reused runs (finished in an earlier campaign, or by an earlier submission of this one) cost
 * this campaign nothing: their recorded time is summed apart, as {@code cost.reused_wall_s}, the
 * compute the reuse saved. Runs without a recorded cost (failed runs, results written before cost
 * existed) are counted in {@code cost.runs_without_cost} and add nothing.
 *
 * <ul>
 *   <li>{@code cost.total_<stage>_s} for split, features, train, evaluate, targets, log, and
 *       {@code cost.total_wall_s}: over the runs computed by this campaign
 *   <li>{@code cost.runs_computed}, {@code cost.runs_reused}, {@code cost.runs_without_cost},
 *       {@code cost.runs_features_cached} (computed runs whose features all came from the cache)
 *   <li>{@code cost.mean_train_step_ms} (over the computed runs that trained),
 *       {@code cost.max_peak_rss_bytes}, {@code cost.max_heap_peak_bytes}
 * </ul>
 */
public final class CampaignCost {
  private CampaignCost() {}

  /** The campaign metrics (names with the {@code cost.} prefix) of {@code runs}. */
  public static Map<String, Double> sum(List<RunResult> runs) {
    Map<String, Double> m = new LinkedHashMap<>();
    List<RunResult> reused = runs.stream().filter(RunResult::reused).toList();
    List<RunResult> computed = runs.stream().filter(r -> !r.reused() && Stages.FINISHED.equals(r.status()) && !r.cost().isEmpty())
        .toList();
    for (String stage : RunCost.STAGES) m.put("cost.total_" + stage, total(computed, stage));
    m.put("cost.total_wall_s", total(computed, RunCost.WALL_S));
    m.put("cost.reused_wall_s", total(reused, RunCost.WALL_S));
    m.put("cost.runs_computed", (double) computed.size());
    m.put("cost.runs_reused", (double) reused.size());
    m.put("cost.runs_without_cost", (double) runs.stream().filter(r -> !r.reused() && r.cost().isEmpty()).count());
    m.put("cost.runs_features_cached", (double) computed.stream()
        .filter(r -> r.cost().getOrDefault("features_cache_hit", 0.0) == 1.0).count());
    double[] steps = values(computed, "train_step_ms");
    if (steps.length > 0) m.put("cost.mean_train_step_ms", Arrays.stream(steps).average().orElseThrow());
    double[] rss = values(computed, "peak_rss_bytes");
    if (rss.length > 0) m.put("cost.max_peak_rss_bytes", Arrays.stream(rss).max().orElseThrow());
    double[] heap = values(computed, "heap_peak_bytes");
    if (heap.length > 0) m.put("cost.max_heap_peak_bytes", Arrays.stream(heap).max().orElseThrow());
    return m;
  }

  /** Logs {@link #sum} of {@code runs} to the campaign's parent run (step 0; repeating the call sends the same rows). */
  public static void logCampaignCost(Tracker tracker, String parentRunId, List<RunResult> runs) {
    long now = TrackingActivitiesImpl.metricTimestamp();
    List<Tracker.Metric> metrics = sum(runs).entrySet().stream()
        .map(e -> new Tracker.Metric(e.getKey(), e.getValue(), 0, now)).toList();
    tracker.log(parentRunId, Map.of(), metrics, Map.of());
  }

  /** A one-line account, e.g. for a CLI: "12 runs computed in 1h 02m (train 48m), 60 reused (saved 4h 10m), 3 from cached features". */
  public static String describe(Map<String, Double> sum) {
    return String.format(java.util.Locale.ROOT, "%d run(s) computed in %s (train %s), %d reused (saved %s), %d with cached features",
        sum.getOrDefault("cost.runs_computed", 0.0).longValue(), duration(sum.getOrDefault("cost.total_wall_s", 0.0)),
        duration(sum.getOrDefault("cost.total_train_s", 0.0)), sum.getOrDefault("cost.runs_reused", 0.0).longValue(),
        duration(sum.getOrDefault("cost.reused_wall_s", 0.0)), sum.getOrDefault("cost.runs_features_cached", 0.0).longValue());
  }

  /** Seconds as {@code 1h 02m}, {@code 3m 05s} or {@code 4.2s}. */
  public static String duration(double seconds) {
    if (seconds < 60) return String.format(java.util.Locale.ROOT, "%.1fs", seconds);
    long s = Math.round(seconds);
    if (s < 3600) return String.format(java.util.Locale.ROOT, "%dm %02ds", s / 60, s % 60);
    return String.format(java.util.Locale.ROOT, "%dh %02dm", s / 3600, (s % 3600) / 60);
  }

  private static double total(List<RunResult> runs, String key) {
    return runs.stream().map(r -> r.cost().get(key)).filter(Objects::nonNull).mapToDouble(Double::doubleValue).sum();
  }

  private static double[] values(List<RunResult> runs, String key) {
    return runs.stream().map(r -> r.cost().get(key)).filter(Objects::nonNull).mapToDouble(Double::doubleValue).toArray();
  }
}
