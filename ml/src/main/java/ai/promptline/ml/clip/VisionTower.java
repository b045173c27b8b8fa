package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;

/** An image tower: pixels (+ hooks) → features. Intermediates must be owned by {@code scope}. */
interface VisionTower {
  /**
   * @param in pixels and hooks
   * @return {@code [N, E]}, or {@code [N, P, E]} with readout positions
   */
  NDArray forward(VisionInput in, ai.djl.ndarray.NDManager scope);
}
