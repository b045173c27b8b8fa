package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Map;

/**
 * A prompt-learning method over a frozen CLIP that classifies from frozen image features
 * (zero-shot CLIP, CoOp, ...). One readable class per method; the shared loop in
 * {@code ai.promptline.ml.train.FeatureTrainer} trains any of them.
 */
public interface PromptMethod extends AutoCloseable {
  /** Registry name, e.g. {@code coop}. */
  String name();

  /** Learnable tensors (require gradients); empty for training-free methods. */
  List<NDArray> parameters();

  /** Binds the method to a label space, precomputing whatever does not depend on the parameters. */
  Head bind(ClassSet classes);

  /** Learned tensors by name, for checkpoints and the prompt artifact. */
  Map<String, NDArray> stateDict();

  /** Restores {@link #stateDict()} output (copying values into the parameters). */
  void loadStateDict(Map<String, NDArray> state);

  default long trainableParams() {
    return parameters().stream().mapToLong(p -> p.getShape().size()).sum();
  }

  @Override
  void close();

  /** Classifier for one label space. */
  interface Head extends AutoCloseable {
    /** Logits {@code [B, C]} for L2-normalised image features {@code [B, E]}. */
    NDArray logits(NDArray normalizedImageFeatures);

    @Override
    default void close() {}
  }
}
