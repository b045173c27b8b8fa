package ai.promptline.ml.pretrain;

import ai.promptline.ml.clip.ClipConfig;
import java.util.List;

/**
 * Contrastive pretraining recipe (Radford et al. 2021, "Learning Transferable Visual Models From
 * Natural Language Supervision", §2.5 and Table 20, at small scale): AdamW β = (0.9, 0.98),
 * ε = 1e-6, decoupled weight decay on matrices and embeddings only (gains, biases and the logit
 * scale are not decayed, as open_clip's {@code exclude} rule), linear warm-up then cosine decay to
 * zero, learnable logit scale clamped at 100.
 *
 * @param model the architecture to train (ViT image tower)
 * @param steps optimiser steps
 * @param batchSize image–caption pairs per step (the contrastive negatives)
 * @param lr peak learning rate
 * @param warmupSteps linear warm-up steps
 * @param weightDecay decoupled weight decay on matrices and embeddings
 * @param seed seeds the initialisation and the corpus stream
 * @param checkpointEvery steps between resume checkpoints
 */
public record PretrainConfig(
    ClipConfig model, int steps, int batchSize, double lr, int warmupSteps, double weightDecay, long seed, int checkpointEvery) {
  public PretrainConfig {
    if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
    if (batchSize < 2) throw new IllegalArgumentException("--batch must be at least 2 (contrastive negatives), got " + batchSize);
    if (!(lr > 0)) throw new IllegalArgumentException("--lr must be > 0, got " + lr);
    if (warmupSteps < 0 || warmupSteps >= steps) {
      throw new IllegalArgumentException("warm-up steps must be in [0, steps), got " + warmupSteps + " of " + steps);
    }
    if (checkpointEvery < 1) throw new IllegalArgumentException("--checkpoint-every must be at least 1, got " + checkpointEvery);
  }

  /**
   * The shipped tiny CLIP: ViT 48 px, patch 8 (36 patches), width 128, 3 layers, 2 heads; text
   * width 128, 3 layers, 2 heads, context 32 (captions and 16-token prompts fit), embedding 128,
   * the full 49,408-token CLIP vocabulary.
   */
  public static ClipConfig tinyClip() {
    return new ClipConfig(ClipConfig.VisionKind.VIT, 128, 48, 128, 3, List.of(), 8, 2, 32, 49408, 128, 3, 2);
  }

  /** The recipe of the shipped checkpoint. */
  public static PretrainConfig defaults() {
    return new PretrainConfig(tinyClip(), 1500, 256, 1e-3, 150, 0.2, 2026L, 100);
  }

  public PretrainConfig withSteps(int s) {
    return new PretrainConfig(model, s, batchSize, lr, Math.min(warmupSteps, Math.max(0, s / 10)), weightDecay, seed, checkpointEvery);
  }

  public PretrainConfig withBatch(int b) {
    return new PretrainConfig(model, steps, b, lr, warmupSteps, weightDecay, seed, checkpointEvery);
  }

  public PretrainConfig withLr(double l) {
    return new PretrainConfig(model, steps, batchSize, l, warmupSteps, weightDecay, seed, checkpointEvery);
  }

  public PretrainConfig withSeed(long s) {
    return new PretrainConfig(model, steps, batchSize, lr, warmupSteps, weightDecay, s, checkpointEvery);
  }

  public PretrainConfig withCheckpointEvery(int n) {
    return new PretrainConfig(model, steps, batchSize, lr, warmupSteps, weightDecay, seed, n);
  }

  public PretrainConfig withModel(ClipConfig m) {
    return new PretrainConfig(m, steps, batchSize, lr, warmupSteps, weightDecay, seed, checkpointEvery);
  }

  /** Learning rate of (0-based) step {@code t}: linear warm-up to {@code lr}, then cosine to 0. */
  public double lrAt(int t) {
    if (t < warmupSteps) return lr * (t + 1) / warmupSteps;
    double e = t - warmupSteps;
    double es = steps - warmupSteps;
    return 0.5 * (1 + Math.cos(Math.PI * e / es)) * lr;
  }

  /** Whether a parameter is weight-decayed: matrices and embeddings yes; gains, biases, logit scale no. */
  public static boolean decays(String name, int rank) {
    return rank >= 2 && !name.contains("ln_") && !name.endsWith("bias") && !name.equals("logit_scale");
  }
}
