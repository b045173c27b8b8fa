package ai.promptline.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.PromptMethod;

/** Top-1 accuracy (micro, percent) as Dassl's evaluator: argmax of the logits, test batch 100. */
public final class Evaluator {
  public record Accuracy(int correct, int total) {
    public double percent() {
      return total == 0 ? 0 : 100.0 * correct / total;
    }
  }

  private Evaluator() {}

  /** @param features normalised image features {@code [N, E]} */
  public static Accuracy accuracy(PromptMethod method, ClassSet classes, NDArray features, int[] labels) {
    int n = labels.length;
    int correct = 0;
    try (PromptMethod.Head head = method.bind(classes)) {
      for (int start = 0; start < n; start += 100) {
        int end = Math.min(n, start + 100);
        try (NDScope scope = new NDScope()) {
          long[] pred = head.logits(features.get(new NDIndex("{}:{}", start, end))).argMax(1).toLongArray();
          for (int i = 0; i < pred.length; i++) if (pred[i] == labels[start + i]) correct++;
          scope.suppressNotUsedWarning();
        }
      }
    }
    return new Accuracy(correct, n);
  }
}
