package ai.promptline.ml.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.PromptMethod;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one training loop of every method: Dassl's loop (random sampler in {@link EpochOrder},
 * {@code drop_last} when there are at least {@code batchSize} items, SGD with momentum and weight
 * decay, LR stepped once per epoch) over a {@link BatchSource} — cached frozen features or
 * freshly augmented pixels. Each method computes its logits and loss; the loop knows no method.
 *
 * <p>A batch is a pure function of {@code (seed, epoch, batch index)}, so a run resumed at an epoch
 * boundary sees exactly the batches of an uninterrupted run, and two methods at the same seed see
 * the same batches.
 */
public final class PromptTrainer {
  /** Loop settings. */
  public record Settings(int epochs, int batchSize, LrSchedule schedule, double momentum, double weightDecay, long seed) {}

  /** State at the end of an epoch; {@code state()} is the checkpoint content (method + optimiser). */
  public interface Listener {
    void epochEnd(int epoch, double meanLoss, double lr, Map<String, NDArray> state);

    /** After every optimiser step: a place to heartbeat and to notice cancellation. */
    default void batchEnd(int epoch, int batch) {}
  }

  /** Where a run starts: epoch to start at and the checkpoint to restore (null = fresh). */
  public record Resume(int startEpoch, Map<String, NDArray> state) {
    public static Resume fresh() {
      return new Resume(0, null);
    }
  }

  /** @param recomputedSteps steps whose backward pass had to be recomputed (see {@link #forwardBackward}) */
  public record Outcome(int epochs, int resumedFromEpoch, double finalLoss, long recomputedSteps) {}

  /** Thrown when the loss stops being a number: retrying with the same config cannot help. */
  public static final class DivergedException extends RuntimeException {
    public DivergedException(String message) {
      super(message);
    }
  }

  private PromptTrainer() {}

  public static Outcome train(
      PromptMethod method, ClassSet classes, BatchSource source, Settings s, Resume resume, Listener listener) {
    Map<String, NDArray> params = method.parameters();
    if (params.isEmpty() || s.epochs() == 0) return new Outcome(0, 0, Double.NaN, 0);
    NDManager manager = params.values().iterator().next().getManager();
    Sgd sgd = new Sgd(s.momentum(), s.weightDecay());
    if (resume.state() != null) {
      method.loadStateDict(resume.state());
      sgd.load(resume.state(), params, manager);
    }
    int n = source.size();
    int batch = EpochOrder.batchSize(n, s.batchSize());
    int perEpoch = EpochOrder.batchesPerEpoch(n, s.batchSize());
    double lastLoss = Double.NaN;
    long recomputed = 0;
    try (PromptMethod.Head head = method.bind(classes)) {
      for (int epoch = resume.startEpoch(); epoch < s.epochs(); epoch++) {
        double lr = s.schedule().lr(epoch);
        int[] order = EpochOrder.permutation(n, s.seed(), epoch);
        double lossSum = 0;
        for (int b = 0; b < perEpoch; b++) {
          try (NDScope scope = new NDScope(); NDManager step = manager.newSubManager()) {
            Batch x = source.batch(epoch, EpochOrder.batch(order, b, batch), step);
            Step r = forwardBackward(head, x, params, epoch);
            lossSum += r.loss();
            recomputed += r.attempts();
            sgd.step(params, lr);
            scope.suppressNotUsedWarning();
          }
          if (listener != null) listener.batchEnd(epoch, b);
        }
        lastLoss = lossSum / perEpoch;
        if (!Double.isFinite(lastLoss))
          throw new DivergedException("loss became " + lastLoss + " at epoch " + (epoch + 1) + "; lower the learning rate");
        if (listener != null) {
          Map<String, NDArray> state = new LinkedHashMap<>(method.stateDict());
          state.putAll(sgd.state());
          listener.epochEnd(epoch, lastLoss, lr, state);
        }
      }
    }
    return new Outcome(s.epochs(), resume.startEpoch(), lastLoss, recomputed);
  }

  /**
   * Gradients above this are not a training signal but a corrupted backward pass (prompt
   * gradients on CLIP are O(1–100)).
   */
  static final float GRAD_SANITY = 1e6f;

  /** A step's loss and how many times its backward pass was recomputed. */
  record Step(float loss, int attempts) {}

  /**
   * One forward/backward pass. A guard, kept after the cause was fixed: DJL's scalar multiply let
   * autograd read freed memory ({@code ai.promptline.ml.clip.Numerics#scale}), which showed as a
   * NaN or ~1e20 gradient about once in 10³ steps. A step whose loss or gradient is not sane is
   * recomputed (up to 3 times) and counted ({@code train.recomputed_steps} in MLflow), so a
   * regression is visible instead of silently absorbed; a loss that stays non-finite is divergence.
   */
  static Step forwardBackward(PromptMethod.Head head, Batch x, Map<String, NDArray> params, int epoch) {
    for (int attempt = 0; ; attempt++) {
      float loss;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray l = head.loss(head.trainingLogits(x), x);
        gc.backward(l);
        loss = l.getFloat();
      }
      boolean sane = Float.isFinite(loss);
      for (NDArray p : params.values()) {
        if (!sane) break;
        NDArray g = Sgd.gradientOrNull(p);
        if (g == null) continue;
        try (g; NDArray m = g.abs().max()) {
          float v = m.getFloat();
          sane = Float.isFinite(v) && v <= GRAD_SANITY;
        }
      }
      if (sane) return new Step(loss, attempt);
      params.values().forEach(Sgd::zeroGradient);
      if (attempt == 3)
        throw new DivergedException("loss became " + loss + " at epoch " + (epoch + 1) + "; lower the learning rate");
    }
  }

  /** Mean cross-entropy of logits {@code [B, C]} against integer targets {@code [B]}. */
  public static NDArray crossEntropy(NDArray logits, NDArray target, int classes) {
    NDArray logp = logits.logSoftmax(1);
    return logp.mul(target.oneHot(classes)).sum(new int[] {1}).neg().mean();
  }
}
