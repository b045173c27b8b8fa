package ai.promptline.activities;

import ai.promptline.activities.store.ScratchCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker's own metrics, in one place so their names, tags and units are defined once (the
 * Grafana dashboard in {@code deploy/compose/grafana/} queries exactly these). Micrometer names
 * below; the Prometheus names a scrape shows are in brackets (base units: seconds).
 *
 * <ul>
 *   <li>{@code promptline.runs{status}} [{@code promptline_runs_total}]: runs that reached a terminal
 *       MLflow status ({@code finished}, {@code failed}, {@code killed});
 *   <li>{@code promptline.train.epoch{method}} [{@code promptline_train_epoch_seconds_bucket|_count|_sum}]:
 *       wall time of one training epoch, from the training loop's per-epoch callback;
 *   <li>{@code promptline.activity.queue.wait{activity,queue}} [{@code promptline_activity_queue_wait_seconds_*}]:
 *       from when Temporal scheduled the current attempt of an activity to when a worker started it;
 *   <li>{@code promptline.cache.requests{cache,result}} [{@code promptline_cache_requests_total}]: lookups in
 *       the feature cache (per activity: all of its feature blobs found), the model cache (per model
 *       leased) and the scratch cache (per large blob read), {@code result} = {@code hit}|{@code miss};
 *   <li>{@code promptline.slots} and {@code promptline.slots.busy} [{@code promptline_slots},
 *       {@code promptline_slots_busy}]: compute slots of the worker and how many run an activity now.
 * </ul>
 *
 * One facade per registry ({@link #of}): the slot gauges sum over every {@link DevicePool} of the
 * process. Creating it registers every series whose tags are known in advance, so a scrape shows
 * them at zero before anything ran.
 */
public final class PromptlineMetrics {
  public static final String RUNS = "promptline.runs";
  public static final String EPOCH = "promptline.train.epoch";
  public static final String QUEUE_WAIT = "promptline.activity.queue.wait";
  public static final String CACHE = "promptline.cache.requests";
  public static final String SLOTS = "promptline.slots";
  public static final String SLOTS_BUSY = "promptline.slots.busy";

  /** The caches {@link #cache} counts. */
  public static final String FEATURES = "features";
  public static final String MODEL = "model";
  public static final String SCRATCH = "scratch";

  /** Terminal statuses pre-registered (MLflow's, lower case). */
  static final List<String> STATUSES = List.of("finished", "failed", "killed");

  /** Histogram buckets (seconds): epochs and queue waits range from milliseconds to an hour. */
  private static final Duration[] BUCKETS = {Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120), Duration.ofSeconds(300),
      Duration.ofSeconds(600), Duration.ofSeconds(1800), Duration.ofSeconds(3600)};

  /** A facade over a registry nobody reads: for code paths given no metrics. */
  public static final PromptlineMetrics NONE = new PromptlineMetrics(new CompositeMeterRegistry());

  private static final Map<MeterRegistry, PromptlineMetrics> BY_REGISTRY = new WeakHashMap<>();

  private final MeterRegistry registry;
  private final AtomicInteger slots = new AtomicInteger();
  private final AtomicInteger busy = new AtomicInteger();

  private PromptlineMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (String s : STATUSES) runsCounter(s);
    for (String c : List.of(FEATURES, MODEL))
      for (boolean hit : new boolean[] {true, false}) cacheCounter(c, hit);
    Gauge.builder(SLOTS, slots, AtomicInteger::get).description("compute slots of this worker (one per device)")
        .register(registry);
    Gauge.builder(SLOTS_BUSY, busy, AtomicInteger::get).description("compute slots running an activity now")
        .register(registry);
  }

  /** The facade of {@code registry} (one per registry). */
  public static PromptlineMetrics of(MeterRegistry registry) {
    synchronized (BY_REGISTRY) {
      return BY_REGISTRY.computeIfAbsent(registry, PromptlineMetrics::new);
    }
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** A run reached its terminal status ({@code FINISHED}, {@code FAILED}, {@code KILLED}). */
  public void runFinished(String status) {
    runsCounter(status.toLowerCase(Locale.ROOT)).increment();
  }

  /** One training epoch of {@code method} took {@code time}. */
  public void epoch(String method, Duration time) {
    Timer.builder(EPOCH).description("wall time of one training epoch").tag("method", method)
        .serviceLevelObjectives(BUCKETS).register(registry).record(time);
  }

  /** An activity attempt waited {@code wait} in {@code queue} between being scheduled and being started. */
  public void queueWait(String activityType, String queue, Duration wait) {
    Timer.builder(QUEUE_WAIT).description("time from an activity attempt being scheduled to a worker starting it")
        .tags("activity", activityType, "queue", queue).serviceLevelObjectives(BUCKETS).register(registry).record(wait);
  }

  /** A lookup in {@code cache} ({@link #FEATURES}, {@link #MODEL}) found what it looked for, or not. */
  public void cache(String cache, boolean hit) {
    cacheCounter(cache, hit).increment();
  }

  /** Counts the scratch cache's hits and misses (it keeps the counts itself). */
  public void bindScratch(ScratchCache scratch) {
    FunctionCounter.builder(CACHE, scratch, ScratchCache::hits).tags("cache", SCRATCH, "result", "hit")
        .description("cache lookups").register(registry);
    FunctionCounter.builder(CACHE, scratch, ScratchCache::misses).tags("cache", SCRATCH, "result", "miss")
        .description("cache lookups").register(registry);
  }

  /** {@code n} compute slots were created. */
  void slotsAdded(int n) {
    slots.addAndGet(n);
  }

  void slotTaken() {
    busy.incrementAndGet();
  }

  void slotFreed() {
    busy.decrementAndGet();
  }

  private Counter runsCounter(String status) {
    return Counter.builder(RUNS).description("runs by terminal status").tag("status", status).register(registry);
  }

  private Counter cacheCounter(String cache, boolean hit) {
    return Counter.builder(CACHE).description("cache lookups").tags("cache", cache, "result", hit ? "hit" : "miss")
        .register(registry);
  }
}
