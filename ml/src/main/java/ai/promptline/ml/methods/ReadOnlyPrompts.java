package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.AttentionMasks;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.Numerics;
import java.util.ArrayList;
import java.util.List;

/**
 * The read-only layout of RPO (mlvlab/RPO trainers/rpo.py) shared with MRPO: K prompt tokens are
 * written right after each class prompt's EOT (text) and after CLS + patches (vision), without
 * positional embedding, and masks stop every original token from attending to a prompt, so the
 * original tokens' activations equal frozen CLIP's in every layer; prompt outputs are read out
 * and the k-th image prompt is paired with the k-th text prompt.
 */
final class ReadOnlyPrompts {
  private ReadOnlyPrompts() {}

  /** Per-class text layout: token ids, the row after EOT ({@code len_c}), mask and readout rows. */
  record Text(NDArray ids, int[] lenC, AttentionMasks masks, NDArray readout) implements AutoCloseable {
    @Override
    public void close() {
      ids.close();
      masks.all().close();
      readout.close();
    }
  }

  /**
   * Tokenises {@code prompt.replace("_", class)} and builds RPO's 3-D text mask
   * {@code [C·heads, L, L]} (batch-major, head-minor): entry (r, s) is −∞ when {@code s > r} (causal)
   * or {@code s ≥ len_c} (a prompt), else 0.
   */
  static Text text(MethodContext c, ClassSet classes, String prompt, int k) {
    ClipModel clip = c.clip();
    NDManager m = c.manager();
    int len = clip.config().contextLength();
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < classes.size(); i++) prompts.add(prompt.replace("_", classes.cleaned(i)));
    int[][] tokens = c.tokenizer().tokenize(prompts, len, false);
    int n = tokens.length;
    int heads = clip.config().textHeads();
    int[] lenC = new int[n];
    float[] mask = new float[n * heads * len * len];
    int[] rows = new int[n * k];
    for (int i = 0; i < n; i++) {
      int eot = 0;
      for (int j = 0; j < len; j++) if (tokens[i][j] > tokens[i][eot]) eot = j;
      lenC[i] = eot + 1;
      if (lenC[i] + k > len) {
        throw new IllegalArgumentException("prompt \"" + prompts.get(i) + "\" leaves " + (len - lenC[i])
            + " free positions, fewer than the " + k + " prompt tokens; shorten the prompt or lower k");
      }
      for (int h = 0; h < heads; h++) {
        int base = (i * heads + h) * len * len;
        for (int r = 0; r < len; r++) {
          for (int s = 0; s < len; s++) {
            if (s > r || s >= lenC[i]) mask[base + r * len + s] = Float.NEGATIVE_INFINITY;
          }
        }
      }
      for (int q = 0; q < k; q++) rows[i * k + q] = lenC[i] + q;
    }
    NDArray maskT = owned(m, m.create(mask, new Shape((long) n * heads, len, len)));
    NDArray readout = owned(m, m.create(rows, new Shape(n, k)));
    return new Text(owned(m, m.create(tokens)), lenC, AttentionMasks.of(maskT), readout);
  }

  /** Vision: the 2-D mask {@code [T+K, T+K]} hiding the last K columns, and readout rows T..T+K−1. */
  record Vision(AttentionMasks masks, NDArray readout) implements AutoCloseable {
    @Override
    public void close() {
      masks.all().close();
      readout.close();
    }
  }

  static Vision vision(MethodContext c, int k) {
    NDManager m = c.manager();
    int t = c.clip().config().visionTokens();
    int len = t + k;
    float[] mask = new float[len * len];
    for (int r = 0; r < len; r++) for (int s = t; s < len; s++) mask[r * len + s] = Float.NEGATIVE_INFINITY;
    int[] rows = new int[k];
    for (int q = 0; q < k; q++) rows[q] = t + q;
    return new Vision(AttentionMasks.of(owned(m, m.create(mask, new Shape(len, len)))), owned(m, m.create(rows)));
  }

  /** A torch-owned copy (never a view of a Java buffer that may be collected). */
  private static NDArray owned(NDManager m, NDArray blob) {
    NDArray o = blob.duplicate();
    blob.close();
    return o;
  }

  /**
   * RPO's prediction: {@code (1/K)·Σ_k s·v̂_{b,k}·t̂_{c,k}} for image prompt outputs {@code [B, K, E]}
   * and text prompt outputs {@code [C, K, E]}.
   */
  static NDArray pairedLogits(NDArray image, NDArray text, float scale) {
    NDArray v = Features.normalize(image).transpose(1, 0, 2); // [K, B, E]
    NDArray t = Features.normalize(text).transpose(1, 2, 0); // [K, E, C]
    return Numerics.scale(v.matMul(t).mean(new int[] {0}), scale);
  }

  /**
   * RPO's initialisation: {@code base} repeated K times plus {@code 0.1·u_k} with {@code u_k} a
   * random unit vector per row (seeded by the tensor's name).
   */
  static NDArray baseRowsPlusUnitNoise(MethodContext c, String name, NDArray base, int k) {
    int d = (int) base.getShape().get(0);
    float[] b = base.toFloatArray();
    float[] noise = Init.normal(Init.rng(c.seed(), name), k * d, 1.0);
    float[] v = new float[k * d];
    for (int i = 0; i < k; i++) {
      double norm = 0;
      for (int j = 0; j < d; j++) norm += (double) noise[i * d + j] * noise[i * d + j];
      norm = Math.sqrt(norm);
      for (int j = 0; j < d; j++) v[i * d + j] = (float) (b[j] + 0.1 * noise[i * d + j] / norm);
    }
    return Init.parameter(c.manager(), v, new Shape(k, d));
  }

  /** The {@code <|endoftext|>} token embedding {@code [D]}. */
  static NDArray eotEmbedding(MethodContext c) {
    return c.clip().weights().get("token_embedding.weight").get(new NDIndex("49407"));
  }

  /** Text key/value caches above this size fall back to the full masked pass. */
  static final long TEXT_CACHE_BUDGET_BYTES = 1L << 30;

  /**
   * The text context of the cached path ({@code readOnlyCache}, default true), or null for the full
   * masked pass: when turned off, or when the cache of this label space would exceed
   * {@link #TEXT_CACHE_BUDGET_BYTES}.
   */
  static ClipModel.ReadOnlyContext textCache(MethodContext c, Text text) {
    if (!Boolean.parseBoolean(c.options().string("readOnlyCache"))) return null;
    ClipModel clip = c.clip();
    int keep = 0;
    for (int l : text.lenC()) keep = Math.max(keep, l);
    long bytes = 2L * clip.config().textLayers() * text.lenC().length * keep * clip.config().textWidth() * 4;
    if (bytes > TEXT_CACHE_BUDGET_BYTES) return null;
    return clip.readOnlyText(text.ids(), text.lenC());
  }
}
