package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;

/** Small tensor helpers shared by the methods. */
public final class Features {
  private Features() {}

  /** L2-normalises the last axis (no epsilon, as the reference). */
  public static NDArray normalize(NDArray x) {
    return x.div(x.norm(new int[] {-1}, true));
  }

  /** {@code scale · a · bᵀ} for normalised rows. */
  public static NDArray cosineLogits(NDArray normalizedImages, NDArray normalizedTexts, float scale) {
    return ai.promptline.ml.clip.Numerics.scale(normalizedImages.matMul(normalizedTexts.transpose()), scale);
  }
}
