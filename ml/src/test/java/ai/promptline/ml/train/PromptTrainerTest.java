package ai.promptline.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.CoOp;
import ai.promptline.ml.methods.Features;
import ai.promptline.ml.methods.MethodContext;
import ai.promptline.ml.methods.MethodOptions;
import ai.promptline.ml.methods.PromptMethod;
import ai.promptline.ml.methods.PromptMethod.FeatureHead;
import ai.promptline.ml.methods.ZeroShotClip;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shared loop: Dassl's drop_last batching over a seeded permutation, per-epoch views and LR,
 * resumption at an epoch boundary that reproduces an uninterrupted run exactly, divergence, and
 * bit-reproducibility of fresh runs.
 */
class PromptTrainerTest {
  private static NDManager manager;
  private static final ClassSet CLASSES = new ClassSet(List.of("cat", "dog", "sea_lion"), "a photo of a {}.");

  @BeforeAll
  static void setUp() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void tearDown() {
    manager.close();
  }

  /** A linear classifier over features: one learnable {@code W [C, E]}, logits = f·Wᵀ. */
  static final class Linear implements PromptMethod {
    final NDArray w;
    final List<float[]> seenFirstColumns = new ArrayList<>();
    boolean record;

    Linear(NDManager m, int classes, int dim, long seed) {
      SplittableRandom r = new SplittableRandom(seed);
      float[] v = new float[classes * dim];
      for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() - 0.5);
      w = m.create(v, new Shape(classes, dim));
      w.setRequiresGradient(true);
    }

    @Override
    public String name() {
      return "linear";
    }

    @Override
    public Map<String, NDArray> parameters() {
      return Map.of("w", w);
    }

    @Override
    public Head bind(ClassSet classes) {
      return (FeatureHead) f -> {
        if (record) seenFirstColumns.add(f.get(":, 0").toFloatArray());
        return f.matMul(w.transpose());
      };
    }

    @Override
    public void close() {
      w.close();
    }
  }

  /** Features {@code [V, N, E]} whose entry (v, i, 0) is {@code 1000·v + i}, so batches identify their items. */
  private static NDArray taggedFeatures(NDManager m, int views, int n, int dim, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[views * n * dim];
    for (int a = 0; a < views; a++)
      for (int i = 0; i < n; i++)
        for (int d = 0; d < dim; d++) v[(a * n + i) * dim + d] = d == 0 ? 1000f * a + i : (float) r.nextGaussian();
    return m.create(v, new Shape(views, n, dim));
  }

  /** Two fresh CoOp runs of one config give identical prompts and losses, bit for bit. */
  @Test
  void twoFreshCoOpRunsAreBitIdentical() {
    try (NDManager m = manager.newSubManager(); ClipModel clip = ClipModel.random(ClipConfig.tinyVit(), 3, m)) {
      NDArray f = randomFeatures(m, 2, 12, clip.config().embedDim(), 8);
      int[] y = labels(12, 3);
      PromptTrainer.Settings s = settings(4, 4, 0.05, 4);
      Function<NDManager, PromptMethod> build =
          mm -> new CoOp(new MethodContext(clip, ClipTokenizer.getDefault(), mm, new MethodOptions(4, "a photo of a"), 1));
      List<Double> l1 = new ArrayList<>();
      List<Double> l2 = new ArrayList<>();
      Map<String, float[]> a = trainStraight(build, f, y, s, l1, new ArrayList<>());
      System.gc(); // the old failure mode needed freed memory to be reused between forward and backward
      Map<String, float[]> b = trainStraight(build, f, y, s, l2, new ArrayList<>());
      assertArrayEquals(a.get("ctx"), b.get("ctx"));
      assertEquals(l1, l2);
    }
  }

  private static NDArray randomFeatures(NDManager m, int views, int n, int dim, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[views * n * dim];
    for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
    return Features.normalize(m.create(v, new Shape(views, n, dim)));
  }

  private static int[] labels(int n, int classes) {
    int[] y = new int[n];
    for (int i = 0; i < n; i++) y[i] = (i * 7 + 1) % classes;
    return y;
  }

  private static PromptTrainer.Settings settings(int epochs, int batch, double lr, long seed) {
    return new PromptTrainer.Settings(epochs, batch, new LrSchedule(lr, epochs, 1, 1e-5), 0.9, 5e-4, seed);
  }

  private static Map<String, float[]> snapshot(Map<String, NDArray> state) {
    Map<String, float[]> s = new LinkedHashMap<>();
    state.forEach((k, v) -> s.put(k, v.toFloatArray()));
    return s;
  }

  private static Map<String, NDArray> copy(Map<String, NDArray> state, NDManager m) {
    Map<String, NDArray> c = new LinkedHashMap<>();
    state.forEach((k, v) -> c.put(k, m.create(v.toFloatArray(), v.getShape())));
    return c;
  }

  /** Thrown by a listener to simulate a worker dying right after a checkpoint. */
  private static final class Crash extends RuntimeException {}

  // ------------------------------------------------------------------ permutation

  @Test
  void permutation_isAPermutation_deterministic_andDiffersPerEpochAndSeed() {
    for (int n : new int[] {1, 2, 7, 64}) {
      int[] p = EpochOrder.permutation(n, 3, 0);
      int[] sorted = p.clone();
      Arrays.sort(sorted);
      for (int i = 0; i < n; i++) assertEquals(i, sorted[i], "n=" + n);
      assertArrayEquals(p, EpochOrder.permutation(n, 3, 0));
    }
    Set<String> orders = new HashSet<>();
    for (int e = 0; e < 20; e++) orders.add(Arrays.toString(EpochOrder.permutation(50, 1, e)));
    assertEquals(20, orders.size(), "every epoch has its own order");
    assertFalse(Arrays.equals(EpochOrder.permutation(50, 1, 0), EpochOrder.permutation(50, 2, 0)));
    int[] identity = new int[50];
    for (int i = 0; i < 50; i++) identity[i] = i;
    assertFalse(Arrays.equals(identity, EpochOrder.permutation(50, 1, 0)), "shuffled");
  }

  // ------------------------------------------------------------------ batching

  private record Seen(List<Integer> batchEnds, List<float[]> firstColumns, List<Integer> epochs) {}

  private static Seen run(int n, int batch, int epochs, int views) {
    try (NDManager m = manager.newSubManager()) {
      NDArray f = taggedFeatures(m, views, n, 4, 11);
      Linear method = new Linear(m, 3, 4, 5);
      method.record = true;
      List<Integer> batchEnds = new ArrayList<>();
      List<Integer> epochList = new ArrayList<>();
      PromptTrainer.train(method, CLASSES, new FeatureBatches(f, labels(n, 3)), settings(epochs, batch, 1e-3, 9), PromptTrainer.Resume.fresh(),
          new PromptTrainer.Listener() {
            @Override
            public void epochEnd(int epoch, double meanLoss, double lr, Map<String, NDArray> state) {
              epochList.add(epoch);
            }

            @Override
            public void batchEnd(int epoch, int b) {
              batchEnds.add(epoch * 1000 + b);
            }
          });
      return new Seen(batchEnds, method.seenFirstColumns, epochList);
    }
  }

  @Test
  void dropLast_nAtLeastBatch_givesFloorNOverBatchFullBatches_inPermutationOrder_fromViewEModV() {
    int n = 10;
    int batch = 4;
    Seen s = run(n, batch, 3, 2);
    assertEquals(List.of(0, 1, 2), s.epochs());
    assertEquals(List.of(0, 1, 1000, 1001, 2000, 2001), s.batchEnds());
    assertEquals(6, s.firstColumns().size());
    for (int e = 0; e < 3; e++) {
      int[] order = EpochOrder.permutation(n, 9, e);
      for (int b = 0; b < 2; b++) {
        float[] col = s.firstColumns().get(e * 2 + b);
        assertEquals(batch, col.length, "full batches only");
        for (int i = 0; i < batch; i++)
          assertEquals(1000f * (e % 2) + order[b * batch + i], col[i], "epoch " + e + " batch " + b + " item " + i);
      }
    }
  }

  @Test
  void dropLast_exactMultiple_andSmallerThanBatch() {
    Seen exact = run(8, 4, 1, 1);
    assertEquals(List.of(0, 1), exact.batchEnds());
    Seen small = run(3, 4, 2, 1);
    assertEquals(List.of(0, 1000), small.batchEnds(), "n < batch: one batch per epoch");
    for (int e = 0; e < 2; e++) {
      float[] col = small.firstColumns().get(e);
      assertEquals(3, col.length, "the single batch holds every item");
      int[] order = EpochOrder.permutation(3, 9, e);
      for (int i = 0; i < 3; i++) assertEquals(order[i], col[i]);
    }
  }

  // ------------------------------------------------------------------ resume

  private Map<String, float[]> trainStraight(Function<NDManager, PromptMethod> build, NDArray f, int[] y,
      PromptTrainer.Settings s, List<Double> losses, List<Double> lrs) {
    try (NDManager m = manager.newSubManager(); PromptMethod method = build.apply(m)) {
      PromptTrainer.Outcome o = PromptTrainer.train(method, CLASSES, new FeatureBatches(f, y), s, PromptTrainer.Resume.fresh(),
          (epoch, loss, lr, state) -> {
            losses.add(loss);
            lrs.add(lr);
          });
      assertEquals(s.epochs(), o.epochs());
      assertEquals(0, o.resumedFromEpoch());
      assertEquals(losses.get(losses.size() - 1), o.finalLoss(), 0);
      return snapshot(method.stateDict());
    }
  }

  private Map<String, float[]> trainInterrupted(Function<NDManager, PromptMethod> build, NDArray f, int[] y,
      PromptTrainer.Settings s, int crashAfter, boolean keepOptimiser, List<Double> losses) {
    try (NDManager store = manager.newSubManager()) {
      Map<String, NDArray> checkpoint = new LinkedHashMap<>();
      try (NDManager m = manager.newSubManager(); PromptMethod method = build.apply(m)) {
        assertThrows(Crash.class, () -> PromptTrainer.train(method, CLASSES, new FeatureBatches(f, y), s, PromptTrainer.Resume.fresh(),
            (epoch, loss, lr, state) -> {
              losses.add(loss);
              if (epoch == crashAfter - 1) {
                checkpoint.putAll(copy(state, store)); // the live tensors keep changing: copy, as a real checkpoint does
                throw new Crash();
              }
            }));
      }
      assertTrue(checkpoint.keySet().stream().anyMatch(k -> k.startsWith("optim.momentum.")), "checkpoint holds the momentum");
      if (!keepOptimiser) checkpoint.keySet().removeIf(k -> k.startsWith("optim."));
      try (NDManager m = manager.newSubManager(); PromptMethod method = build.apply(m)) {
        PromptTrainer.Outcome o = PromptTrainer.train(method, CLASSES, new FeatureBatches(f, y), s, new PromptTrainer.Resume(crashAfter, checkpoint),
            (epoch, loss, lr, state) -> losses.add(loss));
        assertEquals(crashAfter, o.resumedFromEpoch());
        return snapshot(method.stateDict());
      }
    }
  }

  @Test
  void resumeAtEpochBoundary_equalsUninterruptedRun_bitExact() {
    try (NDManager m = manager.newSubManager()) {
      NDArray f = randomFeatures(m, 2, 10, 8, 21);
      int[] y = labels(10, 3);
      PromptTrainer.Settings s = settings(4, 4, 0.5, 77);
      Function<NDManager, PromptMethod> build = mm -> new Linear(mm, 3, 8, 13);
      List<Double> straightLoss = new ArrayList<>();
      List<Double> lrs = new ArrayList<>();
      Map<String, float[]> straight = trainStraight(build, f, y, s, straightLoss, lrs);
      assertEquals(List.of(1e-5, 0.5, s.schedule().lr(2), s.schedule().lr(3)), lrs, "LR per epoch from the schedule");
      float[] init = snapshot(build.apply(m).stateDict()).get("w");
      assertFalse(Arrays.equals(init, straight.get("w")), "training changed the weights");
      assertTrue(straightLoss.get(3) < straightLoss.get(1), "the loss goes down: " + straightLoss);

      List<Double> resumedLoss = new ArrayList<>();
      Map<String, float[]> resumed = trainInterrupted(build, f, y, s, 2, true, resumedLoss);
      assertArrayEquals(straight.get("w"), resumed.get("w"));
      assertEquals(straightLoss, resumedLoss, "the same per-epoch losses");

      // without the momentum buffers the continuation differs: the test can tell the two apart
      Map<String, float[]> noMomentum = trainInterrupted(build, f, y, s, 2, false, new ArrayList<>());
      assertFalse(Arrays.equals(straight.get("w"), noMomentum.get("w")));
    }
  }

  @Test
  void resumeCoOpOnTinyClip_equalsUninterruptedRun() {
    try (NDManager m = manager.newSubManager(); ClipModel clip = ClipModel.random(ClipConfig.tinyVit(), 3, m)) {
      int e = clip.config().embedDim();
      NDArray f = randomFeatures(m, 1, 6, e, 8);
      int[] y = labels(6, 3);
      PromptTrainer.Settings s = settings(3, 2, 0.05, 4);
      Function<NDManager, PromptMethod> build =
          mm -> new CoOp(new MethodContext(clip, ClipTokenizer.getDefault(), mm, new MethodOptions(4, ""), 1));
      Map<String, float[]> straight = trainStraight(build, f, y, s, new ArrayList<>(), new ArrayList<>());
      Map<String, float[]> resumed = trainInterrupted(build, f, y, s, 1, true, new ArrayList<>());
      float[] a = straight.get("ctx");
      float[] b = resumed.get("ctx");
      assertEquals(4 * clip.config().textWidth(), a.length);
      assertArrayEquals(a, b, "bit-exact resume of CoOp through the text tower");
    }
  }

  /**
   * Instance-wise prompts: per-image contexts addressed by sample id and candidates drawn per
   * (seed, epoch, id), so an interrupted run resumed from its checkpoint ends bit-identical.
   */
  @Test
  void resumeInstanceOnTinyClip_equalsUninterruptedRun() {
    try (NDManager m = manager.newSubManager(); ClipModel clip = ClipModel.random(ClipConfig.tinyVit(), 3, m)) {
      int e = clip.config().embedDim();
      NDArray f = randomFeatures(m, 2, 6, e, 8);
      int[] y = labels(6, 3);
      PromptTrainer.Settings s = settings(3, 2, 0.05, 4);
      ai.promptline.ml.methods.MethodSpec spec = ai.promptline.ml.methods.Methods.spec("instance");
      Function<NDManager, PromptMethod> build = mm -> spec.factory().apply(new MethodContext(clip, ClipTokenizer.getDefault(), mm,
          ai.promptline.ml.methods.MethodOptions.of(spec, Map.of("nCtx", "2", "ctxInit", "", "nCtxInstance", "2", "topK", "2")), 1)
          .withTraining(new MethodContext.TrainingSet(CLASSES.names(), y)));
      Map<String, float[]> straight = trainStraight(build, f, y, s, new ArrayList<>(), new ArrayList<>());
      Map<String, float[]> resumed = trainInterrupted(build, f, y, s, 1, true, new ArrayList<>());
      assertEquals(6 * 2 * clip.config().textWidth(), straight.get("instance_ctx").length);
      assertArrayEquals(straight.get("instance_ctx"), resumed.get("instance_ctx"), "bit-exact resume of the per-image contexts");
      assertArrayEquals(straight.get("global_ctx"), resumed.get("global_ctx"));
    }
  }

  // ------------------------------------------------------------------ edge cases

  @Test
  void absurdLearningRate_throwsDiverged() {
    try (NDManager m = manager.newSubManager(); Linear method = new Linear(m, 3, 8, 1)) {
      NDArray f = randomFeatures(m, 1, 8, 8, 2).mul(1e3f);
      PromptTrainer.Settings s = new PromptTrainer.Settings(5, 4, new LrSchedule(1e38, 5, 0, 1e-5), 0.9, 5e-4, 1);
      List<Integer> finished = new ArrayList<>();
      PromptTrainer.DivergedException ex = assertThrows(PromptTrainer.DivergedException.class,
          () -> PromptTrainer.train(method, CLASSES, new FeatureBatches(f, labels(8, 3)), s, PromptTrainer.Resume.fresh(),
              (epoch, loss, lr, state) -> finished.add(epoch)));
      assertTrue(ex.getMessage().contains("learning rate"), ex.getMessage());
      assertTrue(finished.size() < 5, "stopped before the end");
    }
  }

  @Test
  void trainingFreeMethod_isANoOp() {
    try (NDManager m = manager.newSubManager(); ClipModel clip = ClipModel.random(ClipConfig.tinyVit(), 3, m)) {
      PromptMethod zs = new ZeroShotClip(new MethodContext(clip, ClipTokenizer.getDefault(), m, new MethodOptions(0, ""), 1));
      PromptTrainer.Outcome o = PromptTrainer.train(zs, CLASSES, new FeatureBatches(randomFeatures(m, 1, 4, clip.config().embedDim(), 1),
          labels(4, 3)), settings(3, 2, 0.1, 1), PromptTrainer.Resume.fresh(),
          (epoch, loss, lr, state) -> {
            throw new AssertionError("no epochs for a training-free method");
          });
      assertEquals(0, o.epochs());
      assertTrue(Double.isNaN(o.finalLoss()));
    }
  }

  // ------------------------------------------------------------------ pixel source

  /** Generated PNGs of two patterns, so a few MaPLe steps have something to learn. */
  private static List<java.nio.file.Path> images(java.nio.file.Path dir, int n) throws Exception {
    List<java.nio.file.Path> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      java.awt.image.BufferedImage bi = new java.awt.image.BufferedImage(40, 36, java.awt.image.BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 36; y++) for (int x = 0; x < 40; x++) {
        int v = (i % 2 == 0 ? x * 6 : y * 7) % 256;
        bi.setRGB(x, y, v << 16 | ((i * 37) % 256) << 8 | (255 - v));
      }
      java.nio.file.Path f = dir.resolve("img" + i + ".png");
      javax.imageio.ImageIO.write(bi, "png", f.toFile());
      out.add(f);
    }
    return out;
  }

  /**
   * MaPLe over pixels with a fresh seeded crop and flip every epoch: a run interrupted after epoch 1
   * and resumed from its checkpoint ends bit-identical to an uninterrupted one, and the pixel
   * source visits items in the very order the feature source does.
   */
  @Test
  void pixelSourceMaPLe_resumesBitExactly_andSharesTheEpochOrder(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    try (NDManager m = manager.newSubManager(); ClipModel clip = ClipModel.random(ClipConfig.tinyVit(), 3, m)) {
      List<java.nio.file.Path> files = images(dir, 6);
      int[] y = labels(6, 3);
      PromptTrainer.Settings s = settings(3, 4, 0.05, 4);
      ai.promptline.ml.methods.MethodSpec spec = ai.promptline.ml.methods.Methods.spec("maple");
      Function<NDManager, PromptMethod> build = mm -> spec.factory().apply(new MethodContext(clip, ClipTokenizer.getDefault(), mm,
          ai.promptline.ml.methods.MethodOptions.of(spec, Map.of("depth", "2")), 1));
      List<List<Integer>> seen = new ArrayList<>();
      BatchSource pixels = new BatchSource() {
        final PixelBatches inner = new PixelBatches(files, y, ai.promptline.ml.data.image.Transforms.train(32, 4), 2);

        @Override
        public int size() {
          return inner.size();
        }

        @Override
        public int[] labels() {
          return inner.labels();
        }

        @Override
        public Batch batch(int epoch, int[] ids, NDManager mm) {
          List<Integer> l = new ArrayList<>();
          for (int id : ids) l.add(id);
          seen.add(l);
          return inner.batch(epoch, ids, mm);
        }
      };
      Map<String, float[]> straight;
      try (NDManager mm = manager.newSubManager(); PromptMethod method = build.apply(mm)) {
        PromptTrainer.train(method, CLASSES, pixels, s, PromptTrainer.Resume.fresh(), null);
        straight = snapshot(method.stateDict());
      }
      for (int e = 0; e < 3; e++) {
        int[] order = EpochOrder.permutation(6, 4, e);
        List<Integer> want = new ArrayList<>();
        for (int i = 0; i < 4; i++) want.add(order[i]);
        assertEquals(want, seen.get(e), "epoch " + e + " batch of the shared order");
      }
      Map<String, float[]> resumed;
      try (NDManager store = manager.newSubManager()) {
        Map<String, NDArray> checkpoint = new LinkedHashMap<>();
        try (NDManager mm = manager.newSubManager(); PromptMethod method = build.apply(mm)) {
          assertThrows(Crash.class, () -> PromptTrainer.train(method, CLASSES,
              new PixelBatches(files, y, ai.promptline.ml.data.image.Transforms.train(32, 4), 1), s, PromptTrainer.Resume.fresh(),
              (epoch, loss, lr, state) -> {
                if (epoch == 0) {
                  checkpoint.putAll(copy(state, store));
                  throw new Crash();
                }
              }));
        }
        try (NDManager mm = manager.newSubManager(); PromptMethod method = build.apply(mm)) {
          PromptTrainer.train(method, CLASSES, new PixelBatches(files, y, ai.promptline.ml.data.image.Transforms.train(32, 4), 1),
              s, new PromptTrainer.Resume(1, checkpoint), null);
          resumed = snapshot(method.stateDict());
        }
      }
      assertEquals(straight.keySet(), resumed.keySet());
      for (String k : straight.keySet()) assertArrayEquals(straight.get(k), resumed.get(k), k + " (1 decode thread vs 2)");
      float[] init;
      try (NDManager mm = manager.newSubManager(); PromptMethod fresh = build.apply(mm)) {
        init = snapshot(fresh.stateDict()).get("ctx");
      }
      assertFalse(Arrays.equals(init, straight.get("ctx")), "training moved the prompt");
    }
  }
}
