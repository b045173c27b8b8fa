package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;

/**
 * Additive attention masks for the transformer (0 = visible, −∞ = hidden).
 *
 * <p>A 2-D mask {@code [L, L]} is shared by all sequences and heads; a 3-D mask
 * {@code [N·heads, L, L]} is per sequence in batch-major/head-minor order, the convention of
 * {@code nn.MultiheadAttention} that RPO relies on (methods.md §6.8).
 *
 * @param all mask used in every layer (null = none)
 * @param perLayer overrides for individual layers
 */
public record AttentionMasks(NDArray all, Map<Integer, NDArray> perLayer) {
  public static final AttentionMasks NONE = new AttentionMasks(null, Map.of());

  public AttentionMasks {
    perLayer = perLayer == null ? Map.of() : Map.copyOf(perLayer);
  }

  /** The same mask in every layer. */
  public static AttentionMasks of(NDArray mask) {
    return new AttentionMasks(mask, Map.of());
  }

  /** The mask for one layer, or null. */
  public NDArray forLayer(int layer) {
    return perLayer.getOrDefault(layer, all);
  }

  /** The CLIP text mask: −∞ strictly above the diagonal ({@code build_attention_mask}). */
  public static NDArray causal(int length, NDManager manager) {
    float[] m = new float[length * length];
    for (int i = 0; i < length; i++) {
      for (int j = i + 1; j < length; j++) m[i * length + j] = Float.NEGATIVE_INFINITY;
    }
    return manager.create(m, new Shape(length, length));
  }
}
