package ai.promptline.ml.methods;

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
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.clip.TextInput;
import ai.promptline.ml.train.PromptTrainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** CoOp and zero-shot CLIP on a tiny random CLIP: initialisation, prompt assembly, gradients, state. */
class CoOpTest {
  private static final ClipTokenizer TOKENIZER = ClipTokenizer.getDefault();
  private static final ClassSet CLASSES = new ClassSet(List.of("cat", "sea_lion", "golden retriever"), "a photo of a {}.");
  private static NDManager manager;
  private static ClipModel clip;
  private static NDArray images; // normalised image features [5, E]

  @BeforeAll
  static void setUp() {
    manager = NDManager.newBaseManager();
    clip = ClipModel.random(ClipConfig.tinyVit(), 17, manager);
    int e = clip.config().embedDim();
    SplittableRandom r = new SplittableRandom(5);
    float[] v = new float[5 * e];
    for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
    images = Features.normalize(manager.create(v, new Shape(5, e)));
  }

  @AfterAll
  static void tearDown() {
    clip.close();
    manager.close();
  }

  private static CoOp coop(NDManager m, int nCtx, String init, long seed) {
    return new CoOp(new MethodContext(clip, TOKENIZER, m, new MethodOptions(nCtx, init), seed));
  }

  private static float[] logits(PromptMethod method, ClassSet classes) {
    try (PromptMethod.Head h = method.bind(classes)) {
      return ((PromptMethod.FeatureHead) h).logitsOf(images).toFloatArray();
    }
  }

  private static void assertClose(float[] expected, float[] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], tol, what + "[" + i + "]");
  }

  /** {@code scale · f · normalize(encodeText(prompts))ᵀ} built without any method code. */
  private static float[] manualLogits(NDArray textFeatures) {
    NDArray t = textFeatures.div(textFeatures.norm(new int[] {-1}, true));
    return ai.promptline.ml.clip.Numerics.scale(images.matMul(t.transpose()), clip.logitScale()).toFloatArray();
  }

  @Test
  void zeroShot_equalsHandTemplatedPrompts_withUnderscoresReplaced() {
    try (NDManager m = manager.newSubManager()) {
      ZeroShotClip zs = new ZeroShotClip(new MethodContext(clip, TOKENIZER, m, new MethodOptions(0, ""), 1));
      assertTrue(zs.parameters().isEmpty());
      assertTrue(zs.stateDict().isEmpty());
      NDArray ids = m.create(TOKENIZER.tokenize(
          List.of("a photo of a cat.", "a photo of a sea lion.", "a photo of a golden retriever."), 77, false));
      float[] expected = manualLogits(clip.encodeText(ids));
      assertClose(expected, logits(zs, CLASSES), 1e-5, "zero-shot logits");
      assertEquals(5 * 3, expected.length);
      // the template is really used: another template changes the logits
      float[] other = logits(zs, new ClassSet(CLASSES.names(), "itap of a {}."));
      assertFalse(java.util.Arrays.equals(expected, other));
    }
  }

  @Test
  void coopWithWordInit_givesExactlyTheZeroShotLogits() {
    try (NDManager m = manager.newSubManager(); CoOp c = coop(m, 16, "a photo of a", 1)) {
      ZeroShotClip zs = new ZeroShotClip(new MethodContext(clip, TOKENIZER, m, new MethodOptions(0, ""), 1));
      assertEquals(4L * clip.config().textWidth(), c.trainableParams(), "M = word count of ctxInit, nCtx ignored");
      // the context is the words' token embeddings
      NDArray wordEmb = clip.tokenEmbedding(m.create(TOKENIZER.tokenize(List.of("a photo of a"), 77, false)))
          .get(new NDIndex("0, 1:5"));
      assertArrayEquals(wordEmb.toFloatArray(), c.stateDict().get("ctx").toFloatArray());
      assertClose(logits(zs, CLASSES), logits(c, CLASSES), 1e-5, "coop(init) vs zero-shot");
      // underscores in ctxInit are spaces
      try (CoOp u = coop(m, 0, "a_photo_of_a", 2)) {
        assertArrayEquals(wordEmb.toFloatArray(), u.stateDict().get("ctx").toFloatArray());
      }
    }
  }

  @Test
  void randomInit_isSeededAndHasStd002() {
    try (NDManager m = manager.newSubManager();
        CoOp a = coop(m, 4, "", 7);
        CoOp b = coop(m, 4, "", 7);
        CoOp other = coop(m, 4, "", 8)) {
      float[] va = a.stateDict().get("ctx").toFloatArray();
      assertEquals(new Shape(4, clip.config().textWidth()), a.stateDict().get("ctx").getShape());
      assertArrayEquals(va, b.stateDict().get("ctx").toFloatArray(), "same seed, same init");
      assertFalse(java.util.Arrays.equals(va, other.stateDict().get("ctx").toFloatArray()));
      double mean = 0;
      for (float x : va) mean += x;
      mean /= va.length;
      double var = 0;
      for (float x : va) var += (x - mean) * (x - mean);
      double std = Math.sqrt(var / (va.length - 1));
      assertEquals(0.02, std, 0.004, "N(0, 0.02²) init");
      assertEquals(0, mean, 0.006);
      assertThrows(IllegalArgumentException.class, () -> coop(m, 0, "", 1), "no ctx at all");
    }
  }

  @Test
  void coopLogits_equalManualPromptAssembly() {
    try (NDManager m = manager.newSubManager(); CoOp c = coop(m, 4, "", 3)) {
      NDArray ctx = c.stateDict().get("ctx");
      List<String> prompts = new ArrayList<>();
      for (String n : List.of("cat", "sea lion", "golden retriever")) prompts.add("X X X X " + n + ".");
      NDArray ids = m.create(TOKENIZER.tokenize(prompts, 77, false));
      NDArray emb = clip.tokenEmbedding(ids);
      NDArray spliced = NDArrays.concat(new NDList(emb.get(new NDIndex(":, :1")),
          ctx.stopGradient().expandDims(0).repeat(0, 3), emb.get(new NDIndex(":, 5:"))), 1);
      assertEquals(new Shape(3, 77, clip.config().textWidth()), spliced.getShape());
      float[] expected = manualLogits(clip.encodeText(TextInput.ofEmbeddings(spliced, ClipModel.eotIndex(ids))));
      assertClose(expected, logits(c, CLASSES), 1e-5, "coop vs manual");
      // and the learned context matters: zero-shot-like word prompts give other logits
      assertFalse(java.util.Arrays.equals(expected, manualLogits(clip.encodeText(m.create(TOKENIZER.tokenize(
          List.of("a photo of a cat.", "a photo of a sea lion.", "a photo of a golden retriever."), 77, false))))));
    }
  }

  @Test
  void gradientsReachOnlyTheContext() {
    try (NDManager m = manager.newSubManager(); CoOp c = coop(m, 4, "a photo of a", 1)) {
      assertEquals(1, c.parameters().size());
      NDArray ctx = c.parameters().get("ctx");
      try (PromptMethod.Head h = c.bind(CLASSES); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray loss = PromptTrainer.crossEntropy(((PromptMethod.FeatureHead) h).logitsOf(images), m.create(new int[] {0, 1, 2, 0, 1}), 3);
        gc.backward(loss);
      }
      float[] g = ctx.getGradient().toFloatArray();
      double norm = 0;
      for (float x : g) norm += x * x;
      assertTrue(norm > 0 && Double.isFinite(norm), "ctx gets a gradient: " + norm);
      for (Map.Entry<String, NDArray> w : clip.weights().entrySet()) {
        if (!w.getValue().hasGradient()) continue;
        float[] wg = w.getValue().getGradient().toFloatArray();
        for (float x : wg) assertEquals(0f, x, "frozen CLIP weight " + w.getKey() + " got a gradient");
      }
    }
  }

  @Test
  void stateDict_roundTripsIntoAFreshModel_andRejectsWrongShapes() {
    try (NDManager m = manager.newSubManager(); CoOp trained = coop(m, 4, "", 1); CoOp fresh = coop(m, 4, "", 2)) {
      // move the trained ctx away from its init, in place, as the optimiser does
      NDArray data = trained.parameters().get("ctx").stopGradient();
      data.subi(0.1f);
      data.close();
      float[] expected = logits(trained, CLASSES);
      Map<String, NDArray> copied = Map.of("ctx",
          m.create(trained.stateDict().get("ctx").toFloatArray(), new Shape(4, clip.config().textWidth())));
      assertFalse(java.util.Arrays.equals(expected, logits(fresh, CLASSES)));
      fresh.loadStateDict(copied);
      assertArrayEquals(copied.get("ctx").toFloatArray(),
          fresh.stateDict().get("ctx").toFloatArray(), "loaded values");
      assertArrayEquals(copied.get("ctx").toFloatArray(), fresh.parameters().get("ctx").toFloatArray(),
          "the parameter itself holds the loaded values");
      assertClose(expected, logits(fresh, CLASSES), 0, "same logits after loading");

      IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
          () -> fresh.loadStateDict(Map.of("ctx", m.zeros(new Shape(16, clip.config().textWidth())))));
      assertTrue(wrong.getMessage().contains("(16, 64)") && wrong.getMessage().contains("(4, 64)"), wrong.getMessage());
      IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> fresh.loadStateDict(Map.of()));
      assertTrue(missing.getMessage().contains("missing 'ctx'"), missing.getMessage());
      // a checkpoint of the previous layout (and a Dassl whole-model one) uses prompt_learner.ctx
      fresh.loadStateDict(Map.of("prompt_learner.ctx", copied.get("ctx")));
      assertClose(expected, logits(fresh, CLASSES), 0, "legacy name");
      assertArrayEquals(copied.get("ctx").toFloatArray(), fresh.parameters().get("ctx").toFloatArray(),
          "a rejected state leaves the parameter alone");
    }
  }

  @Test
  void boundHead_followsTheLiveContext_soOneBindServesAWholeTraining() {
    try (NDManager m = manager.newSubManager(); CoOp c = coop(m, 4, "", 9); PromptMethod.Head h = c.bind(CLASSES)) {
      PromptMethod.FeatureHead fh = (PromptMethod.FeatureHead) h;
      float[] before = fh.logitsOf(images).toFloatArray();
      NDArray data = c.parameters().get("ctx").stopGradient();
      data.muli(3f); // an optimiser step, in place
      data.close();
      float[] after = fh.logitsOf(images).toFloatArray();
      assertFalse(java.util.Arrays.equals(before, after), "the head must not cache text features of the old ctx");
      assertClose(logits(c, CLASSES), after, 1e-6, "same as a freshly bound head");
    }
  }

  @Test
  void classSet_validatesAndCleansNames() {
    assertEquals("sea lion", CLASSES.cleaned(1));
    assertEquals(3, CLASSES.size());
    assertThrows(IllegalArgumentException.class, () -> new ClassSet(List.of(), "a photo of a {}."));
    assertThrows(IllegalArgumentException.class, () -> new ClassSet(List.of("cat"), "a photo of a cat."));
  }

  @Test
  void registry_buildsByName_andListsKnownMethodsOnError() {
    try (NDManager m = manager.newSubManager()) {
      MethodContext ctx = new MethodContext(clip, TOKENIZER, m, new MethodOptions(2, ""), 1);
      try (PromptMethod c = Methods.create("coop", ctx)) {
        assertEquals("coop", c.name());
        assertEquals(2L * clip.config().textWidth(), c.trainableParams());
      }
      assertEquals("zsclip", Methods.create("zsclip", ctx).name());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Methods.spec("cocoop2"));
      assertTrue(e.getMessage().contains("coop") && e.getMessage().contains("zsclip"), e.getMessage());
    }
  }
}
