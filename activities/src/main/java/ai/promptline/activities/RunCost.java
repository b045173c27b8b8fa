package ai.promptline.activities;

import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.workflows.model.Stages.LogInput;
import ai.promptline.workflows.model.Stages.StageCost;
import ai.promptline.workflows.model.Stages.TargetResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A run's cost from the {@link StageCost}s its stage activities returned: the {@code cost.*}
 * metrics of its MLflow run and the {@code cost} map of its {@code result.json} (the same names
 * without the prefix). Stages whose result carries no cost (payloads of an older worker) are left
 * out, never counted as 0.
 *
 * <ul>
 *   <li>{@code <stage>_s}: wall time of split, features, train, evaluate, targets (the target
 *       evaluations together) and log; {@code wall_s} their sum
 *   <li>{@code train_steps}, {@code train_step_ms} (mean per optimizer step, without the epochs'
 *       checkpoint and metric writes), {@code train_images_per_s} (training items × epochs run over
 *       the steps' time), {@code eval_images_per_s}, {@code features_images_per_s} (images encoded;
 *       absent on a cache hit)
 *   <li>{@code peak_rss_bytes}, {@code heap_peak_bytes}: the largest worker high-water mark any stage
 *       reported (see {@link StageMeter}); {@code device_mem_bytes} on a GPU
 *   <li>{@code features_cache_hit}: 1 when every feature blob came from the cache, else 0
 * </ul>
 */
public final class RunCost {
  public static final String PREFIX = "cost.";
  public static final String TAG_DEVICE = "promptline.device";
  public static final String LOG_S = "log_s";
  public static final String WALL_S = "wall_s";
  /** The stage times that add up to {@link #WALL_S}. */
  public static final List<String> STAGES = List.of("split_s", "features_s", "train_s", "evaluate_s", "targets_s", LOG_S);

  private RunCost() {}

  /** Every cost figure the stages of {@code in} measured; without {@link #LOG_S} (the caller adds it, see {@link #withLog}). */
  public static Map<String, Double> of(LogInput in) {
    Map<String, Double> m = new LinkedHashMap<>();
    StageCost split = in.split() == null ? null : in.split().cost();
    StageCost features = in.features() == null ? null : in.features().cost();
    StageCost train = in.trained() == null ? null : in.trained().cost();
    StageCost eval = in.eval() == null ? null : in.eval().cost();
    List<StageCost> targets = in.eval() == null ? List.of()
        : in.eval().targets().stream().map(TargetResult::cost).filter(Objects::nonNull).toList();
    seconds(m, "split_s", split);
    seconds(m, "features_s", features);
    seconds(m, "train_s", train);
    seconds(m, "evaluate_s", eval);
    if (!targets.isEmpty()) m.put("targets_s", targets.stream().mapToLong(StageCost::millis).sum() / 1000.0);
    if (train != null && train.steps() != null && train.steps() > 0) {
      m.put("train_steps", (double) train.steps());
      if (train.stepMillis() != null) {
        m.put("train_step_ms", train.stepMillis());
        if (train.images() != null && train.images() > 0)
          m.put("train_images_per_s", train.images() / (train.stepMillis() * train.steps() / 1000.0));
      }
    } else if (train != null && train.imagesPerSecond() != null) {
      m.put("train_images_per_s", train.imagesPerSecond()); // a fitted method: items over the fit's wall time
    }
    if (eval != null && eval.imagesPerSecond() != null) m.put("eval_images_per_s", eval.imagesPerSecond());
    if (features != null && features.imagesPerSecond() != null) m.put("features_images_per_s", features.imagesPerSecond());
    List<StageCost> all = Stream.concat(Stream.of(split, features, train, eval), targets.stream()).filter(Objects::nonNull).toList();
    max(m, "peak_rss_bytes", all, StageCost::rssPeakBytes);
    max(m, "heap_peak_bytes", all, StageCost::heapPeakBytes);
    max(m, "device_mem_bytes", all, StageCost::deviceMemBytes);
    if (in.features() != null) m.put("features_cache_hit", in.features().cacheHit() ? 1.0 : 0.0);
    double wall = sum(m);
    if (!all.isEmpty()) m.put(WALL_S, wall);
    return m;
  }

  /** {@code cost} with the log stage's seconds added, and {@link #WALL_S} updated to include them. */
  public static Map<String, Double> withLog(Map<String, Double> cost, double logSeconds) {
    Map<String, Double> m = new LinkedHashMap<>(cost);
    m.put(LOG_S, logSeconds);
    m.put(WALL_S, sum(m));
    return m;
  }

  /** The device the run computed on: its train stage's, else evaluate's, else features'; null when none says. */
  public static String device(LogInput in) {
    for (StageCost c : new StageCost[] {in.trained() == null ? null : in.trained().cost(), in.eval() == null ? null : in.eval().cost(),
        in.features() == null ? null : in.features().cost()})
      if (c != null && c.device() != null) return c.device();
    return null;
  }

  /** {@code cost.<name>} metrics at step 0. */
  public static List<Metric> metrics(Map<String, Double> cost, long timestamp) {
    List<Metric> out = new ArrayList<>();
    cost.forEach((k, v) -> out.add(new Metric(PREFIX + k, v, 0, timestamp)));
    return out;
  }

  private static double sum(Map<String, Double> m) {
    double s = 0;
    for (String k : STAGES) s += m.getOrDefault(k, 0.0);
    return s;
  }

  private static void seconds(Map<String, Double> m, String key, StageCost c) {
    if (c != null) m.put(key, c.millis() / 1000.0);
  }

  private static void max(Map<String, Double> m, String key, List<StageCost> all, Function<StageCost, Long> f) {
    all.stream().map(f).filter(Objects::nonNull).mapToLong(Long::longValue).max().ifPresent(v -> m.put(key, (double) v));
  }
}
