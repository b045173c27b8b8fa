package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Optimisation settings of one run. Defaults follow Dassl/CoOp: SGD momentum 0.9, weight decay
 * 5e-4, one warm-up epoch at a constant 1e-5, then cosine over {@code epochs}.
 *
 * @param augViews number of augmented views of each training image whose frozen features are
 *     cached; epoch {@code e} trains on view {@code e % augViews} (0 = use the test transform).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainParams(
    int epochs,
    int batchSize,
    double lr,
    double momentum,
    double weightDecay,
    int warmupEpochs,
    double warmupLr,
    int nCtx,
    String ctxInit,
    int augViews) {

  public TrainParams {
    if (epochs < 0) throw new IllegalArgumentException("train.epochs must be >= 0, got " + epochs);
    if (batchSize < 1) throw new IllegalArgumentException("train.batchSize must be >= 1, got " + batchSize);
    if (!(lr >= 0)) throw new IllegalArgumentException("train.lr must be >= 0, got " + lr);
    if (augViews < 0) throw new IllegalArgumentException("train.augViews must be >= 0, got " + augViews);
    if (ctxInit == null) ctxInit = "";
  }

  /** CoOp's base-to-novel recipe, scaled to a run of {@code epochs} epochs. */
  public static TrainParams coopDefaults(int epochs) {
    return new TrainParams(epochs, 32, 0.002, 0.9, 5e-4, 1, 1e-5, 4, "a photo of a", Math.min(epochs, 4));
  }
}
