package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.retry.FakeClock;
import ai.promptline.activities.retry.Retrier;
import ai.promptline.activities.retry.Transients;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.ForwardingTracker;
import ai.promptline.activities.tracking.RetryingTracker;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipWeights;
import ai.promptline.ml.clip.Safetensors;
import ai.promptline.ml.train.TensorBytes;
import ai.promptline.workflows.api.ComputeActivities;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.TrainParams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The train and evaluate activities on cached features of a tiny random CLIP: one checkpoint and
 * one loss/lr point per epoch, a repeated attempt resumes from the newest checkpoint without
 * re-logging, and evaluation uses the trained prompt rather than the initial one.
 */
class ComputeTrainEvalTest {
  @TempDir Path dir;
  private TestActivityEnvironment env;
  private ComputeActivities compute;
  private LocalObjectStore store;
  private FileTracker tracker;
  private ModelCache models;
  private SimpleMeterRegistry meters;

  @BeforeEach
  void setUp() {
    store = new LocalObjectStore(dir.resolve("store"));
    tracker = new FileTracker(dir.resolve("mlruns"));
    models = new ModelCache();
    start(tracker);
  }

  private void start(Tracker activityTracker) {
    start(activityTracker, Duration.ofSeconds(60));
  }

  /** The activity environment with the compute activities over {@code store} and {@code activityTracker}. */
  private void start(Tracker activityTracker, Duration heartbeatTimeout) {
    if (env != null) env.close();
    env = TestActivityEnvironment.newInstance();
    meters = new SimpleMeterRegistry();
    env.registerActivitiesImplementations(
        new ComputeActivitiesImpl(new Backends(store, activityTracker, meters), models, 1));
    compute = env.newActivityStub(ComputeActivities.class, ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(2)).setHeartbeatTimeout(heartbeatTimeout)
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .build());
  }

  @AfterEach
  void tearDown() {
    env.close();
    models.close();
  }

  private static NDArray normalRows(NDManager m, Shape s, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[(int) s.size()];
    for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
    return m.create(v, s);
  }

  private BlobRef features(NDManager m, String key, Shape s, long seed) {
    return store.put(key, TensorBytes.encode(Map.of("features", normalRows(m, s, seed)), Map.of()));
  }

  /** A CoOp run on cached random features of a tiny random CLIP: 12 train, 30 base and 10 novel test items. */
  private record Coop(Stages.SplitResult split, Stages.FeatureResult feats, RunConfig config) {
    Stages.TrainInput input(Stages.StageInput run) {
      return new Stages.TrainInput(run, split, feats);
    }
  }

  private Coop coop(int epochs) throws Exception {
    Path weights = dir.resolve("tiny.safetensors");
    int e = ClipConfig.tinyVit().embedDim();
    Stages.SplitResult split;
    Stages.FeatureResult feats;
    try (NDManager m = NDManager.newBaseManager()) {
      Safetensors.write(weights, ClipWeights.random(ClipConfig.tinyVit(), 4, m), ClipWeights.metadataFor(ClipConfig.tinyVit()));
      List<SplitIndex.Item> train = new ArrayList<>();
      for (int i = 0; i < 12; i++) train.add(new SplitIndex.Item("train/" + i + ".png", i % 3));
      List<SplitIndex.Item> test = new ArrayList<>();
      for (int i = 0; i < 30; i++) test.add(new SplitIndex.Item("test/" + i + ".png", i % 3));
      List<SplitIndex.Item> novel = new ArrayList<>();
      for (int i = 0; i < 10; i++) novel.add(new SplitIndex.Item("novel/" + i + ".png", i % 2));
      SplitIndex index = new SplitIndex("synthetic", dir.toString(), "a photo of a {}.", List.of("cat", "dog", "sea_lion"),
          List.of("owl", "fox"), train, test, novel);
      BlobRef ix = store.put("splits/ix.json", index.toJson());
      split = new Stages.SplitResult(ix, "fp", index.template(), index.baseClasses(), index.novelClasses(), 12, 30, 10);
      feats = new Stages.FeatureResult("fk", features(m, "features/train", new Shape(2, 12, e), 1),
          features(m, "features/base", new Shape(30, e), 2), features(m, "features/novel", new Shape(10, e), 3), e, 2, false);
    }
    TrainParams p = new TrainParams(epochs, 4, 0.5, 0.9, 5e-4, 1, 1e-5, 4, "a photo of a", 2);
    RunConfig config = new RunConfig(new DatasetRef("synthetic", dir.toString(), "fp"),
        new ModelRef("tiny", weights.toString(), ModelCache.sha256(weights)), "coop", 4, 1, "base2novel", p);
    return new Coop(split, feats, config);
  }

  @Test
  void train_checkpointsEveryEpoch_resumesOnRetry_andEvaluateUsesTheTrainedPrompt() throws Exception {
    Coop coop = coop(3);
    Stages.SplitResult split = coop.split();
    Stages.FeatureResult feats = coop.feats();
    RunConfig config = coop.config();
    String runId = tracker.createRun(tracker.experimentId("e"), "r", Map.of());
    Stages.StageInput run = new Stages.StageInput("RK", config, runId);

    Stages.TrainResult first = compute.train(new Stages.TrainInput(run, split, feats));
    assertEquals(3, first.epochs());
    assertEquals(3, meters.get(PromptlineMetrics.EPOCH).tag("method", "coop").timer().count(), "one epoch time per epoch");
    assertEquals(1.0, meters.get(PromptlineMetrics.SLOTS).gauge().value());
    assertEquals(0.0, meters.get(PromptlineMetrics.SLOTS_BUSY).gauge().value(), "the slot was released");
    assertEquals(String.valueOf(DevicePool.devices(1, DevicePool.gpuCount()).get(0)), first.environment().get("device"),
        "computed on the slot's device");
    assertEquals(0, first.resumedFromEpoch());
    assertEquals(4L * ClipConfig.tinyVit().textWidth(), first.trainableParams());
    assertTrue(Double.isFinite(first.finalLoss()));
    // cost: 3 epochs × 3 steps (12 items, batch 4), every item once per epoch, on the CPU
    assertEquals(9L, first.cost().steps());
    assertEquals(36L, first.cost().images());
    assertTrue(first.cost().stepMillis() > 0 && first.cost().stepMillis() * 9 <= first.cost().millis(), first.cost().toString());
    assertEquals("cpu()", first.cost().device());
    assertTrue(first.cost().rssPeakBytes() > 0 && first.cost().heapPeakBytes() > 0, first.cost().toString());
    assertEquals(List.of("runs/RK/ckpt/epoch-00001.safetensors", "runs/RK/ckpt/epoch-00002.safetensors",
        "runs/RK/ckpt/epoch-00003.safetensors"), store.list("runs/RK/ckpt/"));
    assertEquals(List.of(1L, 2L, 3L), tracker.metricHistory(runId, "loss").stream().map(Metric::step).toList());
    List<Double> lrs = tracker.metricHistory(runId, "lr").stream().map(Metric::value).toList();
    double[] expectedLr = {1e-5, 0.5, 0.5 * 0.5 * (1 + Math.cos(Math.PI / 3))}; // warm-up, then cosine over T = 3
    assertEquals(3, lrs.size());
    for (int i = 0; i < 3; i++) assertEquals(expectedLr[i], lrs.get(i), 1e-12, "lr of epoch " + (i + 1));
    byte[] prompt1 = store.get(first.prompt());

    // a repeated attempt finds the last checkpoint: nothing left to train, same prompt, no duplicate points
    Stages.TrainResult again = compute.train(new Stages.TrainInput(run, split, feats));
    assertEquals(3, again.resumedFromEpoch());
    assertEquals(0L, again.cost().steps(), "nothing left to train: no steps");
    assertEquals(0L, again.cost().images());
    assertNull(again.cost().stepMillis());
    assertArrayEquals(prompt1, store.get(again.prompt()));
    assertEquals(3, tracker.metricHistory(runId, "loss").size());

    // resuming from epoch 2 (epoch 3's checkpoint lost) reproduces the uninterrupted result exactly
    store.delete("runs/RK/ckpt/epoch-00003.safetensors");
    Stages.TrainResult resumed = compute.train(new Stages.TrainInput(run, split, feats));
    assertEquals(2, resumed.resumedFromEpoch());
    assertEquals(3L, resumed.cost().steps(), "this attempt ran epoch 3 only");
    assertEquals(12L, resumed.cost().images());
    try (NDManager m = NDManager.newBaseManager()) {
      float[] a = TensorBytes.decode(prompt1, m).tensors().get("ctx").toFloatArray();
      float[] b = TensorBytes.decode(store.get(resumed.prompt()), m).tensors().get("ctx").toFloatArray();
      assertArrayEquals(a, b);
    }
    assertEquals(3, tracker.metricHistory(runId, "loss").size(), "epoch 3 was logged by the first attempt already");

    Stages.EvalResult untrained = compute.evaluate(new Stages.EvalInput(run, split, feats, null));
    Stages.EvalResult trained = compute.evaluate(new Stages.EvalInput(run, split, feats, first));
    assertEquals(30, trained.baseTotal());
    assertEquals(10, trained.novelTotal());
    assertEquals(40L, trained.cost().images(), "base and novel test items");
    assertEquals("cpu()", trained.cost().device());
    assertEquals(Stages.EvalResult.harmonicMean(trained.accBase(), trained.accNovel()), trained.hm(), 1e-12);
    // ctx moved a lot (lr 0.5): the trained prompt must change some prediction on 40 random images
    assertFalse(untrained.accBase() == trained.accBase() && untrained.accNovel() == trained.accNovel(),
        "evaluation ignored the trained prompt: " + untrained + " vs " + trained);
  }

  /**
   * A method that prompts the image tower (MaPLe) trains and evaluates on the split's image files,
   * not cached features; a retry after a lost checkpoint resumes bit-exactly; the train result
   * records the environment it ran in.
   */
  @Test
  void pixelMethod_trainsOnImages_resumesBitExactly_andRecordsItsEnvironment() throws Exception {
    Path weights = dir.resolve("tiny.safetensors");
    Stages.SplitResult split;
    List<SplitIndex.Item> train = new ArrayList<>();
    List<SplitIndex.Item> test = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      Safetensors.write(weights, ClipWeights.random(ClipConfig.tinyVit(), 4, m), ClipWeights.metadataFor(ClipConfig.tinyVit()));
    }
    java.nio.file.Files.createDirectories(dir.resolve("img"));
    for (int i = 0; i < 8; i++) {
      java.awt.image.BufferedImage bi = new java.awt.image.BufferedImage(40, 40, java.awt.image.BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 40; y++) for (int x = 0; x < 40; x++) bi.setRGB(x, y, ((i % 2 == 0 ? x : y) * 6) << 16 | (i * 30) << 8 | 90);
      javax.imageio.ImageIO.write(bi, "png", dir.resolve("img/" + i + ".png").toFile());
      (i < 6 ? train : test).add(new SplitIndex.Item("img/" + i + ".png", i % 2));
    }
    SplitIndex index = new SplitIndex("synthetic", dir.toString(), "a photo of a {}.", List.of("stripes", "bars"),
        List.of(), train, test, List.of());
    split = new Stages.SplitResult(store.put("splits/px.json", index.toJson()), "fp", index.template(), index.baseClasses(),
        index.novelClasses(), 6, 2, 0);
    TrainParams p = new TrainParams(3, 4, 0.05, 0.9, 5e-4, 1, 1e-5, 2, "a photo of a", 0);
    RunConfig config = new RunConfig(new DatasetRef("synthetic", dir.toString(), "fp"),
        new ModelRef("tiny", weights.toString(), ModelCache.sha256(weights)), "maple", 4, 1, "base2novel", p, List.of(),
        Map.of("depth", "2"));
    String runId = tracker.createRun(tracker.experimentId("e"), "px", Map.of());
    Stages.StageInput run = new Stages.StageInput("PX", config, runId);
    Stages.FeatureResult none = compute.cacheFeatures(run, split);
    assertEquals(null, none.train(), "nothing cached for a pixel method");
    assertEquals(null, none.baseTest());

    Stages.TrainResult first = compute.train(new Stages.TrainInput(run, split, none));
    assertEquals(3, first.epochs());
    assertTrue(first.environment().containsKey("device") && first.environment().containsKey("pytorch"), first.environment().toString());
    assertEquals(0, first.recomputedSteps());
    byte[] prompt1 = store.get(first.prompt());
    store.delete("runs/PX/ckpt/epoch-00003.safetensors");
    store.delete("runs/PX/ckpt/epoch-00002.safetensors");
    Stages.TrainResult resumed = compute.train(new Stages.TrainInput(run, split, none));
    assertEquals(1, resumed.resumedFromEpoch());
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> a = TensorBytes.decode(prompt1, m).tensors();
      Map<String, NDArray> b = TensorBytes.decode(store.get(resumed.prompt()), m).tensors();
      assertEquals(a.keySet(), b.keySet());
      for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
    }
    assertEquals(List.of(0.0, 0.0), tracker.metricHistory(runId, "train.recomputed_steps").stream().map(Metric::value).toList());
    Stages.EvalResult eval = compute.evaluate(new Stages.EvalInput(run, split, none, first));
    assertEquals(2, eval.baseTotal());
  }

  // ------------------------------------------------------------------ the tracker down while training

  /** Fails (connection refused) or drops the logging of one epoch's loss while {@code outage} is set. */
  private static final class EpochOutage extends ForwardingTracker {
    final long step;
    final java.util.concurrent.atomic.AtomicBoolean outage = new java.util.concurrent.atomic.AtomicBoolean(true);
    final java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger(Integer.MAX_VALUE);
    final boolean drop;
    final List<Metric> dropped = new java.util.concurrent.CopyOnWriteArrayList<>();

    EpochOutage(Tracker inner, long step, boolean drop) {
      super(inner);
      this.step = step;
      this.drop = drop;
    }

    @Override
    public void log(String runId, Map<String, String> params, List<Metric> metrics, Map<String, String> tags) {
      boolean hit = metrics.stream().anyMatch(m -> m.key().equals("loss") && m.step() == step);
      if (hit && outage.get() && failures.getAndDecrement() > 0) {
        if (drop) { // the call "succeeds" but nothing is stored: the state an older version left behind
          dropped.addAll(metrics);
          return;
        }
        throw new Tracker.TrackerException("MLflow at file-test: log failed", new java.net.ConnectException("Connection refused"));
      }
      super.log(runId, params, metrics, tags);
    }
  }

  private static List<Long> steps(Tracker t, String runId, String key) {
    return t.metricHistory(runId, key).stream().map(Metric::step).toList();
  }

  /**
   * MLflow refuses connections for a few tries at the end of epoch 2: the attempt waits (it is not
   * failed), heartbeating the progress it had (epoch 1's checkpoint) rather than clearing it, and
   * every epoch is logged once.
   */
  @Test
  void trackerDownBrieflyAtAnEpoch_trainingWaits_heartbeatingItsProgress_andLogsEveryEpochOnce() throws Exception {
    Coop coop = coop(3);
    EpochOutage down = new EpochOutage(tracker, 2, false);
    down.failures.set(3);
    java.util.concurrent.atomic.AtomicInteger waits = new java.util.concurrent.atomic.AtomicInteger();
    start(new RetryingTracker(down, new Retrier(RetryingTracker.serviceName("file-test"), Duration.ofMinutes(5),
        Retrier.Clock.SYSTEM, ms -> {
          waits.incrementAndGet();
          Thread.sleep(ms);
        }, new SplittableRandom(5), Transients::isTransient)), Duration.ofSeconds(1));
    List<ComputeActivitiesImpl.TrainProgress> beats = new java.util.concurrent.CopyOnWriteArrayList<>();
    env.setActivityHeartbeatListener(ComputeActivitiesImpl.TrainProgress.class, beats::add);
    String runId = tracker.createRun(tracker.experimentId("e"), "r", Map.of());
    Stages.TrainResult r = compute.train(coop.input(new Stages.StageInput("RK", coop.config(), runId)));

    assertEquals(0, r.resumedFromEpoch(), "one attempt, no resume");
    assertEquals(3, waits.get());
    assertEquals(List.of(1L, 2L, 3L), steps(tracker, runId, "loss"));
    assertEquals(List.of(1L, 2L, 3L), steps(tracker, runId, "lr"));
    ComputeActivitiesImpl.TrainProgress atEpoch1 = new ComputeActivitiesImpl.TrainProgress(1, "runs/RK/ckpt/epoch-00001.safetensors");
    assertTrue(beats.stream().anyMatch(b -> b.epochsDone() == atEpoch1.epochsDone() && atEpoch1.checkpointKey().equals(b.checkpointKey())
        && b.loss() != null && b.epochs() == 3), "heartbeats during the wait carry the progress (and the loss, for campaign watch): " + beats);
    int first = 0;
    while (beats.get(first).epochsDone() < 1) first++;
    assertTrue(beats.subList(first, beats.size()).stream().allMatch(b -> b.epochsDone() >= 1 && b.checkpointKey() != null),
        "no heartbeat after epoch 1 lost its checkpoint: " + beats);
  }

  /**
   * MLflow stays down past the budget at the end of epoch 2: the attempt fails with a message
   * naming MLflow, epoch 2's checkpoint was not published (its metrics come first), and the
   * resumed attempt logs epochs 2 and 3, so the curve has every epoch once.
   */
  @Test
  void trackerDownPastTheBudget_failsBeforeTheCheckpointCounts_andTheResumeLogsEveryEpochOnce() throws Exception {
    Coop coop = coop(3);
    EpochOutage down = new EpochOutage(tracker, 2, false);
    FakeClock clock = new FakeClock();
    start(new RetryingTracker(down, new Retrier(RetryingTracker.serviceName("file-test"), Duration.ofSeconds(30), clock, clock,
        new SplittableRandom(5), Transients::isTransient)));
    String runId = tracker.createRun(tracker.experimentId("e"), "r", Map.of());
    Stages.StageInput run = new Stages.StageInput("RK", coop.config(), runId);

    io.temporal.failure.ActivityFailure failed = org.junit.jupiter.api.Assertions.assertThrows(
        io.temporal.failure.ActivityFailure.class, () -> compute.train(coop.input(run)));
    String message = ((io.temporal.failure.ApplicationFailure) failed.getCause()).getOriginalMessage();
    assertTrue(message.startsWith("MLflow (tracking server file-test) unreachable for 30s ("), message);
    assertFalse(((io.temporal.failure.ApplicationFailure) failed.getCause()).isNonRetryable(), "Temporal retries it");
    assertEquals(List.of("runs/RK/ckpt/epoch-00001.safetensors"), store.list("runs/RK/ckpt/"),
        "epoch 2's checkpoint waits for its metrics");
    assertEquals(List.of(1L), steps(tracker, runId, "loss"));

    down.outage.set(false);
    Stages.TrainResult resumed = compute.train(coop.input(run));
    assertEquals(1, resumed.resumedFromEpoch());
    assertEquals(List.of(1L, 2L, 3L), steps(tracker, runId, "loss"));
    assertEquals(List.of(1L, 2L, 3L), steps(tracker, runId, "lr"));
  }

  /**
   * A checkpoint whose epoch never reached MLflow (as older versions could leave one: checkpoint
   * first, then the failed metric call): the resumed attempt logs the missing points from the
   * checkpoint's history — the same values and timestamps — exactly once, however often it resumes.
   */
  @Test
  void aCheckpointWithoutItsMetrics_isBackfilledOnResume_onceWithTheOriginalPoints() throws Exception {
    Coop coop = coop(3);
    EpochOutage lost = new EpochOutage(tracker, 2, true);
    lost.failures.set(1);
    start(lost);
    String runId = tracker.createRun(tracker.experimentId("e"), "r", Map.of());
    Stages.StageInput run = new Stages.StageInput("RK", coop.config(), runId);
    compute.train(coop.input(run));
    assertEquals(List.of(1L, 3L), steps(tracker, runId, "loss"), "epoch 2's points were lost");
    assertEquals(2, lost.dropped.size());
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, String> meta = TensorBytes.decode(store.find("runs/RK/ckpt/epoch-00003.safetensors").orElseThrow(), m).metadata();
      assertEquals(3, EpochHistory.decode(meta).points().size(), "the checkpoint carries every epoch's points");
    }

    for (int attempt = 0; attempt < 2; attempt++) {
      Stages.TrainResult again = compute.train(coop.input(run));
      assertEquals(3, again.resumedFromEpoch());
      assertEquals(List.of(1L, 2L, 3L), steps(tracker, runId, "loss").stream().sorted().toList());
      assertEquals(3, steps(tracker, runId, "lr").size());
    }
    for (Metric m : lost.dropped) {
      List<Metric> h = tracker.metricHistory(runId, m.key()).stream().filter(x -> x.step() == 2).toList();
      assertEquals(List.of(m), h, "backfilled with the original value and timestamp");
    }
  }

}
