package ai.promptline.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.Safetensors;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.PromptMethod;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Top-1 accuracy over several test batches of 100, and the safetensors bytes that carry checkpoints. */
class EvaluatorAndTensorBytesTest {
  /** Logits are the features themselves: the prediction is the argmax of each feature row. */
  private static final class Identity implements PromptMethod {
    int heads;

    @Override
    public String name() {
      return "identity";
    }

    @Override
    public Map<String, NDArray> parameters() {
      return Map.of();
    }

    @Override
    public Head bind(ClassSet classes) {
      heads++;
      return (PromptMethod.FeatureHead) f -> f.duplicate();
    }

    @Override
    public void close() {}
  }

  @Test
  void accuracy_countsArgmaxHitsAcrossBatchesOf100() {
    int n = 250;
    int c = 3;
    float[] f = new float[n * c];
    int[] labels = new int[n];
    int expectedCorrect = 0;
    for (int i = 0; i < n; i++) {
      int predicted = (i * 5) % c;
      f[i * c + predicted] = 1f;
      f[i * c + (predicted + 1) % c] = 0.5f;
      boolean right = i % 7 != 0 && i != 99 && i != 100 && i != 249; // misses at the batch edges too
      labels[i] = right ? predicted : (predicted + 1) % c;
      if (right) expectedCorrect++;
    }
    try (NDManager m = NDManager.newBaseManager()) {
      Identity method = new Identity();
      Evaluator.Accuracy acc = Evaluator.accuracy(method, new ClassSet(List.of("a", "b", "c"), "{}"),
          new FeatureBatches(m.create(f, new Shape(n, c)), labels), m);
      assertEquals(n, acc.total());
      assertEquals(expectedCorrect, acc.correct());
      assertEquals(100.0 * expectedCorrect / n, acc.percent(), 1e-12);
      assertEquals(1, method.heads, "the text side is bound once");
    }
    assertEquals(0, new Evaluator.Accuracy(0, 0).percent(), 0);
  }

  @Test
  void tensorBytes_roundTripTensorsAndMetadata() {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> t = new LinkedHashMap<>();
      t.put("prompt_learner.ctx", m.create(new float[] {1.5f, -2f, 3.25f, 0f, 1e-8f, -7f}, new Shape(2, 3)));
      t.put("optim.momentum.0", m.create(new float[] {0.1f, 0.2f}, new Shape(2)));
      byte[] bytes = TensorBytes.encode(t, Map.of("epochsDone", "7", "method", "coop"));
      Safetensors.Contents back = TensorBytes.decode(bytes, m);
      assertEquals(t.keySet(), back.tensors().keySet());
      for (String k : t.keySet()) {
        assertEquals(t.get(k).getShape(), back.tensors().get(k).getShape(), k);
        assertArrayEquals(t.get(k).toFloatArray(), back.tensors().get(k).toFloatArray(), k);
      }
      assertEquals("7", back.metadata().get("epochsDone"));
      assertEquals("coop", back.metadata().get("method"));
      assertArrayEquals(bytes, TensorBytes.encode(t, Map.of("epochsDone", "7", "method", "coop")), "deterministic bytes");
    }
  }
}
