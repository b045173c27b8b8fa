package ai.promptline.ml.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.train.Batch;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Methods whose text side depends on the learned prompts only compute it once per evaluation
 * ({@code evaluationLogits}): the logits equal the training-path logits on every test batch, and
 * a head evaluated again after its prompts changed recomputes instead of reusing stale features.
 */
class TextCacheTest {
  static NDManager manager;
  static ClipModel clip;

  @BeforeAll
  static void load() {
    manager = NDManager.newBaseManager();
    clip = ClipModel.random(ClipConfig.tinyVit(), 5, manager);
  }

  @AfterAll
  static void close() {
    clip.close();
    manager.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"coop", "deep-text", "maple", "ivlp"})
  void evaluationLogitsEqualLogits_andFollowParameterChanges(String name) {
    try (NDManager m = manager.newSubManager()) {
      MethodSpec spec = Methods.spec(name);
      Map<String, String> o = new java.util.HashMap<>();
      if (spec.defaults().containsKey("depth")) o.put("depth", "2");
      if (spec.defaults().containsKey("depthVision")) o.put("depthVision", "2");
      PromptMethod method = Methods.create(name, new MethodContext(clip, ClipTokenizer.getDefault(), m, MethodOptions.of(spec, o), 3));
      ClassSet classes = new ClassSet(List.of("cat", "dog", "red car"), "a photo of a {}.");
      int r = clip.config().imageResolution();
      try (PromptMethod.Head head = method.bind(classes)) {
        for (int b = 0; b < 2; b++) {
          Batch x = batch(m, spec, b, r);
          assertArrayEquals(head.logits(x).toFloatArray(), head.evaluationLogits(x).toFloatArray(), 1e-5f, name + " batch " + b);
        }
        Batch x = batch(m, spec, 0, r);
        float[] before = head.evaluationLogits(x).toFloatArray();
        NDArray first = method.parameters().values().iterator().next();
        first.addi(0.5f); // an optimiser step, as far as the cache can tell
        float[] after = head.evaluationLogits(x).toFloatArray();
        assertFalse(java.util.Arrays.equals(before, after), name + ": the cache must notice changed prompts");
        assertArrayEquals(head.logits(x).toFloatArray(), after, 1e-5f, name);
      }
      method.close();
    }
  }

  private static Batch batch(NDManager m, MethodSpec spec, int seed, int r) {
    int[] ids = {0, 1};
    int[] y = {0, 2};
    if (spec.input() == MethodSpec.Input.PIXELS) {
      NDArray px = m.randomNormal(0, 1, new Shape(2, 3, r, r), ai.djl.ndarray.types.DataType.FLOAT32);
      return new Batch(0, ids, y, m.create(y), null, px);
    }
    NDArray f = Features.normalize(m.randomNormal(0, 1, new Shape(2, clip.config().embedDim()), ai.djl.ndarray.types.DataType.FLOAT32));
    return new Batch(0, ids, y, m.create(y), f, null);
  }
}
