package ai.promptline.ml.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.clip.TensorFiles;
import ai.promptline.ml.data.image.Images;
import ai.promptline.ml.data.image.Transforms;
import ai.promptline.ml.train.Batch;
import ai.promptline.ml.train.Probe;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code instance} method against its spec golden ({@code tools/golden/instance_golden.py}: the
 * issue's spec in PyTorch, there being no public code) on the tiny CLIP of the method goldens: the
 * golden's fixed candidate selection replaces the sampler; training logits, loss and the gradients of
 * {@code global_ctx} and {@code instance_ctx} over 3 SGD steps, and the test logits (top-K averaging,
 * a novel class by the global context alone) before and after them, within 1e-4 relative.
 */
class InstancePromptsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static NDManager manager;
  private static ClipModel clip;
  private static JsonNode golden;
  private static Path dir;

  @BeforeAll
  static void load() throws Exception {
    dir = Path.of(InstancePromptsTest.class.getResource("/golden/methods").toURI());
    golden = JSON.readTree(dir.resolve("instance.json").toFile());
    manager = NDManager.newBaseManager();
    clip = TinyClipFixture.goldenClip(manager);
  }

  @AfterAll
  static void close() {
    clip.close();
    manager.close();
  }

  private static List<String> strings(JsonNode a) {
    List<String> out = new ArrayList<>();
    a.forEach(x -> out.add(x.asText()));
    return out;
  }

  private static int[] ints(JsonNode a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
    return out;
  }

  private static MethodContext context(NDManager m, MethodContext.TrainingSet training, Map<String, String> options) {
    MethodSpec spec = Methods.spec(InstancePrompts.NAME);
    return new MethodContext(clip, ClipTokenizer.getDefault(), m, MethodOptions.of(spec, options), 1).withTraining(training);
  }

  private static Map<String, String> goldenOptions() {
    Map<String, String> o = new LinkedHashMap<>();
    golden.get("probe").fields().forEachRemaining(e -> o.put(e.getKey(), e.getValue().asText()));
    return o;
  }

  @Test
  void matchesTheSpecGolden_trainingStepsAndTestLogits() throws Exception {
    MethodContext.TrainingSet training = new MethodContext.TrainingSet(strings(golden.get("trainingClasses")),
        ints(golden.get("trainingLabels")));
    try (NDManager m = manager.newSubManager(); InstancePrompts method = new InstancePrompts(context(m, training, goldenOptions()))) {
      Map<String, NDArray> params = method.parameters();
      assertEquals(List.of(InstancePrompts.GLOBAL, InstancePrompts.INSTANCE), new ArrayList<>(params.keySet()));
      golden.get("parameters").fields().forEachRemaining(e ->
          assertArrayEquals(ints(e.getValue()), Arrays.stream(params.get(e.getKey()).getShape().getShape()).mapToInt(x -> (int) x).toArray(), e.getKey()));
      Map<String, NDArray> init = TensorFiles.read(dir.resolve(golden.get("init").asText()), m);
      // global_ctx starts from ctxInit's embeddings, as in the golden
      MethodParityTest.check("global_ctx init", init.get(InstancePrompts.GLOBAL).toFloatArray(), params.get(InstancePrompts.GLOBAL).toFloatArray());
      method.loadStateDict(init);

      int[] ids = ints(golden.get("batchSampleIds"));
      Map<Integer, int[][]> fixed = new HashMap<>();
      for (int b = 0; b < ids.length; b++) {
        JsonNode s = golden.get("selection").get(b);
        int[][] per = new int[s.size()][];
        for (int c = 0; c < per.length; c++) per[c] = ints(s.get(c));
        fixed.put(ids[b], per);
      }
      method.select((epoch, id) -> fixed.get(id));

      float[] feats = MethodParityTest.flat(golden.get("imageFeatures"));
      int e = clip.config().embedDim();
      assertJavaFeaturesAgree(feats, m);
      int[] labels = ints(golden.get("batchLabels"));
      Batch batch = new Batch(0, ids, labels, m.create(labels), m.create(feats, new Shape(ids.length, e)), null);
      ClassSet trainClasses = new ClassSet(training.classNames(), "a photo of a {}.");
      ClassSet evalClasses = new ClassSet(strings(golden.get("evalClasses")), "a photo of a {}.");

      double worst = 0;
      try (PromptMethod.Head eval = method.bind(evalClasses)) {
        worst = Math.max(worst, MethodParityTest.check("test logits at init", MethodParityTest.flat(golden.get("evalLogitsInit")),
            eval.logits(batch).toFloatArray()));
        List<Probe.Step> steps = Probe.run(method, trainClasses, batch, 0.05, 3);
        assertEquals(golden.get("steps").size(), steps.size());
        for (int s = 0; s < steps.size(); s++) {
          JsonNode g = golden.get("steps").get(s);
          Probe.Step a = steps.get(s);
          double lossErr = Math.abs(a.loss() - g.get("loss").asDouble()) / Math.abs(g.get("loss").asDouble());
          assertTrue(lossErr <= 1e-4, "step " + s + " loss " + a.loss() + " vs " + g.get("loss").asDouble());
          worst = Math.max(worst, lossErr);
          worst = Math.max(worst, MethodParityTest.check("step " + s + " training logits", MethodParityTest.flat(g.get("logits")),
              MethodParityTest.flatRows(a.logits())));
          if (g.has("grads")) {
            for (String p : List.of(InstancePrompts.GLOBAL, InstancePrompts.INSTANCE)) {
              assertTrue(a.gradients().containsKey(p), "step " + s + ": no gradient for " + p);
              worst = Math.max(worst, MethodParityTest.check("step " + s + " d/d " + p, MethodParityTest.floats(g.get("grads").get(p)),
                  a.gradients().get(p)));
            }
          }
        }
        // the same head after the parameters moved: recomputed, not the cached features of the init
        float[] after = eval.logits(batch).toFloatArray();
        worst = Math.max(worst, MethodParityTest.check("test logits after 3 steps (same head)",
            MethodParityTest.flat(golden.get("evalLogitsFinal")), after));
        assertArrayEquals(after, eval.logits(batch).toFloatArray(), "a second batch reuses the features");
      }
      try (PromptMethod.Head fresh = method.bind(evalClasses)) {
        worst = Math.max(worst, MethodParityTest.check("test logits after 3 steps (new head)",
            MethodParityTest.flat(golden.get("evalLogitsFinal")), fresh.logits(batch).toFloatArray()));
      }
      System.out.printf("parity instance    worst relative error %.3g (3 SGD steps, test logits before/after)%n", worst);
    }
  }

  /** The golden's image features are what Promptline's tower and test transform give (reported; the test feeds the golden's). */
  private static void assertJavaFeaturesAgree(float[] expected, NDManager m) throws Exception {
    int size = clip.config().imageResolution();
    Transforms.ImageTransform t = Transforms.test(size);
    float[] px = new float[4 * 3 * size * size];
    for (int i = 0; i < 4; i++) t.apply(Images.readRgb(dir.resolve("img" + i + ".png")), 0, i, px, i * 3 * size * size);
    NDArray f = Features.normalize(clip.encodeImage(m.create(px, new Shape(4, 3, size, size))));
    double err = MethodParityTest.check("image features", expected, f.toFloatArray());
    System.out.printf("instance golden image features vs Promptline's: relative error %.3g%n", err);
  }

  @Test
  void samplerDrawsDistinctCandidatesWithTheOwnPrompt_asAPureFunctionOfSeedEpochAndId() {
    int[] labels = new int[40];
    for (int i = 0; i < labels.length; i++) labels[i] = (i * 7) % 5; // 5 classes x 8 shots, interleaved
    int[][] byClass = new int[5][];
    for (int c = 0; c < 5; c++) {
      final int cc = c;
      byClass[c] = java.util.stream.IntStream.range(0, labels.length).filter(i -> labels[i] == cc).toArray();
    }
    InstancePrompts.Selection s = InstancePrompts.sampler(42, labels, byClass, 3);
    InstancePrompts.Selection same = InstancePrompts.sampler(42, labels, byClass, 3);
    int differentEpoch = 0;
    int differentSeed = 0;
    int[] ownSlot = new int[3];
    for (int id = 0; id < labels.length; id++) {
      for (int epoch = 0; epoch < 5; epoch++) {
        int[][] p = s.pick(epoch, id);
        assertEquals(5, p.length);
        for (int c = 0; c < 5; c++) {
          assertEquals(3, p[c].length);
          assertEquals(3, Arrays.stream(p[c]).distinct().count(), "distinct");
          for (int x : p[c]) assertEquals(c, labels[x], "a class's candidates are its own prompts");
          for (int i = 1; i < 3; i++) assertTrue(p[c][i - 1] < p[c][i], "ascending");
        }
        int own = Arrays.binarySearch(p[labels[id]], id);
        assertTrue(own >= 0, "own prompt among its class's candidates");
        ownSlot[own]++;
        assertTrue(Arrays.deepEquals(p, same.pick(epoch, id)), "pure function of (seed, epoch, id)");
        if (epoch > 0 && !Arrays.deepEquals(p, s.pick(0, id))) differentEpoch++;
        if (!Arrays.deepEquals(p, InstancePrompts.sampler(43, labels, byClass, 3).pick(epoch, id))) differentSeed++;
      }
    }
    assertTrue(differentEpoch > 100, "epochs draw anew: " + differentEpoch + " of 160");
    assertTrue(differentSeed > 150, "seeds draw anew: " + differentSeed + " of 200");
    for (int slot : ownSlot) assertTrue(slot > 0, "own prompt at every sorted position: " + Arrays.toString(ownSlot));
  }

  @Test
  void optionsAboveTheShotsAreRefusedWithTheFix() {
    MethodContext.TrainingSet twoShots = new MethodContext.TrainingSet(List.of("cat", "dog"), new int[] {0, 1, 0, 1});
    try (NDManager m = manager.newSubManager()) {
      IllegalArgumentException k = assertThrows(IllegalArgumentException.class,
          () -> new InstancePrompts(context(m, twoShots, Map.of("candidatesPerClass", "3", "topK", "2"))));
      assertEquals("instance: class 'cat' has 2 training images; option candidatesPerClass=3 draws that many distinct prompts"
          + " per class from 2 per class; set candidatesPerClass to at most 2 or train with more shots", k.getMessage());
      IllegalArgumentException top = assertThrows(IllegalArgumentException.class,
          () -> new InstancePrompts(context(m, twoShots, Map.of())));
      assertEquals("instance: class 'cat' has 2 training images; option topK=4 averages that many prompts per class out of 2"
          + " per class; set topK to at most 2 or train with more shots", top.getMessage());
      IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
          () -> new InstancePrompts(new MethodContext(clip, ClipTokenizer.getDefault(), m,
              MethodOptions.of(Methods.spec("instance"), Map.of()), 1)));
      assertTrue(none.getMessage().contains("needs the run's training set"), none.getMessage());
      try (InstancePrompts ok = new InstancePrompts(context(m, twoShots, Map.of("topK", "2")))) {
        assertEquals(4 * 4 * clip.config().textWidth(), ok.parameters().get(InstancePrompts.INSTANCE).getShape().size());
      }
    }
    MethodSpec spec = Methods.spec("instance");
    assertNull(spec.planCheck().problem(spec.resolve(Map.of()), 4));
    assertNull(spec.planCheck().problem(spec.resolve(Map.of()), 0), "shots 0 = every image: not known at plan time");
    String plan = spec.planCheck().problem(spec.resolve(Map.of()), 2);
    assertEquals("method 'instance' at 2 shots: option topK=4 averages that many prompts per class out of 2 per class;"
        + " set topK to at most 2 or train with more shots", plan);
    assertNotEquals(null, spec.planCheck().problem(spec.resolve(Map.of("candidatesPerClass", "5")), 4));
  }
}
