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
public record TokenReplacement(int layer, int position, NDArray tokens, int[] starts) {
  public TokenReplacement {
    if (layer < 0) throw new IllegalArgumentException("layer must be >= 0");
    long dims = tokens.getShape().dimension();
    if (dims != 2 && dims != 3) {
      throw new IllegalArgumentException("replacement tokens must be [n,D] or [N,n,D], got " + tokens.getShape());
    }
    if (starts != null) {
      starts = starts.clone();
      for (int st : starts) if (st < 0) throw new IllegalArgumentException("per-sequence start positions must be >= 0");
    }
  }

  /** The same first position in every sequence. */
  public TokenReplacement(int layer, int position, NDArray tokens) {
    this(layer, position, tokens, null);
  }

  /**
   * A different first position per sequence ({@code starts[i]} for sequence i): RPO/MRPO write
   * their prompts right after each class prompt's EOT token.
   */
  public static TokenReplacement atRows(int layer, int[] starts, NDArray tokens) {
    return new TokenReplacement(layer, 0, tokens, starts);
  }

  /** Number of replaced tokens. */
  public int count() {
    return (int) tokens.getShape().get(tokens.getShape().dimension() - 2);
  }
}
