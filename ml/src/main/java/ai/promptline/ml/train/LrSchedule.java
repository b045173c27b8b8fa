package ai.promptline.ml.train;

/**
 * Dassl's {@code ConstantWarmupScheduler(CosineAnnealingLR(T_max = epochs), warmup, cons_lr)}
 * as a closed form, stepped once per epoch (0-based {@code epoch}):
 * {@code lr(e) = warmupLr} for {@code e < warmupEpochs}, else {@code 0.5·base·(1 + cos(π·(e − warmupEpochs)/epochs))}.
 * The cosine never reaches its end (the reference steps it one epoch behind), see methods.md §1.7.
 */
public record LrSchedule(double baseLr, int epochs, int warmupEpochs, double warmupLr) {
  public double lr(int epoch) {
    if (epoch < warmupEpochs) return warmupLr;
    return 0.5 * baseLr * (1 + Math.cos(Math.PI * (epoch - warmupEpochs) / epochs));
  }
}
