package ai.promptline.ml.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.PromptMethod;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The shared training loop for methods that classify frozen image features: Dassl's loop
 * (random sampler, {@code drop_last} when there are at least {@code batchSize} items, SGD with
 * momentum and weight decay, LR stepped once per epoch) over cached features.
 *
 * <p>Epoch {@code e} reads augmented view {@code e mod V} of the cached features and a batch order
 * drawn from a generator seeded by {@code (seed, e)}, so a run resumed at any epoch boundary
 * sees exactly the batches an uninterrupted run would.
 */
public final class FeatureTrainer {
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

  public record Outcome(int epochs, int resumedFromEpoch, double finalLoss) {}

  /** Thrown when the loss stops being a number: retrying with the same config cannot help. */
  public static final class DivergedException extends RuntimeException {
    public DivergedException(String message) {
      super(message);
    }
  }

  private FeatureTrainer() {}

  /**
   * @param features normalised image features {@code [V, N, E]}
   * @param labels {@code N} labels in {@code [0, classes.size())}
   */
  public static Outcome train(
      PromptMethod method, ClassSet classes, NDArray features, int[] labels, Settings s, Resume resume, Listener listener) {
    List<NDArray> params = method.parameters();
    if (params.isEmpty() || s.epochs() == 0) return new Outcome(0, 0, Double.NaN);
    NDManager manager = features.getManager();
    Sgd sgd = new Sgd(s.momentum(), s.weightDecay());
    if (resume.state() != null) {
      method.loadStateDict(resume.state());
      sgd.load(resume.state(), manager);
    }
    int n = labels.length;
    int views = (int) features.getShape().get(0);
    int batch = Math.min(s.batchSize(), n);
    int perEpoch = n >= s.batchSize() ? n / s.batchSize() : 1;
    double lastLoss = Double.NaN;
    try (PromptMethod.Head head = method.bind(classes)) {
      for (int epoch = resume.startEpoch(); epoch < s.epochs(); epoch++) {
        double lr = s.schedule().lr(epoch);
        int[] order = permutation(n, s.seed(), epoch);
        double lossSum = 0;
        for (int b = 0; b < perEpoch; b++) {
          try (NDScope scope = new NDScope()) {
            int[] idx = java.util.Arrays.copyOfRange(order, b * batch, b * batch + batch);
            int[] y = new int[idx.length];
            for (int i = 0; i < idx.length; i++) y[i] = labels[idx[i]];
            NDArray f = features.get(epoch % views).get(manager.create(idx));
            NDArray target = manager.create(y);
            lossSum += forwardBackward(head, f, target, classes.size(), params, epoch);
            sgd.step(params, lr);
            scope.suppressNotUsedWarning();
          }
          if (listener != null) listener.batchEnd(epoch, b);
        }
        lastLoss = lossSum / perEpoch;
        if (!Double.isFinite(lastLoss))
          throw new DivergedException("loss became " + lastLoss + " at epoch " + (epoch + 1) + "; lower the learning rate");
        if (listener != null) {
          Map<String, NDArray> state = new java.util.LinkedHashMap<>(method.stateDict());
          state.putAll(sgd.state());
          listener.epochEnd(epoch, lastLoss, lr, state);
        }
      }
    }
    return new Outcome(s.epochs(), resume.startEpoch(), lastLoss);
  }

  /**
   * Gradients above this are not a training signal but a corrupted backward pass (prompt
   * gradients on CLIP are O(1–100)); see {@link #forwardBackward}.
   */
  static final float GRAD_SANITY = 1e6f;

  /**
   * One forward/backward pass; returns the loss. Known issue: on DJL 0.36 / PyTorch 2.7.1 CPU a
   * backward pass through the text tower rarely (about 1 step in 10^3) yields a gradient of NaN or
   * ~1e20 garbage for identical inputs (reproduced by {@code KnownIssueBackwardGarbageTest}). Such
   * a step is recomputed (up to 3 times) instead of poisoning the prompt; a loss that stays
   * non-finite is real divergence.
   */
  private static double forwardBackward(
      PromptMethod.Head head, NDArray f, NDArray target, int classes, List<NDArray> params, int epoch) {
    for (int attempt = 0; ; attempt++) {
      float loss;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray l = crossEntropy(head.logits(f), target, classes);
        gc.backward(l);
        loss = l.getFloat();
      }
      boolean sane = Float.isFinite(loss);
      for (NDArray p : params) {
        if (!sane) break;
        try (NDArray g = p.getGradient(); NDArray m = g.abs().max()) {
          float v = m.getFloat();
          sane = Float.isFinite(v) && v <= GRAD_SANITY;
        }
      }
      if (sane) {
        if (attempt > 0) RECOMPUTED.incrementAndGet();
        return loss;
      }
      params.forEach(Sgd::zeroGradient);
      if (attempt == 3)
        throw new DivergedException("loss became " + loss + " at epoch " + (epoch + 1) + "; lower the learning rate");
    }
  }

  /** Steps whose backward pass had to be recomputed, process-wide (a metric, not a result). */
  public static final java.util.concurrent.atomic.AtomicLong RECOMPUTED = new java.util.concurrent.atomic.AtomicLong();

  /** Mean cross-entropy of logits {@code [B, C]} against integer targets {@code [B]}. */
  public static NDArray crossEntropy(NDArray logits, NDArray target, int classes) {
    NDArray logp = logits.logSoftmax(1);
    return logp.mul(target.oneHot(classes)).sum(new int[] {1}).neg().mean();
  }

  /** The batch order of one epoch: Fisher–Yates on a generator seeded by (seed, epoch). */
  public static int[] permutation(int n, long seed, int epoch) {
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
    int[] p = new int[n];
    for (int i = 0; i < n; i++) p[i] = i;
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
