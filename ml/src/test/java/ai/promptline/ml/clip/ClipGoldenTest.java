package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fidelity against OpenAI's own {@code clip} package ({@code tools/golden/clip_golden.py}: the
 * reference {@code clip.model.CLIP} with the same portable random weights loaded strictly, the
 * reference tokenizer, prompt hooks composed from the reference modules), max abs error ≤ 1e-4 in
 * fp32. File formats: {@link ClipFormatsTest}; layouts of every architecture: {@link
 * ClipArchitecturesTest}.
 */
class ClipGoldenTest {
  private static final double TOL = 1e-4;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static JsonNode golden;
  private static NDManager manager;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in = ClipGoldenTest.class.getResourceAsStream("/golden/clip/clip_golden.json")) {
      golden = JSON.readTree(in);
    }
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  /** A JSON number array as floats (shared with the other golden tests). */
  static float[] floats(JsonNode arr) {
    float[] f = new float[arr.size()];
    for (int i = 0; i < f.length; i++) f[i] = (float) arr.get(i).asDouble();
    return f;
  }

  /** A JSON array of integer arrays. */
  static int[][] ints(JsonNode arr) {
    int[][] out = new int[arr.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = new int[arr.get(i).size()];
      for (int j = 0; j < out[i].length; j++) out[i][j] = arr.get(i).get(j).asInt();
    }
    return out;
  }

  private static void assertClose(JsonNode expected, NDArray actual, String what) {
    float[] e = floats(expected);
    float[] a = actual.toFloatArray();
    assertEquals(e.length, a.length, what + " size");
    double max = 0;
    for (int i = 0; i < e.length; i++) max = Math.max(max, Math.abs(e[i] - a[i]));
    System.out.printf("golden %-32s max abs error %.3g%n", what, max);
    assertTrue(max <= TOL, what + ": max abs error " + max + " > " + TOL);
  }

  private static NDArray stream(NDManager m, String name, Shape shape, double std, long seed) {
    float[] v = ClipWeights.values(new ClipWeights.Spec(name, shape, ClipWeights.Init.RANDOM, std), seed);
    return m.create(v, shape);
  }

  private static ClipModel portable(JsonNode g, NDManager m) {
    ClipConfig cfg = ClipConfig.fromJson(g.get("config").toString());
    // the architecture must also be what build_model infers from the shapes
    assertEquals(cfg, ClipConfig.inferFrom(ClipWeights.expectedShapes(cfg)));
    return ClipModel.fromStateDict(ClipWeights.random(cfg, g.get("seed").asLong(), m));
  }

  private static NDArray pixels(JsonNode g, ClipConfig c, NDManager m) {
    int r = c.imageResolution();
    return stream(m, g.get("pixelsName").asText(), new Shape(2, 3, r, r), 1.0, g.get("seed").asLong());
  }

  @Test
  void tinyVitMatchesReference() {
    JsonNode g = golden.get("vit");
    try (NDManager m = manager.newSubManager(); ClipModel model = portable(g, m)) {
      int[][] ids = ints(g.get("ids"));
      List<String> texts = new ArrayList<>();
      golden.get("texts").forEach(t -> texts.add(t.asText()));
      assertArrayEquals(ids, ClipTokenizer.getDefault().tokenize(texts));
      NDArray tid = m.create(ids);
      NDArray px = pixels(g, model.config(), m);
      NDArray img = model.encodeImage(px);
      NDArray txt = model.encodeText(tid);
      assertClose(g.get("image"), img, "image features");
      assertClose(g.get("text"), txt, "text features");
      assertClose(g.get("logits"), model.logits(img, txt), "logits");
    }
  }

  @Test
  void tinyVitHooksMatchReference() {
    JsonNode g = golden.get("vit");
    long seed = g.get("seed").asLong();
    try (NDManager m = manager.newSubManager(); ClipModel model = portable(g, m)) {
      int d = model.config().textWidth();
      int w = model.config().visionWidth();
      // CoOp
      JsonNode coop = g.get("coop");
      NDArray cids = m.create(ints(coop.get("ids")));
      NDArray ctx = stream(m, "ctx", new Shape(4, d), 0.02, seed);
      NDArray emb = model.tokenEmbedding(cids);
      NDArray prompts = NDArrays.concat(new NDList(emb.get(":, 0:1"), ctx.expandDims(0), emb.get(":, 5:")), 1);
      assertClose(coop.get("text"), model.encodeText(TextInput.ofEmbeddings(prompts, ClipModel.eotIndex(cids))), "CoOp text");
      // deep text prompts (MaPLe / IVLP rule: positions 1..n before layer i)
      NDArray ids = m.create(ints(g.get("ids")));
      NDArray deep = stream(m, "deepText", new Shape(2, d), 0.02, seed);
      assertClose(g.get("deepText").get("text"),
          model.encodeText(TextInput.ofTokens(ids).withReplacement(new TokenReplacement(1, 1, deep))), "deep text");
      // appended + deep vision prompts (last n tokens)
      NDArray px = pixels(g, model.config(), m);
      NDArray vp = stream(m, "visionPrompts", new Shape(2, w), 0.02, seed);
      NDArray vd = stream(m, "visionDeep", new Shape(2, w), 0.02, seed);
      assertClose(g.get("deepVision").get("image"),
          model.encodeImage(VisionInput.of(px).withAppended(vp).withReplacement(new TokenReplacement(1, -2, vd))), "deep vision");
      // RPO vision: masked appended prompts, read the prompt rows
      int k = g.get("rpoVision").get("k").asInt();
      int n = model.config().visionTokens();
      NDArray rp = stream(m, "rpoPrompts", new Shape(k, w), 0.5, seed);
      float[] mask = new float[(n + k) * (n + k)];
      for (int i = 0; i < n + k; i++) for (int j = n; j < n + k; j++) mask[i * (n + k) + j] = Float.NEGATIVE_INFINITY;
      int[] rows = new int[k];
      for (int i = 0; i < k; i++) rows[i] = n + i;
      NDArray out = model.encodeImage(VisionInput.of(px).withAppended(rp)
          .withMasks(AttentionMasks.of(m.create(mask, new Shape(n + k, n + k)))).withReadout(m.create(rows)));
      assertClose(g.get("rpoVision").get("image"), out, "RPO vision");
    }
  }

  /** Gradients w.r.t. prompt tensors equal PyTorch autograd (what training relies on). */
  @Test
  void promptGradientsMatchReference() {
    JsonNode g = golden.get("vit");
    JsonNode grads = g.get("gradients");
    long seed = g.get("seed").asLong();
    try (NDManager m = manager.newSubManager(); ClipModel model = portable(g, m)) {
      ClipConfig c = model.config();
      NDArray ids = m.create(ints(grads.get("ids")));
      NDArray ctx = stream(m, "ctx", new Shape(4, c.textWidth()), 0.02, seed);
      NDArray vp = stream(m, "visionPrompts", new Shape(2, c.visionWidth()), 0.02, seed);
      NDArray vd = stream(m, "visionDeep", new Shape(2, c.visionWidth()), 0.02, seed);
      NDArray wt = stream(m, "gradText", new Shape(2, c.embedDim()), 1.0, seed);
      NDArray wi = stream(m, "gradImage", new Shape(2, c.embedDim()), 1.0, seed);
      for (NDArray p : new NDArray[] {ctx, vp, vd}) p.setRequiresGradient(true);
      try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
        NDArray prompts = ClipModel.replaceRows(model.tokenEmbedding(ids), 1, ctx);
        NDArray t = model.encodeText(TextInput.ofEmbeddings(prompts, ClipModel.eotIndex(ids)));
        NDArray img = model.encodeImage(VisionInput.of(pixels(g, c, m)).withAppended(vp)
            .withReplacement(new TokenReplacement(1, -2, vd)));
        gc.backward(t.mul(wt).sum().add(img.mul(wi).sum()));
      }
      assertClose(grads.get("ctx"), ctx.getGradient(), "d/d ctx");
      assertClose(grads.get("visionPrompts"), vp.getGradient(), "d/d appended vision prompts");
      assertClose(grads.get("visionDeep"), vd.getGradient(), "d/d deep vision prompts");
    }
  }

  @Test
  void tinyResNetMatchesReference() {
    JsonNode g = golden.get("rn");
    try (NDManager m = manager.newSubManager(); ClipModel model = portable(g, m)) {
      NDArray px = pixels(g, model.config(), m);
      NDArray tid = m.create(ints(g.get("ids")));
      NDArray img = model.encodeImage(px);
      NDArray txt = model.encodeText(tid);
      assertClose(g.get("image"), img, "RN image features");
      assertClose(g.get("text"), txt, "RN text features");
      assertClose(g.get("logits"), model.logits(img, txt), "RN logits");
    }
  }

  private static Path resource(Path dir, String name) throws Exception {
    Path p = dir.resolve(name.substring(name.lastIndexOf('/') + 1));
    try (InputStream in = ClipGoldenTest.class.getResourceAsStream("/golden/clip/" + name)) {
      Files.copy(in, p);
    }
    return p;
  }

  @Test
  void torchScriptArchiveHasBatchNormBuffers(@TempDir Path dir) throws Exception {
    Path pt = resource(dir, "formats/micro-rn/openai_torchscript.pt");
    try (NDManager m = manager.newSubManager()) {
      TorchArchive.Result r = TorchArchive.read(pt, m);
      assertTrue(r.torchScript());
      Map<String, NDArray> sd = r.tensors();
      assertTrue(sd.containsKey("visual.layer1.0.bn1.running_var"), "BatchNorm buffers must be read");
      assertTrue(sd.containsKey("visual.layer1.0.downsample.1.running_mean"), "downsample BatchNorm buffers");
    }
  }

  /** torch.save(OrderedDict): shared storage, transposed and offset views, fp16/bf16/int64, Parameter, "module." prefix. */
  @Test
  void torchSaveArchiveWithViewsAndDtypes(@TempDir Path dir) throws Exception {
    try (NDManager m = manager.newSubManager()) {
      TorchArchive.Result r = TorchArchive.read(resource(dir, "torch_save_sample.pt"), m);
      Map<String, NDArray> t = r.tensors();
      org.junit.jupiter.api.Assertions.assertFalse(r.torchScript());
      assertEquals(List.of("a", "t", "s", "h", "bf", "i", "p"), new ArrayList<>(t.keySet()));
      float[] a = new float[12];
      for (int i = 0; i < 12; i++) a[i] = i;
      assertArrayEquals(a, t.get("a").toFloatArray());
      assertEquals(new Shape(4, 3), t.get("t").getShape());
      assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, t.get("t").toFloatArray());
      assertArrayEquals(new float[] {6, 7, 10, 11}, t.get("s").toFloatArray());
      assertArrayEquals(new float[] {1.5f, -2.25f}, t.get("h").toFloatArray());
      assertArrayEquals(new float[] {3f, -0.5f}, t.get("bf").toFloatArray());
      assertArrayEquals(new long[] {7, -8}, t.get("i").toLongArray());
      assertArrayEquals(new float[] {0.25f}, t.get("p").toFloatArray());
    }
  }

  /** Full ViT-B/16 geometry (12 heads, patch 16, 224 px, 12+12 layers) against the reference. */
  @Test
  @org.junit.jupiter.api.Tag("slow")
  void vitB16GeometryMatchesReference() throws Exception {
    JsonNode g;
    try (InputStream in = new GZIPInputStream(ClipGoldenTest.class.getResourceAsStream("/golden/clip/clip_golden_vitb16.json.gz"))) {
      g = JSON.readTree(in);
    }
    try (NDManager m = manager.newSubManager(); ClipModel model = portable(g, m)) {
      assertEquals(ClipConfig.vitB16().embedDim(), model.config().embedDim());
      List<String> texts = new ArrayList<>();
      golden.get("texts").forEach(x -> texts.add(x.asText()));
      NDArray img = model.encodeImage(pixels(g, model.config(), m));
      NDArray txt = model.encodeText(m.create(ClipTokenizer.getDefault().tokenize(texts)));
      assertClose(g.get("image"), img, "ViT-B/16 image features");
      assertClose(g.get("text"), txt, "ViT-B/16 text features");
      assertClose(g.get("logits"), model.logits(img, txt), "ViT-B/16 logits");
    }
  }

  @Test
  void truncatedTorchArchiveFailsClearly(@TempDir Path dir) throws Exception {
    Path pt = resource(dir, "formats/micro-rn/openai_torchscript.pt");
    byte[] all = Files.readAllBytes(pt);
    Path cut = dir.resolve("cut.pt");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length - 5000));
    try (NDManager m = manager.newSubManager()) {
      Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> ClipModel.load(cut, m));
      assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("zip"), e.getMessage());
    }
  }

  /** Every class name of prompts.md in every template gives the reference ids. */
  @Test
  void tokenizerMatchesReferenceOnAllPrompts() throws Exception {
    JsonNode sets;
    try (InputStream in = new GZIPInputStream(ClipGoldenTest.class.getResourceAsStream("/golden/clip/tokenizer_golden.json.gz"))) {
      sets = JSON.readTree(in);
    }
    ClipTokenizer tok = ClipTokenizer.getDefault();
    int checked = 0;
    List<String> failures = new ArrayList<>();
    for (JsonNode set : sets) {
      JsonNode ids = set.get("ids");
      int i = 0;
      for (JsonNode t : set.get("templates")) {
        for (JsonNode c : set.get("classes")) {
          String prompt = t.asText().replace("{}", c.asText());
          JsonNode exp = ids.get(i++);
          int[] want = new int[exp.size()];
          for (int j = 0; j < want.length; j++) want[j] = exp.get(j).asInt();
          if (!java.util.Arrays.equals(want, tok.encode(prompt)) && failures.size() < 10) {
            failures.add(set.get("dataset").asText() + ": \"" + prompt + "\"");
          }
          checked++;
        }
      }
    }
    assertTrue(failures.isEmpty(), "mismatches: " + failures);
    assertTrue(checked > 30_000, "checked only " + checked);
  }
}
