package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A frozen CLIP model: both towers, the logit scale, and the prompt hooks of {@link TextInput} /
 * {@link VisionInput}.
 *
 * <p><b>Ownership.</b> The model owns its weights in a private sub-manager, closed by {@link
 * #close()}. Weights never require gradients, except in a model made by {@link #trainable} for
 * contrastive pretraining. Every encode call computes in a
 * temporary sub-manager of the caller's input array and attaches only the result to the caller's
 * manager, so long training loops do not accumulate intermediates; autograd keeps the tensors it
 * needs for {@code backward} itself.
 *
 * <p><b>Gradients.</b> All ops are autograd-aware PyTorch-engine NDArray ops. A caller tensor with
 * {@code setRequiresGradient(true)} spliced in through a hook receives its gradient inside a DJL
 * {@code GradientCollector}.
 *
 * <p><b>Precision.</b> Under {@link Precision#FP32} everything is fp32. Under FP16/BF16 the weights
 * that the reference {@code convert_weights} casts are held in that dtype and the towers compute in
 * it (embeddings cast at use, LayerNorm in fp32 on an upcast input, see {@link Precision}); inputs
 * and caller tensors spliced in through hooks are cast to the model dtype at the splice (autograd
 * carries the gradient back to the caller's fp32 tensor), and features are returned as fp32.
 */
public final class ClipModel implements AutoCloseable {
  private final ClipConfig config;
  private final NDManager manager;
  private final Map<String, NDArray> weights;
  private final NDArray tokenEmbedding;
  private final NDArray positional;
  private final NDArray lnFinalW;
  private final NDArray lnFinalB;
  private final NDArray textProjection;
  private final Transformer text;
  private final VisionTower vision;
  private final float logitScale;
  private final String sha256;
  private final Precision precision;
  private final Numerics num;
  private String sourceFormat = "in-memory state dict";
  private Map<String, Integer> storedDtypes = Map.of();

  private ClipModel(ClipConfig config, Map<String, NDArray> sd, NDManager manager, String sha256, Precision precision) {
    this.config = config;
    this.manager = manager;
    this.sha256 = sha256;
    this.precision = precision;
    this.num = new Numerics(precision);
    Map<String, NDArray> w = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : sd.entrySet()) {
      NDArray a = e.getValue();
      if (!e.getKey().endsWith("num_batches_tracked")) {
        DataType target = precision.storageTypeOf(e.getKey());
        if (a.getDataType() != target) {
          NDArray f = a.toType(target, false); // fp16 storages: exact to fp32, identity to fp16
          a.close();
          a = f;
        }
        if (precision.isEmulated() && Precision.castsToModelDtype(e.getKey())) {
          NDArray r = Numerics.roundBf16(a); // convert_weights to bfloat16, held in fp32
          a.close();
          a = r;
        }
      }
      a.attach(manager);
      if (a.hasGradient()) a.setRequiresGradient(false);
      w.put(e.getKey(), a);
    }
    this.weights = w;
    tokenEmbedding = w.get("token_embedding.weight");
    positional = w.get("positional_embedding");
    lnFinalW = w.get("ln_final.weight");
    lnFinalB = w.get("ln_final.bias");
    textProjection = w.get("text_projection");
    text = new Transformer(w, "transformer.", config.textLayers(), config.textWidth(), config.textHeads(), num);
    vision = config.visionKind() == ClipConfig.VisionKind.VIT
        ? new VisionTransformerTower(config, w, num)
        : new ModifiedResNetTower(config, w, manager, num);
    logitScale = (float) Math.exp(w.get("logit_scale").toType(DataType.FLOAT32, false).getFloat());
  }

  // ---------------------------------------------------------------- construction

  /**
   * Loads a checkpoint; the format is detected from the file (zip = TorchScript / torch.save
   * archive, otherwise safetensors with OpenAI/open_clip or HuggingFace names).
   *
   * @param manager parent manager; the model creates and owns a sub-manager
   */
  public static ClipModel load(Path weightsFile, NDManager manager) throws IOException {
    return load(weightsFile, manager, Precision.FP32);
  }

  /**
   * As {@link #load(Path, NDManager)} with the towers in {@code precision}; the model lives on the
   * manager's device.
   */
  public static ClipModel load(Path weightsFile, NDManager manager, Precision precision) throws IOException {
    NDManager own = manager.newSubManager();
    try {
      CheckpointReader.Checkpoint ck = CheckpointReader.read(weightsFile, own);
      Map<String, Shape> found = shapes(ck.stateDict());
      ClipConfig cfg;
      try {
        cfg = ck.config() != null ? ck.config() : ClipConfig.inferFrom(found);
        ClipWeights.validate(cfg, found, ck.ignoreExtraKeys());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(weightsFile + " (" + ck.format() + "): " + e.getMessage()
            + (e.getMessage().startsWith("not a CLIP state dict") ? "; the file's first tensors: " + firstKeys(found) : ""), e);
      }
      Map<String, NDArray> sd = keepExpected(cfg, ck.stateDict());
      for (Map.Entry<String, NDArray> e : ck.stateDict().entrySet()) {
        if (!sd.containsKey(e.getKey())) e.getValue().close(); // e.g. TorchScript attn_mask attributes
      }
      ClipModel model = new ClipModel(cfg, sd, own, ClipCheckpoints.sha256(weightsFile), precision);
      model.sourceFormat = ck.format();
      model.storedDtypes = Map.copyOf(ck.storedDtypes());
      return model;
    } catch (IOException | RuntimeException e) {
      own.close();
      throw e;
    }
  }

  /**
   * Builds a model from a state dict in OpenAI naming, inferring the architecture as the reference
   * {@code build_model}. The model takes ownership of the arrays (moves them to its manager).
   */
  public static ClipModel fromStateDict(Map<String, NDArray> stateDict) {
    return fromStateDict(stateDict, ClipConfig.inferFrom(shapes(stateDict)));
  }

  /** As {@link #fromStateDict(Map)} with an explicit config (tiny models with custom head counts). */
  public static ClipModel fromStateDict(Map<String, NDArray> stateDict, ClipConfig config) {
    return fromStateDict(stateDict, config, Precision.FP32);
  }

  /** As {@link #fromStateDict(Map, ClipConfig)} with the towers in {@code precision}. */
  public static ClipModel fromStateDict(Map<String, NDArray> stateDict, ClipConfig config, Precision precision) {
    if (stateDict.isEmpty()) throw new IllegalArgumentException("empty state dict");
    ClipWeights.validate(config, shapes(stateDict), false);
    NDManager own = stateDict.values().iterator().next().getManager().newSubManager();
    return new ClipModel(config, keepExpected(config, stateDict), own, null, precision);
  }

  /**
   * An fp32 model whose every weight requires a gradient, for training the towers themselves
   * (contrastive pretraining): the encode calls are the same autograd-aware code paths the frozen
   * model uses, so one forward serves both. The weights stay the caller's arrays (updated in place
   * by the optimiser); {@link #logitScale()} is the value at construction, so a trainer keeps its own
   * learnable logit scale and reads {@code weights().get("logit_scale")}.
   */
  public static ClipModel trainable(Map<String, NDArray> stateDict, ClipConfig config) {
    ClipModel m = fromStateDict(stateDict, config, Precision.FP32);
    m.weights.forEach((k, a) -> {
      if (!k.endsWith("num_batches_tracked") && a.getDataType() == DataType.FLOAT32) a.setRequiresGradient(true);
    });
    return m;
  }

  /** A model with {@link ClipWeights#random deterministic random weights}. */
  public static ClipModel random(ClipConfig config, long seed, NDManager manager) {
    return random(config, seed, manager, Precision.FP32);
  }

  /**
   * As {@link #random(ClipConfig, long, NDManager)} with the towers in {@code precision} (the fp32
   * random values rounded to the dtype, as {@code convert_weights} does).
   */
  public static ClipModel random(ClipConfig config, long seed, NDManager manager, Precision precision) {
    NDManager own = manager.newSubManager();
    return new ClipModel(config, ClipWeights.random(config, seed, own), own, null, precision);
  }

  private static String firstKeys(Map<String, Shape> found) {
    StringBuilder b = new StringBuilder();
    int i = 0;
    for (Map.Entry<String, Shape> e : found.entrySet()) {
      if (i++ == 4) break;
      if (b.length() > 0) b.append(", ");
      b.append(e.getKey()).append(' ').append(e.getValue());
    }
    if (found.size() > 4) b.append(" … (").append(found.size()).append(" in all)");
    return b.append("; expected OpenAI / open_clip names (visual.*, transformer.resblocks.*, token_embedding.weight)"
        + " or HuggingFace CLIPModel names (text_model.*, vision_model.*)").toString();
  }

  static Map<String, Shape> shapes(Map<String, NDArray> sd) {
    Map<String, Shape> s = new LinkedHashMap<>();
    sd.forEach((k, v) -> s.put(k, v.getShape()));
    return s;
  }

  private static Map<String, NDArray> keepExpected(ClipConfig cfg, Map<String, NDArray> sd) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (String k : ClipWeights.expectedShapes(cfg).keySet()) {
      NDArray a = sd.get(k);
      if (a == null) continue; // only num_batches_tracked may be absent (validated)
      if (k.equals("logit_scale") && a.getShape().dimension() != 0) a = a.reshape(new Shape());
      out.put(k, a);
    }
    return out;
  }

  // ---------------------------------------------------------------- accessors

  /** Where the weights live (the device of the manager the model was loaded with): compute with it there. */
  public ai.djl.Device device() {
    return manager.getDevice();
  }

  public ClipConfig config() {
    return config;
  }

  /** The precision the towers compute in. */
  public Precision precision() {
    return precision;
  }

  /**
   * In-memory dtypes of the weights, grouped as the reference {@code convert_weights} treats them
   * (group → dtype → tensor count), e.g. {@code linear/conv/projection → {FLOAT16: 20}}.
   */
  public Map<String, Map<String, Integer>> dtypeGroups() {
    Map<String, Map<String, Integer>> out = new java.util.TreeMap<>();
    weights.forEach((k, v) -> out.computeIfAbsent(weightGroup(k), g -> new java.util.TreeMap<>())
        .merge(v.getDataType().name(), 1, Integer::sum));
    return out;
  }

  /** The group of a state-dict entry used by {@link #dtypeGroups()}. */
  static String weightGroup(String name) {
    if (Precision.castsToModelDtype(name)) return "conv/linear/attention/projection";
    if (name.equals("logit_scale")) return "logit_scale";
    if (name.contains("embedding")) return "embeddings";
    if (name.contains("ln_")) return "layernorm";
    if (name.matches("visual\\.(bn\\d|layer\\d+\\.\\d+\\.(bn\\d|downsample\\.1))\\..*")) return "batchnorm";
    return "other";
  }

  /** {@code exp(logit_scale)}, the temperature applied to cosine similarities. */
  public float logitScale() {
    return logitScale;
  }

  /** SHA-256 (hex) of the weights file, or null when not loaded from disk. */
  public String sha256() {
    return sha256;
  }

  /** Detected checkpoint format, e.g. "TorchScript archive". */
  public String sourceFormat() {
    return sourceFormat;
  }

  /** Stored dtypes of the checkpoint's tensors (dtype → tensor count); see {@link #dtypeGroups()} for memory. */
  public Map<String, Integer> storedDtypes() {
    return storedDtypes;
  }

  /** The frozen weights by OpenAI name (read-only view; do not close them). */
  public Map<String, NDArray> weights() {
    return java.util.Collections.unmodifiableMap(weights);
  }

  /** Total number of scalar parameters (BatchNorm counters excluded). */
  public long parameterCount() {
    long n = 0;
    for (Map.Entry<String, NDArray> e : weights.entrySet()) {
      if (!e.getKey().endsWith("num_batches_tracked")) n += e.getValue().getShape().size();
    }
    return n;
  }

  // ---------------------------------------------------------------- text

  /** Token embeddings {@code [N, L, D]} of integer ids {@code [N, L]} (no positional embedding). */
  public NDArray tokenEmbedding(NDArray ids) {
    NDArray idx = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
    NDArray out = Embedding.embedding(idx, tokenEmbedding, SparseFormat.DENSE).singletonOrThrow();
    out.attach(ids.getManager());
    if (idx != ids) idx.close();
    return out;
  }

  /** Text features {@code [N, E]} (not normalised) of token ids {@code [N, 77]}, EOT pooling. */
  public NDArray encodeText(NDArray tokenIds) {
    return encodeText(TextInput.ofTokens(tokenIds));
  }

  /**
   * Text features with prompt hooks; see {@link TextInput} for the order of operations.
   *
   * @return {@code [N, E]}, or {@code [N, P, E]} when readout positions are given
   */
  public NDArray encodeText(TextInput in) {
    NDArray primary = in.tokenIds() != null ? in.tokenIds() : in.embeddings();
    NDManager caller = primary.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray x;
      if (in.tokenIds() != null) {
        x = tokenEmbedding(in.tokenIds());
        x.attach(scope);
      } else {
        x = in.embeddings(); // caller-owned: never attached; the first op below creates a new array
      }
      x = toModelDtype(x, scope); // differentiable cast at the splice: gradients reach fp32 prompts
      Shape s = x.getShape();
      if (s.dimension() != 3 || s.get(2) != config.textWidth()) {
        throw new IllegalArgumentException("text input must be [N,L," + config.textWidth() + "], got " + s);
      }
      long n = s.get(0);
      long len = s.get(1);
      if (len > config.contextLength()) {
        throw new IllegalArgumentException("text length " + len + " exceeds context " + config.contextLength());
      }
      x = num.round(x.add(toModelDtype(positional.get(scope, new NDIndex("0:" + len)), scope)));
      adopt(x, scope);
      if (in.appended() != null) {
        NDArray tok = num.round(Transformer.broadcastTokens(in.appended(), x, n, config.textWidth()));
        long extra = tok.getShape().get(1);
        if (in.appendedPositional()) {
          if (len + extra > config.contextLength()) {
            throw new IllegalArgumentException("no positional embedding beyond position " + config.contextLength());
          }
          tok = num.round(tok.add(toModelDtype(positional.get(scope, new NDIndex(len + ":" + (len + extra))), scope)));
        }
        x = NDArrays.concat(new NDList(x, tok), 1);
      }
      long total = x.getShape().get(1);
      AttentionMasks masks = in.masks() != null ? in.masks() : AttentionMasks.of(AttentionMasks.causal((int) total, scope));
      NDArray pooled = null;
      if (in.readout() == null && in.adaptor() == BlockAdaptor.NONE && precision == Precision.FP32) {
        // only the pooled row leaves the last block (same features; see Transformer#forward)
        pooled = in.poolIndex() != null ? in.poolIndex().toType(DataType.INT64, true) : eotIndex(in.tokenIds());
        pooled.attach(scope);
      }
      x = text.forward(x, masks, in.replacements(), in.adaptor(), pooled);
      x = num.round(Transformer.layerNorm(x, lnFinalW, lnFinalB));
      NDArray out;
      if (pooled != null) {
        out = num.round(x.reshape(n, config.textWidth()).matMul(textProjection));
      } else if (in.readout() != null) {
        out = num.round(gatherRows(x, in.readout()).matMul(textProjection));
      } else {
        NDArray pool = in.poolIndex() != null
            ? in.poolIndex().toType(DataType.INT64, true) : eotIndex(in.tokenIds());
        pool.attach(scope);
        NDArray rows = gatherRows(x, pool.reshape(n, 1));
        out = num.round(rows.reshape(n, config.textWidth()).matMul(textProjection));
      }
      out = Numerics.cast(out, DataType.FLOAT32); // features leave the tower as fp32
      out.attach(caller);
      return out;
    }
  }

  /**
   * Returns {@code x [N, L, D]} with rows {@code position .. position+n-1} replaced by
   * {@code tokens} ({@code [n, D]} shared or {@code [N, n, D]}); negative positions count from the
   * end. Differentiable w.r.t. both; the result lives in {@code x}'s manager. This is how a CoOp
   * trainer splices its learnable context into the token embeddings of the placeholder prompts.
   */
  public static NDArray replaceRows(NDArray x, int position, NDArray tokens) {
    return Transformer.replace(x, new TokenReplacement(0, position, tokens));
  }

  /** The EOT position of each sequence: {@code argmax(ids, -1)} (EOT has the largest id). */
  public static NDArray eotIndex(NDArray tokenIds) {
    return tokenIds.argMax(1);
  }

  // ---------------------------------------------------------------- image

  /** Image features {@code [N, E]} (not normalised) of normalised pixels {@code [N, 3, R, R]}. */
  public NDArray encodeImage(NDArray pixels) {
    return encodeImage(VisionInput.of(pixels));
  }

  /**
   * Image features with prompt hooks (ViT only); see {@link VisionInput}.
   *
   * @return {@code [N, E]}, or {@code [N, P, E]} when readout positions are given
   */
  public NDArray encodeImage(VisionInput in) {
    NDManager caller = in.pixels().getManager();
    NDArray px = in.pixels();
    try (NDManager scope = caller.newSubManager()) {
      VisionInput local = in;
      NDArray f = toModelDtype(px, scope); // image.type(self.dtype)
      if (f != px) {
        local = new VisionInput(f, in.appended(), in.replacements(), in.masks(), in.readout(), in.adaptor());
      }
      NDArray out = Numerics.cast(vision.forward(local, scope), DataType.FLOAT32); // features are fp32
      out.attach(caller);
      return out;
    }
  }

  /**
   * The image tower's output tokens {@code [N, T, C]} (fp32), for methods that read a frozen
   * encoder's token grid instead of its pooled feature (Prismer's experts): ViT → every token
   * after the last block and {@code ln_post}, {@code [N, 1+g², W]}, before {@code proj}; ModifiedResNet
   * → the final feature map {@code [N, H·W, C]}, before attention pooling. Their width is
   * {@code config().visionTokenWidth()}.
   */
  public NDArray encodeImageTokens(NDArray pixels) {
    NDManager caller = pixels.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray out = Numerics.cast(vision.tokens(toModelDtype(pixels, scope), scope), DataType.FLOAT32);
      out.attach(caller);
      return out;
    }
  }

  /** Heads of the ViT image transformer (needed to build 3-D masks); attention-pool heads for RN. */
  public int visionHeads() {
    return config.visionHeads();
  }

  // ---------------------------------------------------------------- read-only prompts (RPO, MRPO)

  /**
   * What read-only prompts attend to: per block, the keys and values {@code [N, H, L, hd]} of the
   * original tokens, which no prompt can change (original tokens never attend to prompts), and an
   * additive mask {@code [N, 1, 1, L]} over the key columns (null = all visible).
   */
  public record ReadOnlyContext(List<NDArray[]> keysValues, NDArray keyMask, long sequences) implements AutoCloseable {
    /** Bytes held. */
    public long bytes() {
      long b = 0;
      for (NDArray[] kv : keysValues) b += 2 * kv[0].size() * kv[0].getDataType().getNumOfBytes();
      return b;
    }

    @Override
    public void close() {
      for (NDArray[] kv : keysValues) {
        kv[0].close();
        kv[1].close();
      }
      if (keyMask != null) keyMask.close();
    }
  }

  /**
   * Text context of read-only prompts written right after each sequence's EOT ({@code lenC[i]} =
   * EOT index + 1): a frozen pass of the token ids, keeping for every block the keys and values of
   * columns {@code < max(lenC)} and masking columns {@code ≥ lenC[i]}. Owned by {@code ids}'s manager.
   */
  public ReadOnlyContext readOnlyText(NDArray tokenIds, int[] lenC) {
    NDManager caller = tokenIds.getManager();
    int keep = 0;
    for (int l : lenC) keep = Math.max(keep, l);
    long n = tokenIds.getShape().get(0);
    try (NDManager scope = caller.newSubManager()) {
      NDArray x = tokenEmbedding(tokenIds);
      x.attach(scope);
      long len = x.getShape().get(1);
      x = num.round(toModelDtype(x, scope).add(toModelDtype(positional.get(scope, new NDIndex("0:" + len)), scope)));
      adopt(x, scope);
      List<NDArray[]> kv = text.keysValues(x, AttentionMasks.of(AttentionMasks.causal((int) len, scope)));
      List<NDArray[]> out = new ArrayList<>();
      for (NDArray[] p : kv) {
        NDArray k = p[0].get(new NDIndex(":, :, 0:" + keep)).duplicate();
        NDArray v = p[1].get(new NDIndex(":, :, 0:" + keep)).duplicate();
        k.attach(caller);
        v.attach(caller);
        out.add(new NDArray[] {k, v});
      }
      float[] mask = new float[(int) n * keep];
      for (int i = 0; i < n; i++) for (int c = lenC[i]; c < keep; c++) mask[i * keep + c] = Float.NEGATIVE_INFINITY;
      NDArray blob = caller.create(mask, new Shape(n, 1, 1, keep));
      NDArray m = blob.duplicate();
      blob.close();
      return new ReadOnlyContext(out, m, n);
    }
  }

  /**
   * Text features {@code [N, K, E]} of read-only prompts {@code [K, D]} (or {@code [N, K, D]}) against a
   * {@link #readOnlyText} context, with {@code replace} giving new prompts before block i: the
   * same values as the full masked pass (RPO/MRPO) with K rows computed instead of 77.
   */
  public NDArray encodeTextPrompts(ReadOnlyContext ctx, NDArray prompts, Map<Integer, NDArray> replace) {
    NDManager caller = prompts.getManager();
    try (NDManager scope = caller.newSubManager()) {
      long n = ctx.sequences();
      NDArray like = ctx.keysValues().get(0)[0];
      NDArray p = num.round(Transformer.broadcastTokens(prompts, like, n, config.textWidth()));
      adopt(p, scope);
      p = text.readOnlyPrompts(p, ctx.keysValues(), ctx.keyMask(), replace);
      p = num.round(Transformer.layerNorm(p, lnFinalW, lnFinalB));
      NDArray out = Numerics.cast(num.round(p.matMul(textProjection)), DataType.FLOAT32);
      out.attach(caller);
      return out;
    }
  }

  /** Image context of read-only prompts: keys and values of CLS + patches of every block. ViT only. */
  public ReadOnlyContext readOnlyImage(NDArray pixels) {
    if (!(vision instanceof VisionTransformerTower vit)) throw new UnsupportedOperationException("read-only image prompts need a ViT");
    NDManager caller = pixels.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray px = toModelDtype(pixels, scope);
      List<NDArray[]> kv = vit.keysValues(px, scope);
      List<NDArray[]> out = new ArrayList<>();
      for (NDArray[] p : kv) {
        NDArray k = p[0].duplicate();
        NDArray v = p[1].duplicate();
        k.attach(caller);
        v.attach(caller);
        out.add(new NDArray[] {k, v});
      }
      return new ReadOnlyContext(out, null, pixels.getShape().get(0));
    }
  }

  /** Image features {@code [N, K, E]} of read-only image prompts against a {@link #readOnlyImage} context. */
  public NDArray encodeImagePrompts(ReadOnlyContext ctx, NDArray prompts, Map<Integer, NDArray> replace) {
    VisionTransformerTower vit = (VisionTransformerTower) vision;
    NDManager caller = prompts.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray out = Numerics.cast(vit.readOnlyPrompts(prompts, ctx.keysValues(), replace, ctx.sequences()), DataType.FLOAT32);
      out.attach(caller);
      return out;
    }
  }

  // ---------------------------------------------------------------- similarity

  /** L2-normalises the last dimension (no epsilon, as the reference). */
  public static NDArray normalize(NDArray x) {
    return x.div(x.norm(new int[] {-1}, true));
  }

  /** {@code exp(logit_scale) · normalize(image) · normalize(text)ᵀ} → {@code [N_img, N_txt]}. */
  public NDArray logits(NDArray imageFeatures, NDArray textFeatures) {
    NDArray a = normalize(imageFeatures);
    NDArray b = normalize(textFeatures);
    NDArray out = Numerics.scale(a.matMul(b.transpose()), logitScale);
    a.close();
    b.close();
    return out;
  }

  // ---------------------------------------------------------------- helpers

  /**
   * The splice: {@code x} (possibly a caller tensor with a gradient) cast differentiably to the model
   * dtype and rounded; returns {@code x} itself under FP32. The result and every intermediate are
   * owned by {@code scope}, never by the caller's manager.
   */
  private NDArray toModelDtype(NDArray x, NDManager scope) {
    NDArray y = Numerics.cast(x, num.dtype());
    if (y == x) {
      if (!precision.isEmulated()) return x;
      y = Numerics.scale(x, 1f); // a scope-owned copy, so that the rounding's intermediates land in scope
    }
    adopt(y, scope);
    return num.round(y);
  }

  /** Moves a freshly created intermediate into the call scope. */
  static void adopt(NDArray fresh, NDManager scope) {
    if (fresh.getManager() != scope) fresh.attach(scope);
  }

  /**
   * Rows of {@code x [N, L, D]} at integer positions {@code [N, P]} (or {@code [P]} shared) →
   * {@code [N, P, D]}; differentiable w.r.t. {@code x}.
   */
  static NDArray gatherRows(NDArray x, NDArray positions) {
    NDManager scope = x.getManager();
    Shape s = x.getShape();
    long n = s.get(0);
    long d = s.get(2);
    NDArray idx = positions.toType(DataType.INT64, true);
    idx.attach(scope);
    if (idx.getShape().dimension() == 1) idx = idx.expandDims(0).broadcast(n, idx.getShape().get(0));
    if (idx.getShape().dimension() != 2 || idx.getShape().get(0) != n) {
      throw new IllegalArgumentException("readout positions must be [N,P] or [P], got " + positions.getShape());
    }
    long p = idx.getShape().get(1);
    return x.gather(idx.reshape(n, p, 1).broadcast(n, p, d), 1);
  }

  @Override
  public void close() {
    manager.close();
  }
}
