package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * FP16/BF16 towers against the PyTorch reference recipe ({@code tools/golden/clip_golden_precision.py}:
 * {@code convert_weights} to the dtype, LayerNorm fp32 subclass, torch 2.7.1 on CPU), same portable
 * weights and inputs as {@link ClipGoldenTest}.
 *
 * <p>Tolerances, in units of the dtype's spacing at the feature scale ({@code ulp(|f|max)}, |f|max ≈
 * 3.3 here, so ulp = 2⁻⁹ for fp16 and 2⁻⁶ for bf16): vs the same-dtype reference ≤ 3 ulp (observed
 * ≤ 2.0): the reference's attention goes through {@code scaled_dot_product_attention}, whose fused
 * CPU kernel keeps scores/softmax in fp32, while ours rounds scores and probabilities to the dtype
 * as the unfused reference ops would; that, accumulation order and (bf16) tie-breaking are the only
 * differences, and a last-bit difference early on propagates to ~1-2 ulp of the output. Vs the fp32
 * reference ≤ 6 ulp (observed ≤ 2): the genuine rounding error of a 2-layer low-precision tower.
 */
class ClipPrecisionTest {
  private static final double SAME_DTYPE_ULPS = 3;
  private static final double FP32_ULPS = 6;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static JsonNode golden;
  private static JsonNode golden32;
  private static NDManager manager;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in = ClipPrecisionTest.class.getResourceAsStream("/golden/clip/clip_golden_precision.json")) {
      golden = JSON.readTree(in);
    }
    try (InputStream in = ClipPrecisionTest.class.getResourceAsStream("/golden/clip/clip_golden.json")) {
      golden32 = JSON.readTree(in);
    }
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  private static NDArray stream(NDManager m, String name, Shape shape, double std, long seed) {
    return m.create(ClipWeights.values(new ClipWeights.Spec(name, shape, ClipWeights.Init.RANDOM, std), seed), shape);
  }

  /** Spacing of the dtype's representable numbers just below {@code 2^ceil(log2 x)}. */
  static double ulp(Precision p, double x) {
    int mantissaBits = p == Precision.FP16 ? 10 : p == Precision.BF16 ? 7 : 23;
    return Math.pow(2, Math.floor(Math.log(x) / Math.log(2)) - mantissaBits);
  }

  /** Max |e − a|, asserting it is within {@code ulps} of the dtype at the expected values' scale. */
  private static double assertUlps(JsonNode expected, NDArray actual, Precision p, double ulps, String what) {
    return assertUlps(expected, actual, p, ulps, 0, what);
  }

  /**
   * As above with the ulp taken at {@code minScale} when that is larger than the values: logits
   * are {@code exp(logit_scale)·cos}, so a feature rounding moves them by ulps of
   * {@code exp(logit_scale)}, however small the cosines of a random model are.
   */
  private static double assertUlps(JsonNode expected, NDArray actual, Precision p, double ulps, double minScale, String what) {
    assertEquals(DataType.FLOAT32, actual.getDataType(), what + ": features are returned as fp32");
    float[] e = ClipGoldenTest.floats(expected);
    float[] a = actual.toFloatArray();
    assertEquals(e.length, a.length, what + " size");
    double max = 0;
    double scale = 0;
    for (int i = 0; i < e.length; i++) {
      max = Math.max(max, Math.abs(e[i] - a[i]));
      scale = Math.max(scale, Math.abs(e[i]));
    }
    scale = Math.max(scale, minScale);
    double tol = ulps * ulp(p, scale);
    System.out.printf(Locale.ROOT, "%-34s max abs %.3g (%.2f ulp, scale %.3g)%n", what, max, max / ulp(p, scale), scale);
    assertTrue(max <= tol, what + ": max abs error " + max + " > " + ulps + " ulp = " + tol);
    return max;
  }

  private static ClipModel model(String tower, Precision p, NDManager m) {
    ClipConfig cfg = ClipConfig.fromJson(golden.get(tower).get("config").toString());
    return ClipModel.random(cfg, golden.get("seed").asLong(), m, p);
  }

  // ------------------------------------------------------------------ (a) dtypes after load

  @ParameterizedTest
  @CsvSource({"vit,fp16", "vit,bf16", "rn,fp16", "rn,bf16"})
  void weightDtypesFollowConvertWeights(String tower, String label) {
    Precision p = Precision.parse(label);
    try (NDManager m = manager.newSubManager(); ClipModel model = model(tower, p, m)) {
      JsonNode dtypes = golden.get(tower).get(label).get("dtypes");
      Map<String, NDArray> w = model.weights();
      assertEquals(dtypes.size(), w.size(), "tensor count");
      for (Iterator<Map.Entry<String, JsonNode>> it = dtypes.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().endsWith("num_batches_tracked")) continue; // an unused counter, kept as stored
        // bfloat16 is emulated (DJL 0.36 has no bf16 tensors): fp32 storage holding bf16 values
        DataType expected = switch (e.getValue().asText()) {
          case "float16" -> DataType.FLOAT16;
          case "bfloat16", "float32" -> DataType.FLOAT32;
          case "int64" -> DataType.INT64;
          default -> throw new AssertionError(e.getValue().asText());
        };
        NDArray a = w.get(e.getKey());
        assertEquals(expected, a.getDataType(), e.getKey());
        assertEquals(e.getValue().asText().equals("bfloat16"), Precision.castsToModelDtype(e.getKey()) && p == Precision.BF16, e.getKey());
        if (e.getValue().asText().equals("bfloat16")) {
          for (float v : a.toFloatArray()) {
            assertEquals(0, Float.floatToRawIntBits(v) & 0xFFFF, e.getKey() + " holds a bfloat16 value");
          }
        }
        assertFalse(a.hasGradient(), e.getKey() + " must not require a gradient");
      }
      Map<String, Map<String, Integer>> groups = model.dtypeGroups();
      assertEquals(Map.of(p.storageType().name(), groups.get("conv/linear/attention/projection").values().iterator().next()),
          groups.get("conv/linear/attention/projection"));
      for (String g : new String[] {"embeddings", "layernorm", "logit_scale"}) {
        assertEquals(1, groups.get(g).size(), g);
        assertTrue(groups.get(g).containsKey("FLOAT32"), g);
      }
      if (tower.equals("rn")) assertTrue(groups.get("batchnorm").containsKey("FLOAT32"));
    }
  }

  @Test
  void fp32IsTheDefaultAndEverythingStaysFp32() {
    try (NDManager m = manager.newSubManager(); ClipModel model = model("vit", Precision.FP32, m)) {
      assertEquals(Precision.FP32, model.precision());
      model.weights().values().forEach(a -> assertEquals(DataType.FLOAT32, a.getDataType()));
    }
  }

  @Test
  void parseAcceptsTheConfigSpellingsAndRejectsOthers() {
    assertEquals(Precision.FP32, Precision.parse(null));
    assertEquals(Precision.FP16, Precision.parse("FP16"));
    assertEquals(Precision.BF16, Precision.parse("bfloat16"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("int8"));
    assertTrue(e.getMessage().contains("fp32, fp16, bf16"), e.getMessage());
  }

  // ------------------------------------------------------------------ (b) LayerNorm

  @ParameterizedTest
  @CsvSource({"fp16", "bf16"})
  void layerNormComputesInFp32AndRoundsOnce(String label) {
    Precision p = Precision.parse(label);
    Numerics num = new Numerics(p);
    try (NDManager m = manager.newSubManager()) {
      int d = 64;
      // large offset + small spread: the regime where a low-precision LN would lose the variance
      NDArray x32 = stream(m, "lnInput", new Shape(3, 5, d), 1.0, 1).add(40f);
      NDArray w = stream(m, "lnW", new Shape(d), 0.1, 2).add(1f);
      NDArray b = stream(m, "lnB", new Shape(d), 0.1, 3);
      NDArray x = num.toActivation(x32);
      assertEquals(p.storageType(), x.getDataType());
      NDArray y = num.round(Transformer.layerNorm(x, w, b));
      assertEquals(p.storageType(), y.getDataType());
      NDArray ln32 = LayerNorm.layerNorm(x.toType(DataType.FLOAT32, false), new Shape(d), w, b, 1e-5f).singletonOrThrow();
      float[] ya = y.toType(DataType.FLOAT32, false).toFloatArray();
      // fp32 LN of the upcast input, rounded once to the dtype (PyTorch's cast for fp16)
      float[] la = p == Precision.FP16
          ? ln32.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false).toFloatArray() : ln32.toFloatArray();
      for (int i = 0; i < ya.length; i++) {
        assertEquals(p == Precision.BF16 ? bf16(la[i]) : la[i], ya[i], 0.0, "element " + i);
      }
      // and it differs from what a low-precision LN would give (the fp32 internals matter here)
      float[] xa = x.toType(DataType.FLOAT32, false).toFloatArray();
      double mean = 0;
      for (int i = 0; i < d; i++) mean += xa[i];
      assertTrue(Math.abs(mean / d - 40) < 1, "test input sits at a large offset");
    }
  }

  /** Round-to-nearest-even of an fp32 value to bfloat16, computed on the bits. */
  static float bf16(float v) {
    int bits = Float.floatToRawIntBits(v);
    bits += 0x7FFF + ((bits >>> 16) & 1);
    return Float.intBitsToFloat(bits & 0xFFFF0000);
  }

  @Test
  void bf16RoundingIsRoundToNearestEven() {
    try (NDManager m = manager.newSubManager()) {
      float[] v = ClipWeights.values(new ClipWeights.Spec("bf16", new Shape(4096), ClipWeights.Init.RANDOM, 30.0), 9);
      for (int i = 0; i < v.length; i += 3) v[i] *= 1e-20f; // small magnitudes too
      float[] r = Numerics.roundBf16(m.create(v)).toFloatArray();
      for (int i = 0; i < v.length; i++) {
        if ((Float.floatToRawIntBits(v[i]) & 0xFFFF) == 0x8000) continue; // exact ties: see Numerics
        assertEquals(bf16(v[i]), r[i], 0.0, "value " + v[i]);
      }
    }
  }

  // ------------------------------------------------------------------ (c) features vs goldens

  @ParameterizedTest
  @CsvSource({"vit,fp16", "vit,bf16", "rn,fp16", "rn,bf16"})
  void featuresMatchTheLowPrecisionReference(String tower, String label) {
    Precision p = Precision.parse(label);
    JsonNode g = golden.get(tower).get(label);
    JsonNode g32 = golden32.get(tower);
    try (NDManager m = manager.newSubManager(); ClipModel model = model(tower, p, m)) {
      int r = model.config().imageResolution();
      NDArray px = stream(m, "pixels", new Shape(2, 3, r, r), 1.0, golden.get("seed").asLong());
      NDArray ids = m.create(ClipGoldenTest.ints(g32.get("ids")));
      NDArray img = model.encodeImage(px);
      NDArray txt = model.encodeText(ids);
      String at = tower + " " + label + " ";
      assertUlps(g.get("image"), img, p, SAME_DTYPE_ULPS, at + "image vs torch " + label);
      assertUlps(g.get("text"), txt, p, SAME_DTYPE_ULPS, at + "text vs torch " + label);
      NDArray logits = model.logits(img, txt);
      double s = model.logitScale();
      assertUlps(g.get("logits"), logits, p, SAME_DTYPE_ULPS, s, at + "logits vs torch " + label);
      // the reference forward normalises and multiplies in the low dtype, Promptline in fp32
      assertUlps(g.get("logitsInDtype"), logits, p, SAME_DTYPE_ULPS, s, at + "logits vs torch " + label + " forward");
      assertUlps(g32.get("image"), img, p, FP32_ULPS, at + "image vs torch fp32");
      assertUlps(g32.get("text"), txt, p, FP32_ULPS, at + "text vs torch fp32");
      if (g.has("coop")) {
        int d = model.config().textWidth();
        NDArray cids = m.create(ClipGoldenTest.ints(g32.get("coop").get("ids")));
        NDArray ctx = stream(m, "ctx", new Shape(4, d), 0.02, golden.get("seed").asLong());
        NDArray emb = model.tokenEmbedding(cids);
        assertEquals(DataType.FLOAT32, emb.getDataType(), "token embeddings stay fp32 for the caller");
        NDArray prompts = NDArrays.concat(new NDList(emb.get(":, 0:1"), ctx.expandDims(0), emb.get(":, 5:")), 1);
        assertUlps(g.get("coop"), model.encodeText(TextInput.ofEmbeddings(prompts, ClipModel.eotIndex(cids))),
            p, SAME_DTYPE_ULPS, at + "CoOp text vs torch " + label);
      }
    }
  }

  // ------------------------------------------------------------------ (d) gradients

  @ParameterizedTest
  @CsvSource({"bf16", "fp16"})
  void coopGradientThroughLowPrecisionTextTowerReachesFp32Prompt(String label) {
    try (NDManager m = manager.newSubManager(); ClipModel model = model("vit", Precision.parse(label), m)) {
      int d = model.config().textWidth();
      NDArray cids = m.create(ClipGoldenTest.ints(golden32.get("vit").get("gradients").get("ids")));
      NDArray emb = model.tokenEmbedding(cids);
      NDArray ctx = stream(m, "ctx", new Shape(4, d), 0.02, golden.get("seed").asLong());
      ctx.setRequiresGradient(true);
      NDArray wt = stream(m, "gradText", new Shape(2, model.config().embedDim()), 1.0, golden.get("seed").asLong());
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray prompts = ClipModel.replaceRows(emb, 1, ctx);
        NDArray text = model.encodeText(TextInput.ofEmbeddings(prompts, ClipModel.eotIndex(cids)));
        assertEquals(DataType.FLOAT32, text.getDataType());
        gc.backward(text.mul(wt).sum());
      }
      NDArray grad = ctx.getGradient();
      assertEquals(DataType.FLOAT32, grad.getDataType(), "the master prompt and its gradient stay fp32");
      float[] gv = grad.toFloatArray();
      double norm = 0;
      for (float v : gv) {
        assertTrue(Float.isFinite(v), "finite gradient");
        norm += v * v;
      }
      assertTrue(norm > 0, "non-zero gradient");
      // same direction as the fp32 reference gradient (bf16 has ~3 significant digits, fp16 ~4)
      float[] ref = ClipGoldenTest.floats(golden32.get("vit").get("gradients").get("ctx"));
      double dot = 0;
      double rn = 0;
      for (int i = 0; i < gv.length; i++) {
        dot += gv[i] * ref[i];
        rn += ref[i] * ref[i];
      }
      double cos = dot / Math.sqrt(norm * rn);
      System.out.printf(Locale.ROOT, "%s CoOp ctx gradient: cosine to fp32 reference %.5f%n", label, cos);
      assertTrue(cos > 0.99, "cosine " + cos);
      model.weights().forEach((k, v) -> assertFalse(v.hasGradient(), k + " must not require a gradient"));
    }
  }

  @Test
  void fp16RunsAreDeterministicAndDifferFromFp32() {
    try (NDManager m = manager.newSubManager();
        ClipModel a = model("vit", Precision.FP16, m);
        ClipModel b = model("vit", Precision.FP32, m)) {
      NDArray ids = m.create(ClipGoldenTest.ints(golden32.get("vit").get("ids")));
      float[] x = a.encodeText(ids).toFloatArray();
      assertEquals(java.util.Arrays.toString(x), java.util.Arrays.toString(a.encodeText(ids).toFloatArray()));
      assertNotEquals(java.util.Arrays.toString(x), java.util.Arrays.toString(b.encodeText(ids).toFloatArray()));
    }
  }
}
