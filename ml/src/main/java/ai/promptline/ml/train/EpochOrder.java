package ai.promptline.ml.train;

import java.util.SplittableRandom;

/**
 * The one epoch order and drop-last rule of every training source (cached features and pixels),
 * so two methods run at the same seed see the same batches: Dassl's {@code RandomSampler} order
 * drawn from a generator seeded by {@code (seed, epoch)}, and {@code drop_last} when there are at
 * least {@code batchSize} items (else one short batch).
 */
public final class EpochOrder {
  private EpochOrder() {}

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

  /** Batches per training epoch: {@code floor(n / b)} with drop_last, 1 when {@code n < b}. */
  public static int batchesPerEpoch(int n, int batchSize) {
    return n >= batchSize ? n / batchSize : 1;
  }

  /** The size of every training batch: {@code min(b, n)}. */
  public static int batchSize(int n, int batchSize) {
    return Math.min(batchSize, n);
  }

  /** Sample ids of batch {@code b} of epoch {@code epoch}. */
  public static int[] batch(int[] order, int b, int batchSize) {
    return java.util.Arrays.copyOfRange(order, b * batchSize, b * batchSize + batchSize);
  }
}
