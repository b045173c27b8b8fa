package ai.promptline.ml.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.PromptMethod;

/** Top-1 accuracy (micro, percent) as Dassl's evaluator: argmax of the logits, test batch 100. */
public final class Evaluator {
  public record Accuracy(int correct, int total) {
    public double percent() {
      return total == 0 ? 0 : 100.0 * correct / total;
    }
  }

  /** Dassl's test batch size. */
  public static final int TEST_BATCH = 100;

  private Evaluator() {}

  /** Accuracy over every item of {@code source}, in item order (epoch 0: the test transform). */
  public static Accuracy accuracy(PromptMethod method, ClassSet classes, BatchSource source, NDManager manager) {
    int n = source.size();
    int correct = 0;
    try (PromptMethod.Head head = method.bind(classes)) {
      for (int start = 0; start < n; start += TEST_BATCH) {
        int end = Math.min(n, start + TEST_BATCH);
        int[] ids = new int[end - start];
        for (int i = 0; i < ids.length; i++) ids[i] = start + i;
        try (NDScope scope = new NDScope(); NDManager m = manager.newSubManager()) {
          Batch b = source.batch(0, ids, m);
          long[] pred = head.evaluationLogits(b).argMax(1).toLongArray();
          for (int i = 0; i < pred.length; i++) if (pred[i] == b.labels()[i]) correct++;
          scope.suppressNotUsedWarning();
        }
      }
    }
    return new Accuracy(correct, n);
  }
}
