package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.Stages.StageCost;
import ai.promptline.workflows.model.TrainParams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-run cost: from the stage results to the {@code cost.*} metrics, the device tag and result.json; and its payload compatibility. */
class RunCostTest {
  @TempDir Path dir;

  private static final BlobRef REF = new BlobRef("k", "abc", 1);

  static RunConfig config(String dataset, String method, int shots, int seed) {
    return new RunConfig(new DatasetRef(dataset, "/d", "fp-" + dataset), new ModelRef("ViT-B/16", "/w", "sha"), method, shots, seed,
        "base2novel", TrainParams.coopDefaults(10));
  }

  private static StageCost cost(long millis, Long images, Long steps, Double stepMs, long rss, long heap, String device) {
    return new StageCost(millis, images, steps, stepMs, rss, heap, null, device);
  }

  /** split 0.5 s; features 2 s encoding 100 images; train 10 s, 200 steps of 40 ms over 1600 images; evaluate 1 s, 500 images; targets 0.3 + 0.7 s. */
  static Stages.LogInput measured(String runKey, String runId) {
    Stages.SplitResult split = new Stages.SplitResult(REF, "fp", "t", List.of("a"), List.of("b"), 16, 250, 250)
        .withCost(cost(500, null, null, null, 1_000, 100, null));
    Stages.FeatureResult feats = new Stages.FeatureResult("fk", REF, REF, REF, 32, 4, false)
        .withCost(cost(2_000, 100L, null, null, 3_000, 300, "cpu()"));
    Stages.TrainResult train = new Stages.TrainResult(null, 100, 0, 0.5, 64, 10_000, 0, Map.of())
        .withCost(cost(10_000, 1_600L, 200L, 40.0, 5_000, 200, "gpu(1)"));
    EvalResult eval = new EvalResult(80, 60, EvalResult.harmonicMean(80, 60), 250, 250,
        List.of(new Stages.TargetResult("A", "fa", 50, 10, cost(300, 10L, null, null, 4_000, 900, "gpu(1)")),
            new Stages.TargetResult("B", "fb", 40, 10, cost(700, 10L, null, null, 2_000, 100, "gpu(1)"))))
        .withCost(cost(1_000, 500L, null, null, 4_500, 250, "gpu(1)"));
    return new Stages.LogInput(new Stages.StageInput(runKey, config("EuroSAT", "coop", 16, 1), runId), split, feats, train, eval);
  }

  @Test
  void stageCosts_becomeTheRunsCostFigures_computedByHand() {
    Map<String, Double> c = RunCost.of(measured("RK", "r"));
    assertEquals(0.5, c.get("split_s"));
    assertEquals(2.0, c.get("features_s"));
    assertEquals(10.0, c.get("train_s"));
    assertEquals(1.0, c.get("evaluate_s"));
    assertEquals(1.0, c.get("targets_s"), 1e-12);
    assertEquals(14.5, c.get("wall_s"), 1e-12, "0.5 + 2 + 10 + 1 + 1");
    assertEquals(200.0, c.get("train_steps"));
    assertEquals(40.0, c.get("train_step_ms"));
    assertEquals(200.0, c.get("train_images_per_s"), 1e-9, "1600 images over 200 × 40 ms = 8 s of steps");
    assertEquals(500.0, c.get("eval_images_per_s"), 1e-9);
    assertEquals(50.0, c.get("features_images_per_s"), 1e-9);
    assertEquals(5_000.0, c.get("peak_rss_bytes"), "the largest of the stages' high-water marks");
    assertEquals(900.0, c.get("heap_peak_bytes"));
    assertFalse(c.containsKey("device_mem_bytes"), "no stage measured device memory");
    assertEquals(0.0, c.get("features_cache_hit"));
    assertEquals("gpu(1)", RunCost.device(measured("RK", "r")), "where it trained");

    Map<String, Double> logged = RunCost.withLog(c, 0.25);
    assertEquals(0.25, logged.get("log_s"));
    assertEquals(14.75, logged.get("wall_s"), 1e-12);
  }

  @Test
  void stagesWithoutCost_areLeftOut_notCountedAsZero() {
    Stages.LogInput old = new Stages.LogInput(new Stages.StageInput("RK", config("EuroSAT", "coop", 16, 1), "r"),
        new Stages.SplitResult(REF, "fp", "t", List.of("a"), List.of("b"), 16, 250, 250),
        new Stages.FeatureResult("fk", REF, REF, REF, 32, 4, true), null, new EvalResult(80, 60, 68.6, 250, 250));
    Map<String, Double> c = RunCost.of(old);
    assertEquals(Map.of("features_cache_hit", 1.0), c);
    assertNull(RunCost.device(old));
  }

  @Test
  void logRun_logsCostMetricsAndTheDeviceTag_andResultJsonCarriesThem() {
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    TrackingActivitiesImpl a = new TrackingActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry()));
    String parent = tracker.createRun(tracker.experimentId("e"), "campaign:c", Map.of());
    String id = a.startRun("RK", config("EuroSAT", "coop", 16, 1), parent, "wf");
    RunResult r = a.logRun(measured("RK", id));

    assertEquals("gpu(1)", tracker.getRun(id).tags().get(RunCost.TAG_DEVICE));
    assertEquals(List.of(10.0), tracker.metricHistory(id, "cost.train_s").stream().map(Metric::value).toList());
    assertEquals(List.of(0.0), tracker.metricHistory(id, "cost.features_cache_hit").stream().map(Metric::value).toList());
    double log = tracker.metricHistory(id, "cost.log_s").get(0).value();
    assertTrue(log >= 0 && log < 60, "log stage seconds: " + log);
    assertEquals(List.of(14.5 + log), tracker.metricHistory(id, "cost.wall_s").stream().map(Metric::value).toList(),
        "one wall_s row, including the log stage");
    assertEquals(14.5 + log, r.cost().get("wall_s"), 1e-12);
    assertEquals("gpu(1)", r.device());
    assertEquals(r, a.lookupFinished("RK"), "result.json carries cost and device");
    assertEquals(r.cost(), a.lookupFinished("RK").asReused().cost(), "a reused result keeps its cost");
  }

  /** logRun retried after its first attempt logged everything: each cost metric, the log stage's included, has one row. */
  @Test
  void aRetriedLogRun_logsEachCostMetricOnce() {
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    LocalObjectStore local = new LocalObjectStore(dir.resolve("store"));
    java.util.concurrent.atomic.AtomicInteger resultWrites = new java.util.concurrent.atomic.AtomicInteger();
    ObjectStore store = new FailFirstResult(local, resultWrites);
    TrackingActivitiesImpl impl = new TrackingActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry()));
    String parent = tracker.createRun(tracker.experimentId("e"), "campaign:c", Map.of());
    String id = impl.startRun("RK", config("EuroSAT", "coop", 16, 1), parent, "wf-1");
    try (io.temporal.testing.TestWorkflowEnvironment env = io.temporal.testing.TestWorkflowEnvironment.newInstance()) {
      io.temporal.worker.Worker w = env.newWorker("q");
      w.registerWorkflowImplementationTypes(TrackingActivitiesImplTest.LogOnceImpl.class);
      w.registerActivitiesImplementations(impl);
      env.start();
      env.getWorkflowClient().newWorkflowStub(TrackingActivitiesImplTest.LogOnce.class,
          io.temporal.client.WorkflowOptions.newBuilder().setTaskQueue("q").build()).log(measured("RK", id));
    }
    assertEquals(2, resultWrites.get(), "the first attempt failed after logging");
    for (String m : List.of("cost.train_s", "cost.log_s", "cost.wall_s", "cost.train_step_ms"))
      assertEquals(1, tracker.metricHistory(id, m).size(), m + ": " + tracker.metricHistory(id, m));
    assertEquals(tracker.metricHistory(id, "cost.wall_s").get(0).value(), impl.lookupFinished("RK").cost().get("wall_s"));
  }

  @Test
  void stageMeter_readsTheProcessHighWaterMark_andStepsExcludeThePauses() throws Exception {
    assertEquals(123L * 1024, StageMeter.parseKb("Name:\tjava\nVmPeak:\t  999 kB\nVmHWM:\t     123 kB\n", "VmHWM:"));
    assertNull(StageMeter.parseKb("Name:\tjava\n", "VmHWM:"));
    if (java.nio.file.Files.exists(Path.of("/proc/self/status"))) assertTrue(StageMeter.rssPeakBytes() > 0);
    assertTrue(StageMeter.heapPeakBytes() > 0);
    StageMeter.Steps s = new StageMeter.Steps();
    assertNull(s.meanMillis());
    Thread.sleep(300); // not step time: the clock resumes after it
    s.resume();
    s.step();
    s.step();
    assertEquals(2, s.count());
    assertTrue(s.meanMillis() < 150, "mean step " + s.meanMillis() + " ms must not include the 300 ms pause");
  }

  /** Payloads and result records written before cost existed decode with null / empty cost; cost-less ones encode as before. */
  @Test
  void payloadsWithoutCost_decode_andEncodeWithoutACostKey() {
    DataConverter conv = DefaultDataConverter.newDefaultInstance();
    for (Object old : List.<Object>of(new Stages.SplitResult(REF, "fp", "t", List.of("a"), List.of("b"), 1, 2, 3),
        new Stages.FeatureResult("fk", REF, REF, null, 32, 1, true), new Stages.TrainResult(REF, 1, 0, 0.5, 3, 10),
        new EvalResult(1, 2, 3, 4, 5), new Stages.TargetResult("A", "f", 1, 2),
        new RunResult("RK", config("EuroSAT", "coop", 16, 1), "r", Stages.FINISHED, new EvalResult(1, 2, 3, 4, 5), false, null))) {
      var payload = conv.toPayload(old).orElseThrow();
      String json = payload.getData().toString(StandardCharsets.UTF_8);
      assertFalse(json.contains("\"cost\"") || json.contains("\"device\""), json);
      assertEquals(old, conv.fromPayload(payload, old.getClass(), old.getClass()));
    }
    Stages.LogInput in = measured("RK", "r");
    var payload = conv.toPayload(in).orElseThrow();
    assertEquals(in, conv.fromPayload(payload, Stages.LogInput.class, Stages.LogInput.class), "costs round-trip");
    Map<String, Double> cost = new LinkedHashMap<>(Map.of("wall_s", 1.5));
    RunResult withCost = new RunResult("RK", config("EuroSAT", "coop", 16, 1), "r", Stages.FINISHED, null, false, null, cost, "cpu()");
    assertEquals(withCost, TrackingActivitiesImpl.read(TrackingActivitiesImpl.write(withCost), RunResult.class));
  }

  /** A store whose first write of a result.json fails (after logRun logged everything). */
  private record FailFirstResult(LocalObjectStore local, java.util.concurrent.atomic.AtomicInteger resultWrites) implements ObjectStore {
    public BlobRef put(String key, byte[] data) {
      if (key.endsWith("/result.json") && resultWrites.incrementAndGet() == 1)
        throw new IllegalStateException("the store went away writing " + key);
      return local.put(key, data);
    }

    public java.util.Optional<Blob> read(String key) {
      return local.read(key);
    }

    public java.util.Optional<Stat> stat(String key) {
      return local.stat(key);
    }

    public List<String> list(String prefix) {
      return local.list(prefix);
    }

    public void delete(String key) {
      local.delete(key);
    }

    public String describe() {
      return local.describe();
    }
  }
}
