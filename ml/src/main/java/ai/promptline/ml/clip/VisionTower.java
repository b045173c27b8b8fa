package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;

/** An image tower: pixels (+ hooks) → features. Intermediates must be owned by {@code scope}. */
interface VisionTower {
  /**
   * @param in pixels and hooks
   * @return {@code [N, E]}, or {@code [N, P, E]} with readout positions
   */
  NDArray forward(VisionInput in, ai.djl.ndarray.NDManager scope);

  /**
   * The tower's output tokens before pooling: {@code [N, T, C]} (ViT: every token after the last
   * block and {@code ln_post}; ModifiedResNet: the final feature map, one token per position).
   */
  NDArray tokens(NDArray pixels, ai.djl.ndarray.NDManager scope);
}
