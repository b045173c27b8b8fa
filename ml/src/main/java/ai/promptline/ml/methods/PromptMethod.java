package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.promptline.ml.train.Batch;
import ai.promptline.ml.train.PromptTrainer;
import java.util.Map;

/**
 * A prompt-learning method over a frozen CLIP. One readable class per method; the shared loop
 * ({@link ai.promptline.ml.train.PromptTrainer}) trains any of them and the evaluator evaluates any
 * of them. What a method needs from a batch (cached features or pixels, sample ids) is declared in
 * its {@link MethodSpec}.
 */
public interface PromptMethod extends AutoCloseable {
  /** Registry name, e.g. {@code coop}. */
  String name();

  /**
   * Learnable tensors (require gradients) by the names the reference code's own checkpoints use
   * ({@code ctx}, {@code meta_net.linear1.weight}, {@code image_encoder.VPT}, ...), in a fixed
   * order; empty for training-free methods.
   */
  Map<String, NDArray> parameters();

  /** Binds the method to a label space, precomputing whatever does not depend on the parameters. */
  Head bind(ClassSet classes);

  /** Learned tensors by name, for checkpoints and the prompt artifact: {@link #parameters()}. */
  default Map<String, NDArray> stateDict() {
    return parameters();
  }

  /**
   * Restores learned tensors (copying values into the parameters). Accepts the method's own names
   * and checkpoints written by the reference code (see {@link StateDicts#load}).
   */
  default void loadStateDict(Map<String, NDArray> state) {
    StateDicts.load(name(), parameters(), state);
  }

  default long trainableParams() {
    return parameters().values().stream().mapToLong(p -> p.getShape().size()).sum();
  }

  @Override
  void close();

  /** Classifier for one label space. */
  interface Head extends AutoCloseable {
    /** Logits {@code [B, C]} of a batch. */
    NDArray logits(Batch batch);

    /**
     * The logits of a test batch ({@link ai.promptline.ml.train.Evaluator}): {@link #logits} unless a
     * method can reuse work across test batches (parameters are fixed during an evaluation: text
     * features of learned prompts are computed once, see {@code TextCache}).
     */
    default NDArray evaluationLogits(Batch batch) {
      return logits(batch);
    }

    /**
     * The logits the training loss is computed from; the evaluation logits ({@link #logits}) unless a
     * method trains against another set of outputs (instance-wise prompts: the sampled candidate
     * prompts of every class, not the classes).
     */
    default NDArray trainingLogits(Batch batch) {
      return logits(batch);
    }

    /** The training loss of a batch from its training logits; cross-entropy unless a method says otherwise. */
    default NDArray loss(NDArray logits, Batch batch) {
      return PromptTrainer.crossEntropy(logits, batch.target(), (int) logits.getShape().get(1));
    }

    @Override
    default void close() {}
  }

  /** A head over cached frozen features (zero-shot, CoOp, CoCoOp, linear probes). */
  @FunctionalInterface
  interface FeatureHead extends Head {
    /**
     * Logits {@code [B, C]} for image features {@code [B, E]}: L2-normalised for {@code Input.FEATURES}
     * methods, un-normalised for {@code Input.RAW_FEATURES} ones (linear probes).
     */
    NDArray logitsOf(NDArray normalizedImageFeatures);

    @Override
    default NDArray logits(Batch batch) {
      return logitsOf(batch.requireFeatures());
    }
  }
}
