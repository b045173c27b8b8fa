package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;

/**
 * A residual adaptor slot applied inside every transformer block right after the attention
 * residual and before the MLP (Prismer: {@code x + up(SquaredReLU(down(LN(x))))}).
 *
 * <p>The adaptor returns the new hidden state, i.e. it owns its own residual connection, and decides
 * by {@code layer} whether to act. The backbone never knows which method installed it.
 */
@FunctionalInterface
public interface BlockAdaptor {
  /** The identity adaptor. */
  BlockAdaptor NONE = (layer, x) -> x;

  /**
   * @param layer block index (0-based)
   * @param hidden hidden state {@code [N, L, D]} after {@code x + attn(ln_1(x))}
   * @return the hidden state fed to the MLP half of the block
   */
  NDArray apply(int layer, NDArray hidden);
}
