package ai.promptline.ml.train;

import ai.djl.ndarray.NDArray;

/**
 * One batch as a method sees it.
 *
 * @param epoch the epoch it belongs to (selects the augmentation)
 * @param sampleIds indices of the items in their split (stable across epochs: instance-wise methods
 *     address per-image parameters with them)
 * @param labels class indices
 * @param target {@code labels} as an int tensor {@code [B]}
 * @param features frozen image features {@code [B, E]} as the method's {@code MethodSpec.Input} asks: L2-normalised
 *     for {@code FEATURES}, un-normalised (the image tower's output) for {@code RAW_FEATURES}; null for a pixel source
 * @param pixels normalised pixels {@code [B, 3, R, R]}, or null for a feature source
 */
public record Batch(int epoch, int[] sampleIds, int[] labels, NDArray target, NDArray features, NDArray pixels) {
  public int size() {
    return sampleIds.length;
  }

  /** The frozen features; fails clearly when a method that needs them gets pixels. */
  public NDArray requireFeatures() {
    if (features == null) throw new IllegalStateException("this method needs cached image features, got a pixel batch");
    return features;
  }

  /** The pixels; fails clearly when a method that runs the image tower gets features. */
  public NDArray requirePixels() {
    if (pixels == null) throw new IllegalStateException("this method runs the image tower and needs pixels, got a feature batch");
    return pixels;
  }
}
