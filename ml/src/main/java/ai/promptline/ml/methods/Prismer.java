package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.promptline.ml.clip.BlockAdaptor;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.Numerics;
import ai.promptline.ml.clip.VisionInput;
import ai.promptline.ml.train.Batch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prismer-style frozen experts for classification (Liu et al., "Prismer", TMLR'24;
 * NVlabs/prismer model/modules/{utils,resampler,vit}.py): the CLIP stays frozen; residual adaptors
 * in the image tower's blocks and a Perceiver resampler over the tokens of further frozen expert
 * encoders train; the text side is the fixed classifier of the dataset template (Prismer's
 * "A photo of a [CLASS]" caption), computed once per bind.
 *
 * <p><b>Adaptor</b> (NVlabs/prismer model/modules/utils.py {@code Adaptor}, {@code norm_late=False}),
 * in each of the last {@code adaptorLayers} blocks after the attention residual, before the MLP
 * (model/modules/vit.py {@code Transformer.forward}):
 * {@code x + up_proj(SquaredReLU(down_proj(adaptor_ln(x))))}, SquaredReLU = relu². Hidden width
 * {@code bottleneck} (0 = the block width, Prismer's {@code embed_dim // 1}). Initialisation as
 * Prismer: PyTorch's default {@code nn.Linear} (U(±1/√in)) for both projections — up_proj is
 * <i>not</i> zero-initialised there, so the adaptors perturb the features from step 0 — and
 * LayerNorm ones/zeros.
 *
 * <p><b>Experts resampler</b> (model/modules/resampler.py {@code PerceiverResampler}):
 * {@code latents [L, W] = W^-½·randn}; {@code resamplerDepth} blocks, each
 * {@code latents += MHA(q = ln_1(latents), kv = [ln_1(latents); ln_2(x)])},
 * {@code latents += c_proj(SquaredReLU(c_fc(ln_ff(latents))))} (MLP 4W; {@code nn.MultiheadAttention}
 * init: xavier-uniform in_proj, zero biases). {@code x} is the concatenation along the token axis
 * of every expert's output tokens ({@link ClipModel#encodeImageTokens}), each through its own
 * learned {@code expert_proj.i} Linear (expert width → W). Experts are frozen and run on the batch
 * pixels at the main model's resolution without gradients (their tokens are detached). Prismer
 * feeds the resampler's latents into the ViT as extra tokens for its language decoder; a classifier
 * has no decoder, so here the output joins the image feature instead: mean over the latents →
 * {@code resampler_head} Linear(W → E), zero-initialised, added to the (adapted) CLIP image feature
 * before L2 normalisation. A zero head makes the expert branch exactly silent at step 0 (the logits
 * are those of the adapted CLIP) while its weight still gets a gradient, so the branch opens only as
 * far as it lowers the loss, and an unhelpful expert cannot wreck the pretrained embedding.
 *
 * <p>Without experts it is the adaptor-only ablation (no resampler tensors).
 */
public final class Prismer implements PromptMethod {
  public static final String NAME = "prismer";

  private record Adaptor(NDArray lnW, NDArray lnB, NDArray downW, NDArray downB, NDArray upW, NDArray upB) {}

  private record Block(NDArray inW, NDArray inB, NDArray outW, NDArray outB, NDArray fcW, NDArray fcB, NDArray projW,
      NDArray projB, NDArray ln1W, NDArray ln1B, NDArray ln2W, NDArray ln2B, NDArray lnFfW, NDArray lnFfB) {}

  private final MethodContext ctx;
  private final Map<String, NDArray> params = new LinkedHashMap<>();
  private final int firstAdapted;
  private final List<Adaptor> adaptors = new ArrayList<>();
  private final List<NDArray[]> expertProj = new ArrayList<>();
  private final List<Block> blocks = new ArrayList<>();
  private final int heads;
  private NDArray latents;
  private NDArray headW;
  private NDArray headB;

  public Prismer(MethodContext ctx) {
    this.ctx = ctx;
    ClipModel clip = ctx.clip();
    ClipConfig cfg = clip.config();
    if (cfg.visionKind() != ClipConfig.VisionKind.VIT)
      throw new IllegalArgumentException("prismer adapts the ViT image tower; the main model is a ModifiedResNet; use a ViT checkpoint");
    int layers = cfg.visionLayers();
    int nAdapted = adaptorLayers(ctx.options().string("adaptorLayers"), layers);
    firstAdapted = layers - nAdapted;
    int d = cfg.visionWidth();
    int hidden = ctx.options().intValue("bottleneck") == 0 ? d : ctx.options().intValue("bottleneck");
    long seed = ctx.seed();
    for (int l = firstAdapted; l < layers; l++) {
      String p = "transformer.resblocks." + l + ".1.";
      NDArray lnW = constant(p + "adaptor_ln.weight", new Shape(d), 1f);
      NDArray lnB = constant(p + "adaptor_ln.bias", new Shape(d), 0f);
      NDArray[] down = linear(p + "adaptor.down_proj", hidden, d);
      NDArray[] up = linear(p + "adaptor.up_proj", d, hidden);
      adaptors.add(new Adaptor(lnW, lnB, down[0], down[1], up[0], up[1]));
    }
    List<MethodContext.Expert> experts = ctx.experts();
    int width = ctx.options().intValue("resamplerWidth") == 0 ? d : ctx.options().intValue("resamplerWidth");
    heads = ctx.options().intValue("resamplerHeads");
    if (!experts.isEmpty()) {
      int nLatents = ctx.options().intValue("latents");
      int depth = ctx.options().intValue("resamplerDepth");
      if (nLatents < 1 || depth < 1)
        throw new IllegalArgumentException("prismer with experts needs latents >= 1 and resamplerDepth >= 1, got latents="
            + nLatents + ", resamplerDepth=" + depth);
      if (heads < 1 || width % heads != 0)
        throw new IllegalArgumentException("prismer resamplerWidth " + width + " must be divisible by resamplerHeads " + heads
            + "; set resamplerHeads to a divisor of the width");
      for (int i = 0; i < experts.size(); i++) {
        ClipModel e = experts.get(i).model();
        if (e.config().imageResolution() != cfg.imageResolution())
          throw new IllegalArgumentException("prismer expert '" + experts.get(i).name() + "' takes " + e.config().imageResolution()
              + " px images but the main model takes " + cfg.imageResolution() + " px; experts run on the main model's pixels: "
              + "use an expert checkpoint with input resolution " + cfg.imageResolution());
        expertProj.add(linear("expert_proj." + i, width, e.config().visionTokenWidth()));
      }
      float[] lat = Init.normal(Init.rng(seed, "resampler.latents"), nLatents * width, 1.0 / Math.sqrt(width));
      latents = put("resampler.latents", Init.parameter(ctx.manager(), lat, new Shape(nLatents, width)));
      for (int b = 0; b < depth; b++) {
        String p = "resampler.perceiver_blocks." + b + ".";
        double xavier = Math.sqrt(6.0 / (width + 3 * width)); // xavier_uniform_ on in_proj_weight [3W, W]
        NDArray inW = put(p + "attn.in_proj_weight", Init.parameter(ctx.manager(),
            Init.uniform(Init.rng(seed, p + "attn.in_proj_weight"), 3 * width * width, xavier), new Shape(3L * width, width)));
        NDArray inB = constant(p + "attn.in_proj_bias", new Shape(3L * width), 0f);
        NDArray outW = put(p + "attn.out_proj.weight", Init.linear(ctx.manager(), seed, p + "attn.out_proj", width, width)[0]);
        NDArray outB = constant(p + "attn.out_proj.bias", new Shape(width), 0f);
        NDArray[] fc = linear(p + "mlp.c_fc", 4 * width, width);
        NDArray[] proj = linear(p + "mlp.c_proj", width, 4 * width);
        blocks.add(new Block(inW, inB, outW, outB, fc[0], fc[1], proj[0], proj[1],
            constant(p + "ln_1.weight", new Shape(width), 1f), constant(p + "ln_1.bias", new Shape(width), 0f),
            constant(p + "ln_2.weight", new Shape(width), 1f), constant(p + "ln_2.bias", new Shape(width), 0f),
            constant(p + "ln_ff.weight", new Shape(width), 1f), constant(p + "ln_ff.bias", new Shape(width), 0f)));
      }
      headW = constant("resampler_head.weight", new Shape(cfg.embedDim(), width), 0f);
      headB = constant("resampler_head.bias", new Shape(cfg.embedDim()), 0f);
    }
  }

  /** {@code all} or a count 0..layers of the last blocks that get an adaptor. */
  static int adaptorLayers(String v, int layers) {
    String s = v == null ? "all" : v.trim();
    if (s.equals("all")) return layers;
    try {
      int n = Integer.parseInt(s);
      if (n >= 0 && n <= layers) return n;
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("prismer adaptorLayers must be 'all' or a number between 0 and the image tower's "
        + layers + " layers, got '" + v + "'");
  }

  private NDArray put(String name, NDArray p) {
    params.put(name, p);
    return p;
  }

  private NDArray constant(String name, Shape shape, float value) {
    float[] v = new float[Math.toIntExact(shape.size())];
    java.util.Arrays.fill(v, value);
    return put(name, Init.parameter(ctx.manager(), v, shape));
  }

  private NDArray[] linear(String name, int out, int in) {
    NDArray[] wb = Init.linear(ctx.manager(), ctx.seed(), name, out, in);
    put(name + ".weight", wb[0]);
    put(name + ".bias", wb[1]);
    return wb;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    return params;
  }

  @Override
  public Head bind(ClassSet classes) {
    List<String> prompts = new ArrayList<>(classes.size());
    for (int i = 0; i < classes.size(); i++) prompts.add(classes.template().replace("{}", classes.cleaned(i)));
    NDArray text = ZeroShotClip.fixedText(ctx, prompts);
    float scale = ctx.clip().logitScale();
    BlockAdaptor adaptor = adaptors.isEmpty() ? BlockAdaptor.NONE : this::adapt;
    return new Head() {
      @Override
      public NDArray logits(Batch batch) {
        NDArray pixels = batch.requirePixels();
        NDArray image = ctx.clip().encodeImage(VisionInput.of(pixels).withAdaptor(adaptor));
        if (latents != null) image = image.add(resample(pixels));
        return Features.cosineLogits(Features.normalize(image), text, scale);
      }

      @Override
      public void close() {
        text.close();
      }
    };
  }

  /** {@code x + up(SquaredReLU(down(LN(x))))} in the adapted blocks; identity before them. */
  private NDArray adapt(int layer, NDArray x) {
    if (layer < firstAdapted) return x;
    Adaptor a = adaptors.get(layer - firstAdapted);
    NDArray h = layerNorm(x, a.lnW(), a.lnB());
    h = sqRelu(Linear.linear(h, a.downW(), a.downB()).singletonOrThrow());
    return x.add(Linear.linear(h, a.upW(), a.upB()).singletonOrThrow());
  }

  /** The expert branch: resampled expert tokens → mean latent → head, {@code [N, E]}. */
  private NDArray resample(NDArray pixels) {
    List<MethodContext.Expert> experts = ctx.experts();
    NDList projected = new NDList();
    for (int i = 0; i < experts.size(); i++) {
      NDArray tokens = experts.get(i).model().encodeImageTokens(pixels).stopGradient(); // frozen, no gradient
      projected.add(Linear.linear(tokens, expertProj.get(i)[0], expertProj.get(i)[1]).singletonOrThrow());
    }
    NDArray x = projected.size() == 1 ? projected.get(0) : NDArrays.concat(projected, 1); // [N, T, W]
    long n = x.getShape().get(0);
    long w = latents.getShape().get(1);
    NDArray lat = latents.expandDims(0).broadcast(n, latents.getShape().get(0), w);
    for (Block b : blocks) {
      NDArray q = layerNorm(lat, b.ln1W(), b.ln1B());
      NDArray kv = NDArrays.concat(new NDList(q, layerNorm(x, b.ln2W(), b.ln2B())), 1);
      lat = lat.add(attention(q, kv, b));
      NDArray h = layerNorm(lat, b.lnFfW(), b.lnFfB());
      h = sqRelu(Linear.linear(h, b.fcW(), b.fcB()).singletonOrThrow());
      lat = lat.add(Linear.linear(h, b.projW(), b.projB()).singletonOrThrow());
    }
    return Linear.linear(lat.mean(new int[] {1}), headW, headB).singletonOrThrow();
  }

  /** {@code nn.MultiheadAttention(q, kv, kv)}: packed in_proj, softmax(q·kᵀ/√hd)·v, out_proj. */
  private NDArray attention(NDArray q, NDArray kv, Block b) {
    long n = q.getShape().get(0);
    long lq = q.getShape().get(1);
    long lk = kv.getShape().get(1);
    long w = q.getShape().get(2);
    long hd = w / heads;
    NDList ws = b.inW().split(3, 0); // views (torch chunk): a cheap backward, unlike index slicing
    NDList bs = b.inB().split(3, 0);
    NDArray qq = Linear.linear(q, ws.get(0), bs.get(0)).singletonOrThrow();
    NDArray kk = Linear.linear(kv, ws.get(1), bs.get(1)).singletonOrThrow();
    NDArray vv = Linear.linear(kv, ws.get(2), bs.get(2)).singletonOrThrow();
    qq = Numerics.scale(qq.reshape(n, lq, heads, hd).transpose(0, 2, 1, 3), (float) (1.0 / Math.sqrt(hd))); // never mul(Number) on a tracked tensor
    kk = kk.reshape(n, lk, heads, hd).transpose(0, 2, 3, 1);
    vv = vv.reshape(n, lk, heads, hd).transpose(0, 2, 1, 3);
    NDArray att = qq.matMul(kk).softmax(-1).matMul(vv).transpose(0, 2, 1, 3).reshape(n, lq, w);
    return Linear.linear(att, b.outW(), b.outB()).singletonOrThrow();
  }

  private static NDArray sqRelu(NDArray x) {
    NDArray r = ai.djl.nn.Activation.relu(x);
    return r.mul(r);
  }

  private static NDArray layerNorm(NDArray x, NDArray w, NDArray b) {
    return LayerNorm.layerNorm(x, new Shape(w.getShape().get(0)), w, b, 1e-5f).singletonOrThrow();
  }

  @Override
  public void close() {
    params.values().forEach(NDArray::close);
  }
}
