package ai.promptline.activities;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workflows.model.CampaignPlan.PlannedRun;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages.RunResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * What {@code campaign plan} reports about a grid of any size, fast: which planned runs are already
 * finished (their commit marker {@code runs/<key>/result.json} exists; {@code threads} parallel
 * existence checks, no reads), and an estimate of the compute time of the others from the recorded
 * cost ({@code wall_s} of {@code result.json}'s cost) of finished runs: the median of the finished
 * runs with the same method, dataset, shots and model; where there is none, of the same method;
 * then of all finished runs. At most {@link #SAMPLES_PER_GROUP} results per (method, dataset, shots,
 * model) are read for that, so the reads stay bounded however many runs are finished.
 *
 * @param finishedKeys run keys of the finished runs
 * @param estimatedSeconds the estimated compute of the unfinished runs (those with an estimate)
 * @param bySimilar unfinished runs estimated from finished runs of the same method, dataset, shots and model
 * @param byMethod estimated from the same method only (no similar finished run)
 * @param byMedian estimated from the median of all finished runs (no finished run of the method)
 * @param withoutEstimate no finished run with a recorded cost at all
 * @param samples finished results whose cost was read
 */
public record PlanScan(int total, Set<String> finishedKeys, double estimatedSeconds, int bySimilar, int byMethod, int byMedian,
    int withoutEstimate, int samples, long millis, int threads, String store) {
  public static final int SAMPLES_PER_GROUP = 8;

  public int finished() {
    return finishedKeys.size();
  }

  public int toRun() {
    return total - finished();
  }

  public boolean isFinished(String runKey) {
    return finishedKeys.contains(runKey);
  }

  private record Similar(String method, String dataset, int shots, String model) {
    static Similar of(RunConfig c) {
      return new Similar(CampaignComparison.methodLabel(c), Published.canonical(c.dataset().name()), c.shots(),
          c.model().sha256() == null ? c.model().name() : c.model().sha256());
    }
  }

  public static PlanScan scan(List<PlannedRun> runs, ObjectStore store, int threads) {
    long t0 = System.nanoTime();
    List<Boolean> done = parallel(runs, p -> store.exists(TrackingActivitiesImpl.resultKey(p.runKey())), threads);
    Set<String> finished = new LinkedHashSet<>();
    List<PlannedRun> sample = new ArrayList<>();
    Map<Similar, Integer> sampled = new HashMap<>();
    for (int i = 0; i < runs.size(); i++) {
      if (!done.get(i)) continue;
      PlannedRun p = runs.get(i);
      finished.add(p.runKey());
      if (sampled.merge(Similar.of(p.config()), 1, Integer::sum) <= SAMPLES_PER_GROUP) sample.add(p);
    }
    List<RunResult> results = parallel(sample,
        p -> Integrity.finishedResult(store, TrackingActivitiesImpl.resultKey(p.runKey()), p.runKey()), threads);
    Map<Similar, List<Double>> bySimilar = new HashMap<>();
    Map<String, List<Double>> byMethod = new HashMap<>();
    List<Double> all = new ArrayList<>();
    for (int i = 0; i < sample.size(); i++) {
      RunResult r = results.get(i);
      Double wall = r == null ? null : r.cost().get(RunCost.WALL_S);
      if (wall == null) continue; // written before cost existed, or unreadable
      RunConfig c = sample.get(i).config();
      bySimilar.computeIfAbsent(Similar.of(c), k -> new ArrayList<>()).add(wall);
      byMethod.computeIfAbsent(Similar.of(c).method(), k -> new ArrayList<>()).add(wall);
      all.add(wall);
    }
    Map<Similar, Double> similarMedian = new HashMap<>();
    bySimilar.forEach((k, v) -> similarMedian.put(k, median(v)));
    Map<String, Double> methodMedian = new HashMap<>();
    byMethod.forEach((k, v) -> methodMedian.put(k, median(v)));
    Double overall = all.isEmpty() ? null : median(all);
    double seconds = 0;
    int similar = 0, method = 0, med = 0, none = 0;
    for (PlannedRun p : runs) {
      if (finished.contains(p.runKey())) continue;
      Similar s = Similar.of(p.config());
      Double est = similarMedian.get(s);
      if (est != null) {
        similar++;
      } else if ((est = methodMedian.get(s.method())) != null) {
        method++;
      } else if ((est = overall) != null) {
        med++;
      } else {
        none++;
        continue;
      }
      seconds += est;
    }
    return new PlanScan(runs.size(), Set.copyOf(finished), seconds, similar, method, med, none, all.size(),
        (System.nanoTime() - t0) / 1_000_000, Math.max(1, threads), store.describe());
  }

  /** One paragraph for {@code campaign plan}. */
  public String summary() {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "%,d runs planned: %,d already finished (found by run key in %s), %,d to run.", total, finished(), store, toRun()));
    if (toRun() == 0) {
      sb.append(" Nothing to compute: every run is reused.");
    } else if (withoutEstimate == toRun()) {
      sb.append(" No compute estimate: no finished run has a recorded cost yet.");
    } else {
      sb.append(String.format(Locale.ROOT, " Estimated compute for those: %s (median wall time of finished runs with the same"
          + " method, dataset, shots and model for %,d; no similar run for %,d: %,d from the same method, %,d from the median"
          + " of all %,d finished runs read", CampaignCost.duration(estimatedSeconds), bySimilar, byMethod + byMedian + withoutEstimate,
          byMethod, byMedian, samples));
      if (withoutEstimate > 0) sb.append(String.format(Locale.ROOT, "; %,d without any estimate", withoutEstimate));
      sb.append(").");
    }
    sb.append(String.format(Locale.ROOT, " Scanned in %.1f s with %d parallel requests.", millis / 1000.0, threads));
    return sb.toString();
  }

  static double median(List<Double> v) {
    double[] x = v.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(x);
    int n = x.length;
    return n % 2 == 1 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
  }

  /**
   * {@code f} of every item, in order, computed by {@code threads} worker threads taking the next
   * item as they finish one (store requests: waiting, not computing). The first failure is rethrown.
   */
  public static <T, R> List<R> parallel(List<T> items, Function<T, R> f, int threads) {
    int n = items.size();
    int workers = Math.max(1, Math.min(threads, n));
    if (workers == 1) return items.stream().map(f).toList();
    Object[] out = new Object[n];
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
      Thread t = new Thread(r, "plan-scan");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < workers; w++)
        futures.add(pool.submit(() -> {
          for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) out[i] = f.apply(items.get(i));
        }));
      for (Future<?> fu : futures) {
        try {
          fu.get();
        } catch (ExecutionException e) {
          next.set(n); // the others stop after their current item
          if (e.getCause() instanceof RuntimeException re) throw re;
          if (e.getCause() instanceof Error er) throw er;
          throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    List<R> list = new ArrayList<>(n);
    for (Object o : out) {
      @SuppressWarnings("unchecked")
      R r = (R) o;
      list.add(r);
    }
    return list; // may hold nulls (a result that is absent)
  }
}
