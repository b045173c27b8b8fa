package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Behaviour of the tiny random ViT CLIP: shapes, gradients, and every prompt hook. */
class ClipModelTest {
  private static NDManager manager;
  private static ClipModel model;
  private static final int M = 4;

  @BeforeAll
  static void setUp() {
    manager = NDManager.newBaseManager();
    // two heads in both towers so that 3-D masks exercise the batch-major/head-minor layout
    ClipConfig cfg = new ClipConfig(ClipConfig.VisionKind.VIT, 32, 32, 64, 2, List.of(), 8, 2, 77, 49408, 64, 2, 2);
    model = ClipModel.random(cfg, 7, manager);
  }

  @AfterAll
  static void tearDown() {
    model.close();
    manager.close();
  }

  private static NDArray ids(NDManager m, String... texts) {
    int[][] t = ClipTokenizer.getDefault().tokenize(List.of(texts));
    return m.create(t);
  }

  private static NDArray pixels(NDManager m, int n) {
    return m.randomNormal(0, 1, new Shape(n, 3, 32, 32), DataType.FLOAT32);
  }

  private static void assertClose(NDArray expected, NDArray actual, double tol) {
    assertEquals(expected.getShape(), actual.getShape());
    float[] e = expected.toFloatArray();
    float[] a = actual.toFloatArray();
    double max = 0;
    for (int i = 0; i < e.length; i++) max = Math.max(max, Math.abs(e[i] - a[i]));
    assertTrue(max <= tol, "max abs error " + max + " > " + tol);
  }

  @Test
  void shapesAndScale() {
    try (NDManager m = manager.newSubManager()) {
      assertEquals(new Shape(2, 32), model.encodeText(ids(m, "a photo of a dog.", "a cat")).getShape());
      assertEquals(new Shape(3, 32), model.encodeImage(pixels(m, 3)).getShape());
      assertEquals(1 / 0.07, model.logitScale(), 1e-3);
      assertEquals(new Shape(1, 77, 64), model.tokenEmbedding(ids(m, "x")).getShape());
    }
  }

  @Test
  void deterministicForASeed() {
    try (NDManager m = manager.newSubManager(); ClipModel again = ClipModel.random(model.config(), 7, m)) {
      NDArray t = ids(m, "a photo of a dog.");
      assertClose(model.encodeText(t), again.encodeText(t), 0);
    }
  }

  /** The CoOp path: token embeddings with rows 1..M replaced by a learnable ctx, EOT pooling. */
  private static NDArray coopPrompts(NDArray emb, NDArray ctx) {
    long n = emb.getShape().get(0);
    return NDArrays.concat(new NDList(
        emb.get(":, 0:1"), ctx.expandDims(0).broadcast(n, M, 64), emb.get(":, " + (1 + M) + ":")), 1);
  }

  @Test
  void gradientReachesPromptAndNotFrozenWeights() {
    try (NDManager m = manager.newSubManager()) {
      NDArray ids = ids(m, "X X X X dog.", "X X X X cat.");
      NDArray emb = model.tokenEmbedding(ids);
      NDArray ctx = m.randomNormal(0, 0.02f, new Shape(M, 64), DataType.FLOAT32);
      ctx.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray text = model.encodeText(TextInput.ofEmbeddings(coopPrompts(emb, ctx), ClipModel.eotIndex(ids)));
        NDArray img = model.encodeImage(pixels(m, 2));
        NDArray logits = model.logits(img, text);
        NDArray loss = logits.logSoftmax(1).get(":, 0").neg().mean();
        gc.backward(loss);
      }
      NDArray g = ctx.getGradient();
      assertTrue(g.abs().sum().getFloat() > 0, "no gradient reached ctx");
      for (Map.Entry<String, NDArray> w : model.weights().entrySet()) {
        assertFalse(w.getValue().hasGradient(), w.getKey() + " requires a gradient");
      }
    }
  }

  /** A CoOp-shaped loop: plain SGD on ctx lowers the cross-entropy on a fixed batch. */
  @Test
  void coopStepsReduceLoss() {
    try (NDManager m = manager.newSubManager()) {
      NDArray ids = ids(m, "X X X X dog.", "X X X X cat.", "X X X X car.");
      NDArray emb = model.tokenEmbedding(ids);
      NDArray eot = ClipModel.eotIndex(ids);
      // deterministic inputs (portable streams), so the test cannot flake
      Shape ps = new Shape(6, 3, 32, 32);
      NDArray images = model.encodeImage(m.create(
          ClipWeights.values(new ClipWeights.Spec("px", ps, ClipWeights.Init.RANDOM, 1.0), 1), ps));
      NDArray labels = m.create(new long[] {0, 1, 2, 0, 1, 2});
      Shape cs = new Shape(M, 64);
      NDArray ctx = m.create(ClipWeights.values(new ClipWeights.Spec("ctx", cs, ClipWeights.Init.RANDOM, 0.02), 1), cs);
      ctx.setRequiresGradient(true);
      float first = 0;
      float last = 0;
      for (int step = 0; step < 15; step++) {
        try (NDManager s = m.newSubManager()) {
          NDArray imgs = images.duplicate();
          imgs.attach(s);
          float loss;
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray text = model.encodeText(TextInput.ofEmbeddings(ClipModel.replaceRows(emb, 1, ctx), eot));
            text.attach(s);
            NDArray logp = model.logits(imgs, text).logSoftmax(1);
            NDArray ce = logp.gather(labels.reshape(6, 1), 1).neg().mean();
            loss = ce.getFloat();
            gc.backward(ce);
          }
          ctx.subi(ctx.getGradient().mul(1.0f));
          if (step == 0) first = loss;
          last = loss;
        }
      }
      assertTrue(last < first - 0.02, "loss did not decrease: " + first + " -> " + last);
    }
  }

  @Test
  void embeddingInputEqualsTokenInput() {
    try (NDManager m = manager.newSubManager()) {
      NDArray ids = ids(m, "a photo of a dog.", "two words");
      NDArray viaEmb = model.encodeText(TextInput.ofEmbeddings(model.tokenEmbedding(ids), ClipModel.eotIndex(ids)));
      assertClose(model.encodeText(ids), viaEmb, 1e-6);
    }
  }

  @Test
  void readoutOfEotRowEqualsPooling() {
    try (NDManager m = manager.newSubManager()) {
      NDArray ids = ids(m, "a photo of a dog.", "two words");
      NDArray eot = ClipModel.eotIndex(ids).reshape(2, 1);
      NDArray read = model.encodeText(TextInput.ofTokens(ids).withReadout(eot));
      assertEquals(new Shape(2, 1, 32), read.getShape());
      assertClose(model.encodeText(ids), read.reshape(2, 32), 1e-6);
    }
  }

  @Test
  void layerZeroReplacementEqualsManualEmbeddingEdit() {
    try (NDManager m = manager.newSubManager()) {
      NDArray ids = ids(m, "X X X X dog.");
      NDArray tokens = m.randomNormal(0, 0.1f, new Shape(M, 64), DataType.FLOAT32);
      NDArray hooked = model.encodeText(TextInput.ofTokens(ids).withReplacement(new TokenReplacement(0, 1, tokens)));
      // replacement happens after the positional embedding: subtract it for the manual edit
      NDArray pos = model.weights().get("positional_embedding").get("1:" + (1 + M));
      NDArray manual = coopPrompts(model.tokenEmbedding(ids), tokens.sub(pos));
      assertClose(model.encodeText(TextInput.ofEmbeddings(manual, ClipModel.eotIndex(ids))), hooked, 1e-5);
    }
  }

  @Test
  void deepReplacementChangesOnlyLaterTokensUnderCausalMask() {
    try (NDManager m = manager.newSubManager()) {
      NDArray ids = ids(m, "a photo of a dog.");
      NDArray tokens = m.randomNormal(0, 1f, new Shape(2, 64), DataType.FLOAT32);
      NDArray base = model.encodeText(TextInput.ofTokens(ids).withReadout(m.create(new int[] {0, 5})));
      NDArray deep = model.encodeText(TextInput.ofTokens(ids).withReadout(m.create(new int[] {0, 5}))
          .withReplacement(new TokenReplacement(1, 1, tokens)));
      // SOS (row 0) cannot see positions 1..2 under the causal mask; row 5 can
      assertClose(base.get(":, 0"), deep.get(":, 0"), 1e-6);
      assertTrue(base.get(":, 1").sub(deep.get(":, 1")).abs().max().getFloat() > 1e-4);
    }
  }

  @Test
  void rpoTextMaskKeepsOriginalTokensReadOnly() {
    try (NDManager m = manager.newSubManager()) {
      NDArray ids = ids(m, "a photo of a dog.", "a cat.");
      int k = 3;
      long[] eot = ClipModel.eotIndex(ids).toLongArray();
      int heads = 2;
      float[] mask = new float[2 * heads * 77 * 77];
      int[][] readout = new int[2][k + 1];
      for (int c = 0; c < 2; c++) {
        int lenC = (int) eot[c] + 1;
        for (int h = 0; h < heads; h++) {
          int base = (c * heads + h) * 77 * 77;
          for (int i = 0; i < 77; i++) {
            for (int j = 0; j < 77; j++) {
              if (j > i || j >= lenC) mask[base + i * 77 + j] = Float.NEGATIVE_INFINITY;
            }
          }
        }
        readout[c][0] = (int) eot[c];
        for (int q = 0; q < k; q++) readout[c][q + 1] = lenC + q;
      }
      // prompts overwrite rows len_c..len_c+k-1 of (token + positional); done as a layer-0 replacement
      NDArray prompts = m.randomNormal(0, 0.1f, new Shape(k, 64), DataType.FLOAT32);
      TextInput in = TextInput.ofTokens(ids)
          .withMasks(AttentionMasks.of(m.create(mask, new Shape(2L * heads, 77, 77))))
          .withReadout(m.create(readout));
      NDArray out0 = model.encodeText(in.withReplacement(new TokenReplacement(0, (int) eot[0] + 1, prompts)));
      // EOT row of sequence 0 is identical to vanilla CLIP (read-only prompts)
      assertClose(model.encodeText(ids).get("0"), out0.get("0, 0"), 1e-5);
      assertEquals(new Shape(2, k + 1, 32), out0.getShape());
    }
  }

  @Test
  void maskedAppendedVisionTokensLeaveClsUnchanged() {
    try (NDManager m = manager.newSubManager()) {
      NDArray px = pixels(m, 2);
      int k = 3;
      int len = 17 + k;
      float[] mask = new float[len * len];
      for (int i = 0; i < len; i++) for (int j = 17; j < len; j++) mask[i * len + j] = Float.NEGATIVE_INFINITY;
      NDArray prompts = m.randomNormal(0, 1f, new Shape(k, 64), DataType.FLOAT32);
      VisionInput in = VisionInput.of(px).withAppended(prompts)
          .withMasks(AttentionMasks.of(m.create(mask, new Shape(len, len))))
          .withReadout(m.create(new int[] {0, 17, 18, 19}));
      NDArray out = model.encodeImage(in);
      assertEquals(new Shape(2, 4, 32), out.getShape());
      assertClose(model.encodeImage(px), out.get(":, 0"), 1e-5);
    }
  }

  @Test
  void negativeReplacementPositionTargetsLastTokens() {
    try (NDManager m = manager.newSubManager()) {
      NDArray px = pixels(m, 1);
      NDArray a = m.randomNormal(0, 1f, new Shape(2, 64), DataType.FLOAT32);
      NDArray b = m.randomNormal(0, 1f, new Shape(2, 64), DataType.FLOAT32);
      VisionInput base = VisionInput.of(px).withAppended(a);
      NDArray fromEnd = model.encodeImage(base.withReplacement(new TokenReplacement(1, -2, b)));
      NDArray absolute = model.encodeImage(base.withReplacement(new TokenReplacement(1, 17, b)));
      assertClose(fromEnd, absolute, 0);
      assertTrue(fromEnd.sub(model.encodeImage(base)).abs().max().getFloat() > 1e-5);
    }
  }

  @Test
  void pooledLastBlockGivesTheFeaturesOfTheFullPass() {
    try (NDManager m = manager.newSubManager()) {
      // readout positions force the full last block; the plain call computes the pooled row only
      NDArray ids = ids(m, "a dog", "a photo of a cat on a mat.", "x");
      NDArray eot = ClipModel.eotIndex(ids).reshape(3, 1);
      NDArray full = model.encodeText(TextInput.ofTokens(ids).withReadout(eot)).reshape(3, model.config().embedDim());
      assertClose(full, model.encodeText(ids), 1e-6);
      NDArray px = pixels(m, 2);
      NDArray cls = m.create(new long[] {0});
      NDArray fullImg = model.encodeImage(VisionInput.of(px).withReadout(cls)).reshape(2, model.config().embedDim());
      assertClose(fullImg, model.encodeImage(px), 1e-6);
      // a per-sequence 3-D mask takes the same path (its pooled rows are gathered per head)
      long len = ids.getShape().get(1);
      int heads = model.config().textHeads();
      NDArray causal = AttentionMasks.causal((int) len, m);
      NDArray perSeq = causal.expandDims(0).broadcast(3L * heads, len, len).duplicate();
      AttentionMasks masks = AttentionMasks.of(perSeq);
      NDArray fullMasked = model.encodeText(TextInput.ofTokens(ids).withMasks(masks).withReadout(eot)).reshape(3, model.config().embedDim());
      assertClose(fullMasked, model.encodeText(TextInput.ofTokens(ids).withMasks(masks)), 1e-6);
      assertClose(full, fullMasked, 1e-6);
    }
  }

  @Test
  void adaptorSlotIsAppliedAfterAttention() {
    try (NDManager m = manager.newSubManager()) {
      NDArray ids = ids(m, "a dog");
      NDArray identity = model.encodeText(TextInput.ofTokens(ids).withAdaptor((layer, x) -> x));
      // no adaptor takes the pooled-row fast path through the last block: same maths, other rounding
      assertClose(model.encodeText(ids), identity, 2e-6);
      int[] calls = new int[1];
      NDArray scaled = model.encodeText(TextInput.ofTokens(ids).withAdaptor((layer, x) -> {
        calls[0]++;
        return layer == 1 ? x.mul(2) : x;
      }));
      assertEquals(2, calls[0]);
      assertTrue(scaled.sub(identity).abs().max().getFloat() > 1e-4);
    }
  }

  @Test
  void safetensorsRoundTripKeepsOutputsAndConfig(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("tiny.safetensors");
    try (NDManager m = manager.newSubManager()) {
      Safetensors.write(f, model.weights(), ClipWeights.metadataFor(model.config()));
      try (ClipModel loaded = ClipModel.load(f, m)) {
        assertEquals(model.config(), loaded.config());
        assertEquals(64, loaded.sha256().length());
        NDArray ids = ids(m, "a photo of a dog.");
        assertClose(model.encodeText(ids), loaded.encodeText(ids), 0);
        NDArray px = pixels(m, 1);
        assertClose(model.encodeImage(px), loaded.encodeImage(px), 0);
      }
    }
  }

  @Test
  void truncatedAndMismatchedFilesFailClearly(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("tiny.safetensors");
    try (NDManager m = manager.newSubManager()) {
      Safetensors.write(f, model.weights(), ClipWeights.metadataFor(model.config()));
      byte[] all = Files.readAllBytes(f);
      Path cut = dir.resolve("cut.safetensors");
      Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
      Exception e = assertThrows(Exception.class, () -> ClipModel.load(cut, m));
      assertTrue(e.getMessage().contains("truncated"), e.getMessage());

      Map<String, NDArray> sd = new java.util.LinkedHashMap<>(model.weights());
      sd.remove("visual.ln_post.bias");
      sd.put("visual.proj", m.zeros(new Shape(64, 16)));
      sd.put("extra.weight", m.zeros(new Shape(1)));
      Path bad = dir.resolve("bad.safetensors");
      Safetensors.write(bad, sd, ClipWeights.metadataFor(model.config()));
      IllegalArgumentException iae = assertThrows(IllegalArgumentException.class, () -> ClipModel.load(bad, m));
      assertTrue(iae.getMessage().contains("(custom ViT (32px, patch 8, width 64"), iae.getMessage());
      assertTrue(iae.getMessage().contains("missing keys (expected shape): visual.ln_post.bias (64)"), iae.getMessage());
      assertTrue(iae.getMessage().contains("unexpected keys (shape): extra.weight (1)"), iae.getMessage());
      assertTrue(iae.getMessage().contains("visual.proj expected (64, 32) got (64, 16)"), iae.getMessage());
    }
  }

  @Test
  void configInferenceAndJson() {
    for (ClipConfig c : List.of(ClipConfig.vitB16(), ClipConfig.vitB32(), ClipConfig.rn50(), ClipConfig.tinyVit(), ClipConfig.tinyResNet())) {
      assertEquals(c, ClipConfig.fromJson(c.toJson()));
    }
    assertEquals(ClipConfig.vitB16(), ClipConfig.inferFrom(ClipWeights.expectedShapes(ClipConfig.vitB16())));
    assertEquals(ClipConfig.vitB32(), ClipConfig.inferFrom(ClipWeights.expectedShapes(ClipConfig.vitB32())));
    assertEquals(ClipConfig.rn50(), ClipConfig.inferFrom(ClipWeights.expectedShapes(ClipConfig.rn50())));
    assertEquals(149_620_737L - 0, ClipWeights.expectedShapes(ClipConfig.vitB16()).entrySet().stream()
        .mapToLong(e -> e.getValue().size()).sum());
  }

  @Test
  void tinyResNetRuns() {
    try (NDManager m = manager.newSubManager(); ClipModel rn = ClipModel.random(ClipConfig.tinyResNet(), 3, m)) {
      NDArray px = m.randomNormal(0, 1, new Shape(2, 3, 64, 64), DataType.FLOAT32);
      assertEquals(new Shape(2, 32), rn.encodeImage(px).getShape());
      assertArrayEquals(new long[] {1, 32}, rn.encodeText(ids(m, "dog")).getShape().getShape());
    }
  }
}
