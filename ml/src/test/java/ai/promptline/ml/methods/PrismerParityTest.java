package ai.promptline.ml.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.clip.TensorFiles;
import ai.promptline.ml.train.Batch;
import ai.promptline.ml.train.Probe;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Prismer against its spec golden ({@code tools/golden/prismer_golden.py}: no public classification
 * code exists): the tiny CLIP of the method goldens with adaptors in its last 2 blocks (bottleneck
 * 32) and a resampler over two frozen experts of other widths (a ViT of width 128 and a
 * ModifiedResNet of 128 channels), and the adaptor-only ablation with Prismer's defaults. Loss,
 * logits and the gradient of every trainable tensor over 3 SGD steps within 1e-4 relative, as
 * {@link MethodParityTest}.
 */
class PrismerParityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static NDManager manager;
  private static ClipModel clip;
  private static Map<String, ClipModel> experts = new LinkedHashMap<>();
  private static JsonNode inputs;
  private static Path dir;
  private static NDArray pixels;

  @BeforeAll
  static void load() throws Exception {
    dir = TinyClipFixture.goldenDir();
    inputs = JSON.readTree(dir.resolve("inputs.json").toFile());
    manager = NDManager.newBaseManager();
    Path out = Path.of("target", "golden-methods").toAbsolutePath();
    clip = TinyClipFixture.goldenClip(manager);
    for (String e : List.of("vit", "rn")) {
      String f = "prismer_expert_" + e + ".safetensors";
      experts.put(e, ClipModel.load(TinyClipFixture.expand(dir.resolve(f), out.resolve(f)), manager));
    }
    pixels = TinyClipFixture.goldenPixels(inputs, clip.config().imageResolution(), manager);
  }

  @AfterAll
  static void close() {
    experts.values().forEach(ClipModel::close);
    clip.close();
    manager.close();
  }

  private static MethodContext context(JsonNode g, NDManager m) {
    Map<String, String> o = new LinkedHashMap<>();
    g.get("probe").fields().forEachRemaining(e -> o.put(e.getKey(), e.getValue().asText()));
    List<MethodContext.Expert> ex = new ArrayList<>();
    g.get("experts").forEach(e -> ex.add(new MethodContext.Expert(e.get("name").asText(), experts.get(e.get("name").asText()))));
    return new MethodContext(clip, ClipTokenizer.getDefault(), m, MethodOptions.of(Methods.spec(Prismer.NAME), o), 1).withExperts(ex);
  }

  private static Batch batch(NDManager m) {
    int[] targets = new int[inputs.get("targets").size()];
    for (int i = 0; i < targets.length; i++) targets[i] = inputs.get("targets").get(i).asInt();
    return new Batch(0, new int[] {0, 1, 2, 3}, targets, m.create(targets), null, pixels);
  }

  private static ClassSet classes() {
    List<String> c = new ArrayList<>();
    inputs.get("classes").forEach(x -> c.add(x.asText()));
    return new ClassSet(c, "a photo of a {}.");
  }

  @ParameterizedTest
  @ValueSource(strings = {"prismer", "prismer-noexpert"})
  void matchesTheSpecGoldenForThreeSgdSteps(String golden) throws Exception {
    JsonNode g = JSON.readTree(dir.resolve(golden + ".json").toFile());
    try (NDManager m = manager.newSubManager(); PromptMethod method = Methods.create(Prismer.NAME, context(g, m))) {
      List<String> names = new ArrayList<>();
      g.get("parameters").fieldNames().forEachRemaining(names::add);
      assertEquals(new TreeSet<>(names), new TreeSet<>(method.parameters().keySet()), golden + ": parameter names");
      g.get("parameters").fields().forEachRemaining(e -> {
        long[] shape = new long[e.getValue().size()];
        for (int i = 0; i < shape.length; i++) shape[i] = e.getValue().get(i).asLong();
        assertEquals(new Shape(shape), method.parameters().get(e.getKey()).getShape(), golden + ": shape of " + e.getKey());
      });
      method.loadStateDict(TensorFiles.read(dir.resolve(g.get("init").asText()), m));
      List<Probe.Step> steps = Probe.run(method, classes(), batch(m), inputs.get("lr").asDouble(), 3);
      assertEquals(g.get("steps").size(), steps.size());
      double worst = 0;
      for (int s = 0; s < steps.size(); s++) {
        JsonNode e = g.get("steps").get(s);
        Probe.Step a = steps.get(s);
        double lossErr = Math.abs(a.loss() - e.get("loss").asDouble()) / Math.abs(e.get("loss").asDouble());
        assertTrue(lossErr <= 1e-4, golden + " step " + s + " loss " + a.loss() + " vs " + e.get("loss").asDouble());
        worst = Math.max(worst, lossErr);
        worst = Math.max(worst, MethodParityTest.check(golden + " step " + s + " logits", MethodParityTest.flat(e.get("logits")),
            MethodParityTest.flatRows(a.logits())));
        if (!e.has("grads")) continue;
        for (String p : names) {
          float[] got = a.gradients().get(p);
          assertTrue(got != null, golden + " step " + s + ": no gradient for " + p);
          worst = Math.max(worst, MethodParityTest.check(golden + " step " + s + " d/d " + p, MethodParityTest.floats(e.get("grads").get(p)), got));
        }
      }
      System.out.printf("parity %-16s worst relative error %.3g over %d steps%n", golden, worst, steps.size());
    }
  }

  /** The expert branch is silent at step 0: the zero head leaves the adapted CLIP's logits unchanged. */
  @Test
  void theZeroHeadMakesTheExpertBranchSilentAtStepZero() throws Exception {
    JsonNode g = JSON.readTree(dir.resolve("prismer.json").toFile());
    try (NDManager m = manager.newSubManager(); PromptMethod with = Methods.create(Prismer.NAME, context(g, m));
        PromptMethod without = Methods.create(Prismer.NAME, context(g, m).withExperts(List.of()))) {
      Map<String, NDArray> init = TensorFiles.read(dir.resolve(g.get("init").asText()), m);
      with.loadStateDict(init);
      Map<String, NDArray> adaptorsOnly = new LinkedHashMap<>(init);
      adaptorsOnly.keySet().retainAll(without.parameters().keySet());
      without.loadStateDict(adaptorsOnly);
      try (PromptMethod.Head a = with.bind(classes()); PromptMethod.Head b = without.bind(classes())) {
        float[] x = a.logits(batch(m)).toFloatArray();
        float[] y = b.logits(batch(m)).toFloatArray();
        assertEquals(0.0, MethodParityTest.check("step-0 logits with vs without experts", y, x), 1e-6);
      }
    }
  }

  @Test
  void refusesBadOptionsAndExpertsOfAnotherResolution() throws Exception {
    JsonNode g = JSON.readTree(dir.resolve("prismer.json").toFile());
    try (NDManager m = manager.newSubManager()) {
      MethodSpec spec = Methods.spec(Prismer.NAME);
      MethodContext c = context(g, m);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Methods.create(Prismer.NAME,
          new MethodContext(clip, ClipTokenizer.getDefault(), m, MethodOptions.of(spec, Map.of("adaptorLayers", "4")), 1)));
      assertTrue(e.getMessage().contains("adaptorLayers") && e.getMessage().contains("3 layers"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> Methods.create(Prismer.NAME, new MethodContext(clip,
          ClipTokenizer.getDefault(), m, MethodOptions.of(spec, Map.of("resamplerWidth", "30", "resamplerHeads", "4")), 1)
          .withExperts(c.experts())));
      assertTrue(e.getMessage().contains("divisible"), e.getMessage());
      try (NDManager rm = NDManager.newBaseManager();
          ClipModel big = ClipModel.random(ai.promptline.ml.clip.ClipConfig.tinyResNet(), 1, rm)) {
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create(Prismer.NAME,
            c.withExperts(List.of(new MethodContext.Expert("rn64", big)))));
        assertTrue(e.getMessage().contains("'rn64' takes 64 px") && e.getMessage().contains("input resolution 32"), e.getMessage());
      }
    }
  }

  /** ViT tokens: row 0 after ln_post and proj is the pooled image feature. */
  @Test
  void vitTokensEndInTheImageFeature() {
    try (NDManager m = manager.newSubManager()) {
      NDArray px = pixels.duplicate();
      px.attach(m);
      NDArray tokens = clip.encodeImageTokens(px);
      assertEquals(new Shape(4, 17, 64), tokens.getShape());
      assertEquals(new Shape(4, 1, 128), experts.get("rn").encodeImageTokens(px).getShape());
      float[] viaTokens = tokens.get(":, 0").matMul(clip.weights().get("visual.proj")).toFloatArray();
      float[] pooled = clip.encodeImage(px).toFloatArray();
      assertTrue(MethodParityTest.checkTol("tokens[:, 0] @ proj vs encodeImage", pooled, viaTokens, 1e-5) < 1e-5);
    }
  }
}
