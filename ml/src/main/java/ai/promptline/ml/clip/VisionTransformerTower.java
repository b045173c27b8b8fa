package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import java.util.List;
import java.util.Map;

/**
 * The ViT image encoder (methods.md §2.4) with the {@link VisionInput} hooks. Pixels arrive in the
 * model dtype; the fp32 class and positional embeddings are cast to it at use, as the reference.
 */
final class VisionTransformerTower implements VisionTower {
  private final ClipConfig cfg;
  private final NDArray conv1;
  private final NDArray classEmbedding;
  private final NDArray positional;
  private final NDArray lnPreW;
  private final NDArray lnPreB;
  private final NDArray lnPostW;
  private final NDArray lnPostB;
  private final NDArray proj;
  private final Transformer transformer;
  private final Numerics num;

  VisionTransformerTower(ClipConfig cfg, Map<String, NDArray> sd, Numerics num) {
    this.cfg = cfg;
    this.num = num;
    conv1 = sd.get("visual.conv1.weight");
    classEmbedding = sd.get("visual.class_embedding");
    positional = sd.get("visual.positional_embedding");
    lnPreW = sd.get("visual.ln_pre.weight");
    lnPreB = sd.get("visual.ln_pre.bias");
    lnPostW = sd.get("visual.ln_post.weight");
    lnPostB = sd.get("visual.ln_post.bias");
    proj = sd.get("visual.proj");
    transformer = new Transformer(sd, "visual.transformer.", cfg.visionLayers(), cfg.visionWidth(), cfg.visionHeads(), num);
  }

  int heads() {
    return transformer.heads();
  }

  /** CLS + patches + positional embedding after ln_pre ({@code [N, T, W]}), the block-0 input. */
  NDArray embed(NDArray pixels, ai.djl.ndarray.NDManager scope) {
    return embed(VisionInput.of(pixels), scope);
  }

  /** Keys and values of every block over CLS + patches (read-only prompt methods cache them). */
  List<NDArray[]> keysValues(NDArray pixels, ai.djl.ndarray.NDManager scope) {
    return transformer.keysValues(embed(pixels, scope), AttentionMasks.NONE);
  }

  /**
   * Read-only image prompts {@code [K, W]} or {@code [N, K, W]} through the tower against the cached
   * keys and values of CLS + patches: ln_pre (the prompts are appended before it in the full pass),
   * the blocks, ln_post, proj → {@code [N, K, E]}.
   */
  NDArray readOnlyPrompts(NDArray prompts, List<NDArray[]> kv, Map<Integer, NDArray> replace, long n) {
    NDArray p = num.round(Transformer.broadcastTokens(prompts, kv.get(0)[0], n, cfg.visionWidth()));
    p = num.round(Transformer.layerNorm(p, lnPreW, lnPreB));
    p = transformer.readOnlyPrompts(p, kv, null, replace);
    return num.round(num.round(Transformer.layerNorm(p, lnPostW, lnPostB)).matMul(proj));
  }

  @Override
  public NDArray forward(VisionInput in, ai.djl.ndarray.NDManager scope) {
    NDArray x = embed(in, scope);
    AttentionMasks masks = in.masks() == null ? AttentionMasks.NONE : in.masks();
    if (in.readout() == null && in.adaptor() == BlockAdaptor.NONE && num.precision() == Precision.FP32) {
      // only CLS leaves the last block (same features; see Transformer#forward)
      NDArray cls = scope.zeros(new Shape(x.getShape().get(0)), ai.djl.ndarray.types.DataType.INT64);
      x = transformer.forward(x, masks, in.replacements(), in.adaptor(), cls);
      return num.round(num.round(Transformer.layerNorm(x.get(":, 0"), lnPostW, lnPostB)).matMul(proj));
    }
    x = transformer.forward(x, masks, in.replacements(), in.adaptor());
    if (in.readout() == null) {
      return num.round(num.round(Transformer.layerNorm(x.get(":, 0"), lnPostW, lnPostB)).matMul(proj));
    }
    NDArray rows = ClipModel.gatherRows(x, in.readout());
    return num.round(num.round(Transformer.layerNorm(rows, lnPostW, lnPostB)).matMul(proj));
  }

  /** CLS + patch tokens after the last block and ln_post, {@code [N, 1+g², W]} (no proj). */
  @Override
  public NDArray tokens(NDArray pixels, ai.djl.ndarray.NDManager scope) {
    NDArray x = transformer.forward(embed(VisionInput.of(pixels), scope), AttentionMasks.NONE, List.of(), BlockAdaptor.NONE);
    return num.round(Transformer.layerNorm(x, lnPostW, lnPostB));
  }

  /** Patches, CLS, positional embedding, appended prompts, ln_pre. */
  private NDArray embed(VisionInput in, ai.djl.ndarray.NDManager scope) {
    NDArray pixels = in.pixels();
    Shape ps = pixels.getShape();
    int r = cfg.imageResolution();
    if (ps.dimension() != 4 || ps.get(1) != 3 || ps.get(2) != r || ps.get(3) != r) {
      throw new IllegalArgumentException("expected pixels [N,3," + r + "," + r + "], got " + ps);
    }
    long n = ps.get(0);
    int w = cfg.visionWidth();
    int p = cfg.visionPatchSize();
    int g = cfg.gridSize();
    NDArray x = num.round(Conv2d.conv2d(pixels, conv1, null, new Shape(p, p)).singletonOrThrow());
    ClipModel.adopt(x, scope);
    x = x.reshape(n, w, (long) g * g).transpose(0, 2, 1);
    NDArray cls = classEmbedding.reshape(1, 1, w);
    ClipModel.adopt(cls, scope);
    // class_embedding.to(x.dtype), positional_embedding.to(x.dtype)
    cls = num.constant(cls);
    NDArray pos = num.constant(positional);
    ClipModel.adopt(cls, scope);
    if (pos != positional) ClipModel.adopt(pos, scope); // never adopt the frozen weight itself
    x = num.round(NDArrays.concat(new NDList(cls.broadcast(n, 1, w), x), 1).add(pos));
    if (in.appended() != null) {
      NDArray tok = num.round(Transformer.broadcastTokens(in.appended(), x, n, w));
      x = NDArrays.concat(new NDList(x, tok), 1);
    }
    return num.round(Transformer.layerNorm(x, lnPreW, lnPreB));
  }
}
