package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
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

  @BeforeEach
  void setUp() {
    store = new LocalObjectStore(dir.resolve("store"));
    tracker = new FileTracker(dir.resolve("mlruns"));
    models = new ModelCache();
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new ComputeActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry()), models, 1));
    compute = env.newActivityStub(ComputeActivities.class, ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(2)).setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
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

  @Test
  void train_checkpointsEveryEpoch_resumesOnRetry_andEvaluateUsesTheTrainedPrompt() throws Exception {
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
    TrainParams p = new TrainParams(3, 4, 0.5, 0.9, 5e-4, 1, 1e-5, 4, "a photo of a", 2);
    RunConfig config = new RunConfig(new DatasetRef("synthetic", dir.toString(), "fp"),
        new ModelRef("tiny", weights.toString(), ModelCache.sha256(weights)), "coop", 4, 1, "base2novel", p);
    String runId = tracker.createRun(tracker.experimentId("e"), "r", Map.of());
    Stages.StageInput run = new Stages.StageInput("RK", config, runId);

    Stages.TrainResult first = compute.train(new Stages.TrainInput(run, split, feats));
    assertEquals(3, first.epochs());
    assertEquals(0, first.resumedFromEpoch());
    assertEquals(4L * ClipConfig.tinyVit().textWidth(), first.trainableParams());
    assertTrue(Double.isFinite(first.finalLoss()));
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
    assertArrayEquals(prompt1, store.get(again.prompt()));
    assertEquals(3, tracker.metricHistory(runId, "loss").size());

    // resuming from epoch 2 (epoch 3's checkpoint lost) reproduces the uninterrupted result exactly
    store.delete("runs/RK/ckpt/epoch-00003.safetensors");
    Stages.TrainResult resumed = compute.train(new Stages.TrainInput(run, split, feats));
    assertEquals(2, resumed.resumedFromEpoch());
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
}
