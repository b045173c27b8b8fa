package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The shared pre-LN residual attention stack (methods.md §2.2): {@code x += attn(ln_1(x));
 * x = adaptor(x); x += mlp(ln_2(x))}, MLP = c_fc → QuickGELU → c_proj, multi-head attention with
 * packed {@code in_proj}. Batch-first {@code [N, L, D]} (the reference is sequence-first; the maths is
 * the same).
 *
 * <p>Written with plain NDArray ops so autograd reaches prompt tensors that callers splice in.
 */
final class Transformer {
  static final float LN_EPS = 1e-5f;

  /** Frozen weights of one block. */
  record Block(
      NDArray inW, NDArray inB, NDArray outW, NDArray outB,
      NDArray ln1W, NDArray ln1B, NDArray fcW, NDArray fcB,
      NDArray projW, NDArray projB, NDArray ln2W, NDArray ln2B) {}

  private final List<Block> blocks;
  private final int width;
  private final int heads;

  Transformer(Map<String, NDArray> sd, String prefix, int layers, int width, int heads) {
    this.width = width;
    this.heads = heads;
    this.blocks = new ArrayList<>(layers);
    for (int i = 0; i < layers; i++) {
      String p = prefix + "resblocks." + i + ".";
      blocks.add(new Block(
          sd.get(p + "attn.in_proj_weight"), sd.get(p + "attn.in_proj_bias"),
          sd.get(p + "attn.out_proj.weight"), sd.get(p + "attn.out_proj.bias"),
          sd.get(p + "ln_1.weight"), sd.get(p + "ln_1.bias"),
          sd.get(p + "mlp.c_fc.weight"), sd.get(p + "mlp.c_fc.bias"),
          sd.get(p + "mlp.c_proj.weight"), sd.get(p + "mlp.c_proj.bias"),
          sd.get(p + "ln_2.weight"), sd.get(p + "ln_2.bias")));
    }
  }

  int layers() {
    return blocks.size();
  }

  int heads() {
    return heads;
  }

  /**
   * Runs all blocks.
   *
   * @param x {@code [N, L, D]}, owned by the caller's scope manager (results attach to it)
   * @param masks additive masks (2-D shared or 3-D {@code [N·heads, L, L]}), per layer
   * @param replacements deep prompt replacements, applied before their block
   * @param adaptor residual adaptor after attention
   */
  NDArray forward(NDArray x, AttentionMasks masks, List<TokenReplacement> replacements, BlockAdaptor adaptor) {
    for (int i = 0; i < blocks.size(); i++) {
      for (TokenReplacement r : replacements) {
        if (r.layer() == i) x = replace(x, r);
      }
      Block b = blocks.get(i);
      NDArray h = layerNorm(x, b.ln1W(), b.ln1B());
      x = x.add(attention(h, b, masks.forLayer(i)));
      x = adaptor.apply(i, x);
      h = layerNorm(x, b.ln2W(), b.ln2B());
      h = Linear.linear(h, b.fcW(), b.fcB()).singletonOrThrow();
      h = quickGelu(h);
      h = Linear.linear(h, b.projW(), b.projB()).singletonOrThrow();
      x = x.add(h);
    }
    return x;
  }

  private NDArray attention(NDArray x, Block b, NDArray mask) {
    Shape s = x.getShape();
    long n = s.get(0);
    long len = s.get(1);
    long hd = width / heads;
    NDArray qkv = Linear.linear(x, b.inW(), b.inB()).singletonOrThrow();
    // [N, L, 3, H, hd] -> [3, N, H, L, hd]
    qkv = qkv.reshape(n, len, 3, heads, hd).transpose(2, 0, 3, 1, 4);
    NDArray q = qkv.get(0).mul((float) (1.0 / Math.sqrt(hd)));
    NDArray k = qkv.get(1);
    NDArray v = qkv.get(2);
    NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)); // [N, H, L, L]
    if (mask != null) scores = scores.add(maskFor(mask, scores, n, len));
    NDArray out = scores.softmax(-1).matMul(v); // [N, H, L, hd]
    out = out.transpose(0, 2, 1, 3).reshape(n, len, width);
    return Linear.linear(out, b.outW(), b.outB()).singletonOrThrow();
  }

  private NDArray maskFor(NDArray mask, NDArray scores, long n, long len) {
    Shape ms = mask.getShape();
    if (ms.dimension() == 2) {
      if (ms.get(0) != len || ms.get(1) != len) {
        throw new IllegalArgumentException("attention mask " + ms + " does not fit sequence length " + len);
      }
      return mask;
    }
    if (ms.dimension() == 3 && ms.get(0) == n * heads && ms.get(1) == len && ms.get(2) == len) {
      NDArray m = mask.reshape(n, heads, len, len); // batch-major, head-minor
      m.attach(scores.getManager());
      return m;
    }
    throw new IllegalArgumentException(
        "attention mask must be [" + len + "," + len + "] or [" + (n * heads) + "," + len + "," + len
            + "] (N*heads, batch-major), got " + ms);
  }

  static NDArray quickGelu(NDArray x) {
    return x.mul(Activation.sigmoid(x.mul(1.702f)));
  }

  static NDArray layerNorm(NDArray x, NDArray w, NDArray b) {
    return LayerNorm.layerNorm(x, new Shape(w.getShape().get(0)), w, b, LN_EPS).singletonOrThrow();
  }

  /** Splices replacement tokens into {@code x} (differentiable w.r.t. both). */
  static NDArray replace(NDArray x, TokenReplacement r) {
    Shape s = x.getShape();
    long n = s.get(0);
    long len = s.get(1);
    long d = s.get(2);
    int count = r.count();
    long start = r.position() >= 0 ? r.position() : len + r.position();
    if (start < 0 || start + count > len) {
      throw new IllegalArgumentException(
          "replacement of " + count + " tokens at position " + r.position() + " does not fit length " + len);
    }
    NDArray tok = broadcastTokens(r.tokens(), x, n, d);
    NDList parts = new NDList();
    if (start > 0) parts.add(x.get(":, 0:" + start));
    parts.add(tok);
    if (start + count < len) parts.add(x.get(":, " + (start + count) + ":"));
    return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 1);
  }

  /**
   * Brings caller tokens {@code [n,D]} or {@code [N,n,D]} to {@code [N,n,D]} as a new array owned by
   * the manager of {@code like} (so that intermediate cleanup never touches caller arrays).
   */
  static NDArray broadcastTokens(NDArray tokens, NDArray like, long n, long d) {
    Shape ts = tokens.getShape();
    if (ts.get(ts.dimension() - 1) != d) {
      throw new IllegalArgumentException("prompt tokens have width " + ts.get(ts.dimension() - 1) + ", expected " + d);
    }
    NDArray out;
    if (ts.dimension() == 2) {
      NDArray e = tokens.expandDims(0);
      e.attach(like.getManager());
      out = e.broadcast(n, ts.get(0), d);
    } else if (ts.get(0) == n) {
      out = tokens.toType(tokens.getDataType(), true);
    } else {
      throw new IllegalArgumentException("per-sequence prompt tokens " + ts + " do not match batch " + n);
    }
    if (out.getDataType() != like.getDataType()) out = out.toType(like.getDataType(), false);
    out.attach(like.getManager());
    return out;
  }
}
