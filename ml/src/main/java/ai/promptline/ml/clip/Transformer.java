package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
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
 *
 * <p>Precision ({@link Numerics}): activations are in the model dtype (that of the cast weights) and,
 * under emulated bf16, every op output is rounded; every LayerNorm runs on an fp32 upcast with the
 * fp32 parameters and casts back (the reference {@code LayerNorm} subclass); additive masks are
 * cast to the activation dtype; caller tokens are cast (differentiably) at the splice.
 */
final class Transformer {
  static final float LN_EPS = 1e-5f;

  /** Frozen weights of one block. */
  record Block(
      NDArray inW, NDArray inB, NDArray outW, NDArray outB,
      NDArray ln1W, NDArray ln1B, NDArray fcW, NDArray fcB,
      NDArray projW, NDArray projB, NDArray ln2W, NDArray ln2B, NDArray qW, NDArray qB) {}

  private final List<Block> blocks;
  private final int width;
  private final int heads;
  private final Numerics num;

  Transformer(Map<String, NDArray> sd, String prefix, int layers, int width, int heads, Numerics num) {
    this.num = num;
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
          sd.get(p + "ln_2.weight"), sd.get(p + "ln_2.bias"),
          // the query rows of in_proj, for read-only prompts (views held for the model's lifetime)
          sd.get(p + "attn.in_proj_weight").get("0:" + width), sd.get(p + "attn.in_proj_bias").get("0:" + width)));
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
    return forward(x, masks, replacements, adaptor, null);
  }

  /**
   * As {@link #forward(NDArray, AttentionMasks, List, BlockAdaptor)}; when {@code pooled} ({@code
   * [N]} int64 positions) is given, only those rows leave the last block ({@code [N, 1, D]}): its
   * keys and values still come from every token, but the query, attention output, MLP and residual
   * are computed for the pooled row alone. The pooled features are the same (the other rows of the
   * last block feed nothing); the last block costs about a sixth of a full one. Callers use it only
   * without an adaptor (a residual adaptor may look at every row).
   */
  NDArray forward(NDArray x, AttentionMasks masks, List<TokenReplacement> replacements, BlockAdaptor adaptor, NDArray pooled) {
    int last = blocks.size() - 1;
    for (int i = 0; i < blocks.size(); i++) {
      for (TokenReplacement r : replacements) {
        if (r.layer() == i) x = replace(x, r, num);
      }
      Block b = blocks.get(i);
      if (i == last && pooled != null && adaptor == BlockAdaptor.NONE) return pooledBlock(x, b, masks.forLayer(i), pooled);
      NDArray h = num.round(layerNorm(x, b.ln1W(), b.ln1B()));
      x = num.round(x.add(attention(h, b, masks.forLayer(i))));
      if (adaptor != BlockAdaptor.NONE) x = applyAdaptor(adaptor, i, x);
      h = num.round(layerNorm(x, b.ln2W(), b.ln2B()));
      h = num.round(Linear.linear(h, b.fcW(), b.fcB()).singletonOrThrow());
      h = quickGelu(h, num);
      h = num.round(Linear.linear(h, b.projW(), b.projB()).singletonOrThrow());
      x = num.round(x.add(h));
    }
    return x;
  }

  /**
   * Keys and values {@code [N, H, L, hd]} of every block over a sequence without prompts (what the
   * read-only methods cache: original tokens never attend to prompts, so these are the same with
   * and without them). {@code x} is the block-0 input; no gradient flows (frozen weights, frozen
   * input).
   */
  List<NDArray[]> keysValues(NDArray x, AttentionMasks masks) {
    List<NDArray[]> out = new ArrayList<>(blocks.size());
    for (int i = 0; i < blocks.size(); i++) {
      Block b = blocks.get(i);
      NDArray h = num.round(layerNorm(x, b.ln1W(), b.ln1B()));
      NDArray[] kv = new NDArray[2];
      x = num.round(x.add(attention(h, b, masks.forLayer(i), kv)));
      out.add(kv);
      h = num.round(layerNorm(x, b.ln2W(), b.ln2B()));
      h = num.round(Linear.linear(h, b.fcW(), b.fcB()).singletonOrThrow());
      h = quickGelu(h, num);
      h = num.round(Linear.linear(h, b.projW(), b.projB()).singletonOrThrow());
      x = num.round(x.add(h));
    }
    return out;
  }

  /**
   * Read-only prompt tokens {@code p [N, K, D]} through every block, attending only to the cached
   * keys and values of the original tokens ({@link #keysValues}) — never to themselves or each other,
   * as RPO's masks prescribe — so only the K prompt rows are computed. {@code keyMask} (additive,
   * {@code [N, 1, 1, L]}, or null) hides key columns (text: those at or after {@code len_c});
   * {@code replace} gives new prompt tokens before block i (MRPO's deep prompts).
   */
  NDArray readOnlyPrompts(NDArray p, List<NDArray[]> kv, NDArray keyMask, Map<Integer, NDArray> replace) {
    long n = p.getShape().get(0);
    long k = p.getShape().get(1);
    long hd = width / heads;
    for (int i = 0; i < blocks.size(); i++) {
      if (replace.containsKey(i)) {
        // p·0 + new, not new alone: the replaced tokens stay in the graph with a zero gradient, as
        // the full pass's splice leaves them (PyTorch's SGD then still applies weight decay to them)
        p = Numerics.scale(p, 0f).add(num.round(broadcastTokens(replace.get(i), p, n, width)));
      }
      Block b = blocks.get(i);
      NDArray h = num.round(layerNorm(p, b.ln1W(), b.ln1B()));
      NDArray q = num.round(Linear.linear(h, b.qW(), b.qB()).singletonOrThrow());
      q = num.round(Numerics.scale(q.reshape(n, k, heads, hd).transpose(0, 2, 1, 3), (float) (1.0 / Math.sqrt(hd))));
      NDArray scores = num.round(q.matMul(kv.get(i)[0].transpose(0, 1, 3, 2))); // [N, H, K, L]
      if (keyMask != null) scores = scores.add(castLike(keyMask, scores));
      NDArray att = num.round(num.round(scores.softmax(-1)).matMul(kv.get(i)[1])); // [N, H, K, hd]
      att = att.transpose(0, 2, 1, 3).reshape(n, k, width);
      p = num.round(p.add(num.round(Linear.linear(att, b.outW(), b.outB()).singletonOrThrow())));
      h = num.round(layerNorm(p, b.ln2W(), b.ln2B()));
      h = num.round(Linear.linear(h, b.fcW(), b.fcB()).singletonOrThrow());
      h = quickGelu(h, num);
      h = num.round(Linear.linear(h, b.projW(), b.projB()).singletonOrThrow());
      p = num.round(p.add(h));
    }
    return p;
  }

  /**
   * Adaptors are caller code with (typically fp32) parameters: under a reduced precision they see an
   * fp32 upcast of the hidden state and their result is cast back to the activation dtype.
   */
  private NDArray applyAdaptor(BlockAdaptor adaptor, int layer, NDArray x) {
    if (num.precision() == Precision.FP32) return adaptor.apply(layer, x);
    NDArray y = num.toActivation(adaptor.apply(layer, Numerics.cast(x, DataType.FLOAT32)));
    if (y.getManager() != x.getManager()) y.attach(x.getManager());
    return y;
  }

  /** The last block for the pooled rows only; see {@link #forward(NDArray, AttentionMasks, List, BlockAdaptor, NDArray)}. */
  private NDArray pooledBlock(NDArray x, Block b, NDArray mask, NDArray pooled) {
    Shape s = x.getShape();
    long n = s.get(0);
    long len = s.get(1);
    long hd = width / heads;
    NDArray idx = pooled.reshape(n, 1, 1);
    NDArray rows = x.gather(idx.broadcast(n, 1, width), 1); // [N, 1, D]
    NDArray h = num.round(layerNorm(x, b.ln1W(), b.ln1B()));
    NDArray hRows = h.gather(idx.broadcast(n, 1, width), 1);
    NDArray kv = num.round(Linear.linear(h, b.inW().get(width + ":"), b.inB().get(width + ":")).singletonOrThrow());
    kv = kv.reshape(n, len, 2, heads, hd).transpose(2, 0, 3, 1, 4); // [2, N, H, L, hd]
    // sliced here, not Block.qW/qB: those views were taken before a trainable model's weights
    // required gradients, and a slice taken now is what autograd follows back to in_proj
    NDArray q = num.round(Linear.linear(hRows, b.inW().get("0:" + width), b.inB().get("0:" + width)).singletonOrThrow());
    q = num.round(Numerics.scale(q.reshape(n, 1, heads, hd).transpose(0, 2, 1, 3), (float) (1.0 / Math.sqrt(hd)))); // [N, H, 1, hd]
    NDArray scores = num.round(q.matMul(kv.get(0).transpose(0, 1, 3, 2))); // [N, H, 1, L]
    if (mask != null) scores = scores.add(maskRows(mask, scores, n, len, pooled));
    NDArray out = num.round(num.round(scores.softmax(-1)).matMul(kv.get(1))); // [N, H, 1, hd]
    out = out.transpose(0, 2, 1, 3).reshape(n, 1, width);
    NDArray y = num.round(rows.add(num.round(Linear.linear(out, b.outW(), b.outB()).singletonOrThrow())));
    NDArray m = num.round(layerNorm(y, b.ln2W(), b.ln2B()));
    m = num.round(Linear.linear(m, b.fcW(), b.fcB()).singletonOrThrow());
    m = quickGelu(m, num);
    m = num.round(Linear.linear(m, b.projW(), b.projB()).singletonOrThrow());
    return num.round(y.add(m));
  }

  /** The mask rows of the pooled positions: {@code [N, 1, 1, L]} (2-D mask) or {@code [N, H, 1, L]} (per sequence). */
  private NDArray maskRows(NDArray mask, NDArray scores, long n, long len, NDArray pooled) {
    NDArray full = maskFor(mask, scores, n, len); // validated and cast: [L, L] or [N, H, L, L]
    if (full.getShape().dimension() == 2) {
      NDArray m = full.expandDims(0).broadcast(n, len, len).gather(pooled.reshape(n, 1, 1).broadcast(n, 1, len), 1);
      return m.reshape(n, 1, 1, len);
    }
    return full.gather(pooled.reshape(n, 1, 1, 1).broadcast(n, heads, 1, len), 2);
  }

  private NDArray attention(NDArray x, Block b, NDArray mask) {
    return attention(x, b, mask, null);
  }

  /** Attention of one block; when {@code kvOut} is given it receives the block's keys and values. */
  private NDArray attention(NDArray x, Block b, NDArray mask, NDArray[] kvOut) {
    Shape s = x.getShape();
    long n = s.get(0);
    long len = s.get(1);
    long hd = width / heads;
    NDArray qkv = num.round(Linear.linear(x, b.inW(), b.inB()).singletonOrThrow());
    // [N, L, 3, H, hd] -> [3, N, H, L, hd]
    qkv = qkv.reshape(n, len, 3, heads, hd).transpose(2, 0, 3, 1, 4);
    NDArray q = num.round(Numerics.scale(qkv.get(0), (float) (1.0 / Math.sqrt(hd))));
    NDArray k = qkv.get(1);
    NDArray v = qkv.get(2);
    if (kvOut != null) {
      kvOut[0] = k;
      kvOut[1] = v;
    }
    NDArray scores = num.round(q.matMul(k.transpose(0, 1, 3, 2))); // [N, H, L, L]
    // masks hold 0 / -inf (exact in every dtype): the sum is not rounded (rounding cannot see inf)
    if (mask != null) scores = scores.add(maskFor(mask, scores, n, len));
    NDArray out = num.round(num.round(scores.softmax(-1)).matMul(v)); // [N, H, L, hd]
    out = out.transpose(0, 2, 1, 3).reshape(n, len, width);
    return num.round(Linear.linear(out, b.outW(), b.outB()).singletonOrThrow());
  }

  private NDArray maskFor(NDArray mask, NDArray scores, long n, long len) {
    Shape ms = mask.getShape();
    if (ms.dimension() == 2) {
      if (ms.get(0) != len || ms.get(1) != len) {
        throw new IllegalArgumentException("attention mask " + ms + " does not fit sequence length " + len);
      }
      return castLike(mask, scores);
    }
    if (ms.dimension() == 3 && ms.get(0) == n * heads && ms.get(1) == len && ms.get(2) == len) {
      NDArray m = mask.reshape(n, heads, len, len); // batch-major, head-minor
      m.attach(scores.getManager());
      return castLike(m, scores);
    }
    throw new IllegalArgumentException(
        "attention mask must be [" + len + "," + len + "] or [" + (n * heads) + "," + len + "," + len
            + "] (N*heads, batch-major), got " + ms);
  }

  /** {@code attn_mask.to(dtype=x.dtype)}: a new array in {@code like}'s manager when a cast is needed. */
  private static NDArray castLike(NDArray mask, NDArray like) {
    if (mask.getDataType() == like.getDataType()) return mask;
    NDArray m = mask.toType(like.getDataType(), false);
    m.attach(like.getManager());
    return m;
  }

  static NDArray quickGelu(NDArray x) {
    return x.mul(Activation.sigmoid(Numerics.scale(x, 1.702f)));
  }

  /** QuickGELU with the reference's three rounded ops ({@code x * sigmoid(1.702 * x)}). */
  static NDArray quickGelu(NDArray x, Numerics num) {
    return num.round(x.mul(num.round(Activation.sigmoid(num.round(Numerics.scale(x, 1.702f))))));
  }

  /**
   * LayerNorm over the last dimension as the reference subclass: computed in fp32 (input upcast,
   * fp32 parameters) and cast back to the input dtype.
   */
  static NDArray layerNorm(NDArray x, NDArray w, NDArray b) {
    DataType in = x.getDataType();
    NDArray xf = Numerics.cast(x, DataType.FLOAT32); // differentiable (prompt gradients pass LNs)
    NDArray y = LayerNorm.layerNorm(xf, new Shape(w.getShape().get(0)), w, b, LN_EPS).singletonOrThrow();
    return Numerics.cast(y, in);
  }

  /** Splices replacement tokens into {@code x} (differentiable w.r.t. both). */
  static NDArray replace(NDArray x, TokenReplacement r) {
    return replace(x, r, null);
  }

  /** As {@link #replace(NDArray, TokenReplacement)}, the tokens cast/rounded to {@code num}. */
  static NDArray replace(NDArray x, TokenReplacement r, Numerics num) {
    Shape s = x.getShape();
    long n = s.get(0);
    long len = s.get(1);
    long d = s.get(2);
    int count = r.count();
    if (r.starts() != null) return replaceRows(x, r, num, n, len, d, count);
    long start = r.position() >= 0 ? r.position() : len + r.position();
    if (start < 0 || start + count > len) {
      throw new IllegalArgumentException(
          "replacement of " + count + " tokens at position " + r.position() + " does not fit length " + len);
    }
    NDArray tok = broadcastTokens(r.tokens(), x, n, d);
    if (num != null) tok = num.round(tok);
    NDList parts = new NDList();
    if (start > 0) parts.add(x.get(":, 0:" + start));
    parts.add(tok);
    if (start + count < len) parts.add(x.get(":, " + (start + count) + ":"));
    return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 1);
  }

  /**
   * Per-sequence positions: {@code x·keep + G·tokens} with {@code keep [N,L,1]} zero on the
   * replaced rows and the one-hot {@code G [N,L,n]} placing token k at row {@code starts[i]+k}
   * of sequence i — differentiable w.r.t. both, and one batched op for any mix of positions.
   */
  private static NDArray replaceRows(NDArray x, TokenReplacement r, Numerics num, long n, long len, long d, int count) {
    int[] starts = r.starts();
    if (starts.length != n) {
      throw new IllegalArgumentException(starts.length + " start positions for " + n + " sequences");
    }
    float[] keep = new float[(int) (n * len)];
    float[] g = new float[(int) (n * len * count)];
    java.util.Arrays.fill(keep, 1f);
    for (int i = 0; i < n; i++) {
      if (starts[i] + count > len) {
        throw new IllegalArgumentException("replacement of " + count + " tokens at row " + starts[i] + " does not fit length " + len);
      }
      for (int k = 0; k < count; k++) {
        int row = starts[i] + k;
        keep[(int) (i * len + row)] = 0f;
        g[(int) ((i * len + row) * count + k)] = 1f;
      }
    }
    NDManager m = x.getManager();
    // fresh torch-owned copies: autograd saves G for the gradient of the tokens
    NDArray keepT = Numerics.scale(m.create(keep, new Shape(n, len, 1)), 1f).toType(x.getDataType(), false);
    NDArray gT = Numerics.scale(m.create(g, new Shape(n, len, count)), 1f).toType(x.getDataType(), false);
    NDArray tok = broadcastTokens(r.tokens(), x, n, d); // [N, n, D]
    if (num != null) tok = num.round(tok);
    return x.mul(keepT).add(gT.matMul(tok));
  }

  /**
   * Brings caller tokens {@code [n,D]} or {@code [N,n,D]} to {@code [N,n,D]} in {@code like}'s dtype
   * (differentiable cast) as a new array owned by the manager of {@code like} (so that intermediate
   * cleanup never touches caller arrays).
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
      out = Numerics.scale(tokens, 1f); // a differentiable copy (toType is not differentiable)
    } else {
      throw new IllegalArgumentException("per-sequence prompt tokens " + ts + " do not match batch " + n);
    }
    out = Numerics.cast(out, like.getDataType()); // differentiable, unlike toType
    out.attach(like.getManager());
    return out;
  }
}
