package ai.promptline.activities;

import ai.promptline.activities.tracking.Tracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The loss and lr of every epoch so far, as logged to the tracker (value and timestamp), carried in
 * each checkpoint's metadata ({@code history}). A resumed attempt logs the points of its
 * checkpoint that the tracker lacks — with their original timestamps, once — so a checkpoint
 * never counts for epochs whose metrics were lost (e.g. the tracker down when the epoch ended).
 */
final class EpochHistory {
  static final String METADATA_KEY = "history";
  static final String LOSS = "loss";
  static final String LR = "lr";

  /** One epoch's points: {@code step} = epochs done. */
  record Point(long step, double loss, double lr, long timestamp) {
    List<Metric> metrics() {
      return List.of(new Metric(LOSS, loss, step, timestamp), new Metric(LR, lr, step, timestamp));
    }
  }

  private final TreeMap<Long, Point> points = new TreeMap<>();

  void add(Point p) {
    points.put(p.step(), p);
  }

  List<Point> points() {
    return List.copyOf(points.values());
  }

  /** Keeps only steps up to {@code step} (the epochs of the checkpoint resumed from). */
  void truncate(long step) {
    points.tailMap(step, false).clear();
  }

  /** {@code step,loss,lr,timestamp;…}; doubles as {@link Double#toString} writes them, so they read back exactly. */
  String encode() {
    StringBuilder sb = new StringBuilder();
    for (Point p : points.values()) {
      if (sb.length() > 0) sb.append(';');
      sb.append(p.step()).append(',').append(p.loss()).append(',').append(p.lr()).append(',').append(p.timestamp());
    }
    return sb.toString();
  }

  /** The history of a checkpoint's metadata; empty for checkpoints written before histories existed. */
  static EpochHistory decode(Map<String, String> metadata) {
    EpochHistory h = new EpochHistory();
    String s = metadata == null ? null : metadata.get(METADATA_KEY);
    if (s == null || s.isBlank()) return h;
    for (String row : s.split(";")) {
      String[] f = row.split(",");
      if (f.length != 4) throw new IllegalArgumentException("checkpoint history row '" + row + "' is not step,loss,lr,timestamp");
      h.add(new Point(Long.parseLong(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]), Long.parseLong(f[3])));
    }
    return h;
  }

  /**
   * The points of this history that the tracker's run lacks, per metric: what a resumed attempt
   * must log so every epoch up to its checkpoint appears exactly once.
   */
  List<Metric> missingFrom(Map<Long, Metric> loggedLoss, Map<Long, Metric> loggedLr) {
    List<Metric> out = new ArrayList<>();
    for (Point p : points.values()) {
      if (!loggedLoss.containsKey(p.step())) out.add(p.metrics().get(0));
      if (!loggedLr.containsKey(p.step())) out.add(p.metrics().get(1));
    }
    return out;
  }

  /** Steps of a metric already in the tracker, first point per step. */
  static Map<Long, Metric> logged(Tracker tracker, String runId, String key) {
    Map<Long, Metric> m = new TreeMap<>();
    for (Metric x : tracker.metricHistory(runId, key)) m.putIfAbsent(x.step(), x);
    return m;
  }

  /** The history MLflow holds for steps 1..{@code upTo}, for a checkpoint that carries none (older versions). */
  static EpochHistory fromTracker(Map<Long, Metric> loss, Map<Long, Metric> lr, long upTo) {
    EpochHistory h = new EpochHistory();
    Set<Long> steps = new HashSet<>(loss.keySet());
    steps.retainAll(lr.keySet());
    for (long s : steps)
      if (s <= upTo) h.add(new Point(s, loss.get(s).value(), lr.get(s).value(), loss.get(s).timestamp()));
    return h;
  }
}
