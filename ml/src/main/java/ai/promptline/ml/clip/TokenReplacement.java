package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;

/**
 * Replaces {@code n} consecutive tokens of the hidden sequence just before block {@code layer}
 * (deep prompts of MaPLe / IVLP / VPT-deep). No positional embedding is added.
 *
 * @param layer block index (≥ 1 for deep prompts; 0 replaces the input of the first block, after
 *     {@code ln_pre} for vision)
 * @param position first replaced position; negative counts from the end (−n = the last n tokens,
 *     the vision convention)
 * @param tokens {@code [n, D]} shared by every sequence, or {@code [N, n, D]} per sequence
 */
public record TokenReplacement(int layer, int position, NDArray tokens) {
  public TokenReplacement {
    if (layer < 0) throw new IllegalArgumentException("layer must be >= 0");
    long dims = tokens.getShape().dimension();
    if (dims != 2 && dims != 3) {
      throw new IllegalArgumentException("replacement tokens must be [n,D] or [N,n,D], got " + tokens.getShape());
    }
  }

  /** Number of replaced tokens. */
  public int count() {
    return (int) tokens.getShape().get(tokens.getShape().dimension() - 2);
  }
}
