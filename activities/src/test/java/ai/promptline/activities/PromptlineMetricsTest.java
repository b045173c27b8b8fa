package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.store.ScratchCache;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.BlobRef;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.testing.TestActivityEnvironment;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.worker.WorkerFactoryOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker metrics move when their code paths run (activities and caches called directly). */
class PromptlineMetricsTest {
  @TempDir Path dir;

  private static double count(MeterRegistry reg, String name, String... tags) {
    return reg.get(name).tags(tags).counter().count();
  }

  @Test
  void oneFacadePerRegistry_withTheKnownSeriesRegisteredAtZero() {
    MeterRegistry reg = new SimpleMeterRegistry();
    PromptlineMetrics m = PromptlineMetrics.of(reg);
    assertSame(m, PromptlineMetrics.of(reg));
    for (String s : PromptlineMetrics.STATUSES) assertEquals(0.0, count(reg, PromptlineMetrics.RUNS, "status", s));
    assertEquals(0.0, count(reg, PromptlineMetrics.CACHE, "cache", "model", "result", "miss"));
    assertEquals(0.0, reg.get(PromptlineMetrics.SLOTS_BUSY).gauge().value());
  }

  @Test
  void finishRun_countsTheRunByItsTerminalStatus() {
    MeterRegistry reg = new SimpleMeterRegistry();
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    TrackingActivitiesImpl tracking = new TrackingActivitiesImpl(new Backends(new LocalObjectStore(dir.resolve("store")), tracker, reg));
    String exp = tracker.experimentId("e");
    tracking.finishRun(tracker.createRun(exp, "a", Map.of()), Stages.FINISHED, null);
    tracking.finishRun(tracker.createRun(exp, "b", Map.of()), Stages.FAILED, "boom");
    tracking.finishRun(tracker.createRun(exp, "c", Map.of()), Stages.FAILED, "boom again");
    tracking.finishRun(tracker.createRun(exp, "d", Map.of()), Stages.KILLED, "cancelled");
    assertEquals(1.0, count(reg, PromptlineMetrics.RUNS, "status", "finished"));
    assertEquals(2.0, count(reg, PromptlineMetrics.RUNS, "status", "failed"));
    assertEquals(1.0, count(reg, PromptlineMetrics.RUNS, "status", "killed"));
  }

  @Test
  void scratchCache_hitsAndMisses_areCounted() {
    MeterRegistry reg = new SimpleMeterRegistry();
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    ScratchCache scratch = ScratchCache.open(dir.resolve("scratch"), 1 << 20);
    PromptlineMetrics.of(reg).bindScratch(scratch);
    BlobRef ref = store.put("features/f.safetensors", new byte[] {1, 2, 3, 4});
    assertArrayEquals(new byte[] {1, 2, 3, 4}, scratch.get(store, ref));
    assertEquals(1.0, reg.get(PromptlineMetrics.CACHE).tags("cache", "scratch", "result", "miss").functionCounter().count());
    assertEquals(0.0, reg.get(PromptlineMetrics.CACHE).tags("cache", "scratch", "result", "hit").functionCounter().count());
    scratch.get(store, ref);
    scratch.get(store, ref);
    assertEquals(2.0, reg.get(PromptlineMetrics.CACHE).tags("cache", "scratch", "result", "hit").functionCounter().count());
    assertEquals(1.0, reg.get(PromptlineMetrics.CACHE).tags("cache", "scratch", "result", "miss").functionCounter().count());
  }

  @ActivityInterface
  public interface Sleepy {
    String nap(int millis);
  }

  public static final class SleepyImpl implements Sleepy {
    @Override
    public String nap(int millis) {
      return "ok";
    }
  }

  @Test
  void queueWait_isRecordedPerActivityTypeAndQueue_byTheInterceptor() {
    MeterRegistry reg = new SimpleMeterRegistry();
    TestActivityEnvironment env = TestActivityEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
        .setWorkerFactoryOptions(WorkerFactoryOptions.newBuilder()
            .setWorkerInterceptors(new QueueWaitInterceptor(PromptlineMetrics.of(reg))).build())
        .build());
    try {
      env.registerActivitiesImplementations(new SleepyImpl());
      Sleepy s = env.newActivityStub(Sleepy.class, ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofSeconds(10)).build());
      assertEquals("ok", s.nap(1));
      assertEquals("ok", s.nap(1));
    } finally {
      env.close();
    }
    Timer t = reg.find(PromptlineMetrics.QUEUE_WAIT).tag("activity", "Nap").timer();
    assertNotNull(t, "queue wait recorded: " + reg.getMeters().stream().map(x -> x.getId().toString()).toList());
    assertEquals(2, t.count());
    assertTrue(t.getId().getTag("queue") != null && !t.getId().getTag("queue").isEmpty(), t.getId().toString());
    assertTrue(t.max(TimeUnit.SECONDS) < 10, "a wait of " + t.max(TimeUnit.SECONDS) + " s in a test environment");
  }

  @Test
  void epoch_isATimerPerMethod() {
    MeterRegistry reg = new SimpleMeterRegistry();
    PromptlineMetrics.of(reg).epoch("coop", Duration.ofMillis(1500));
    PromptlineMetrics.of(reg).epoch("coop", Duration.ofMillis(500));
    Timer t = reg.get(PromptlineMetrics.EPOCH).tag("method", "coop").timer();
    assertEquals(2, t.count());
    assertEquals(2.0, t.totalTime(TimeUnit.SECONDS), 1e-9);
  }
}
