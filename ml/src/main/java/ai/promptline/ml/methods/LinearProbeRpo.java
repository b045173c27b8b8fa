package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.Numerics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The "LP" baseline of RPO's base-to-novel tables (mlvlab/RPO trainers/linear_prob.py, trainer
 * {@code LP}): a learnable {@code Linear(E, E)} — weight initialised to the identity, bias to zero
 * — on the <em>un-normalised</em> image feature, against the fixed text classifier of a prompt
 * ({@code cfg.TRAINER.LP.PROMPT}, default {@code "A photo of a {cls_name}"}, no full stop, class
 * names as given), text features L2-normalised and computed once:
 * {@code logits = exp(logit_scale) · lp(f) · Tᵀ}. As in the reference, {@code lp(f)} is <em>not</em>
 * normalised (the normalisation line is commented out there). Cross-entropy; trained by the shared
 * loop on cached features (the reference recipe, configs/trainers/LP/vit_b16_c4_ep10_batch1_ctxv1.yaml:
 * batch 32, SGD lr 0.0005, 30 epochs, 1 warm-up epoch at 1e-5, cosine, fp32). The text classifier
 * lets it score novel classes, so base-to-novel applies.
 *
 * <p>Learned tensors: {@code weight [E, E]}, {@code bias [E]} (the reference registers
 * {@code lp_layer}, so its checkpoints name them so; {@code lp_layer.} is also accepted).
 */
public final class LinearProbeRpo implements PromptMethod {
  public static final String NAME = "linear-probe-rpo";
  private final MethodContext ctx;
  private final NDArray weight;
  private final NDArray bias;

  public LinearProbeRpo(MethodContext ctx) {
    this.ctx = ctx;
    int e = ctx.clip().config().embedDim();
    weight = ctx.manager().eye(e).toType(DataType.FLOAT32, false);
    bias = ctx.manager().zeros(new Shape(e));
    weight.setRequiresGradient(true);
    bias.setRequiresGradient(true);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("weight", weight);
    p.put("bias", bias);
    return p;
  }

  @Override
  public void loadStateDict(Map<String, NDArray> state) {
    Map<String, NDArray> s = new LinkedHashMap<>(state);
    state.forEach((k, v) -> {
      if (k.startsWith("lp_layer.")) s.putIfAbsent(k.substring("lp_layer.".length()), v);
    });
    StateDicts.load(NAME, parameters(), s);
  }

  @Override
  public Head bind(ClassSet classes) {
    String prompt = ctx.options().string("prompt");
    if (!prompt.contains("{cls_name}"))
      throw new IllegalArgumentException("linear-probe-rpo option prompt must contain {cls_name}, got '" + prompt + "'");
    List<String> prompts = new ArrayList<>(classes.size());
    for (int i = 0; i < classes.size(); i++) prompts.add(prompt.replace("{cls_name}", classes.names().get(i)));
    NDArray text = ZeroShotClip.fixedText(ctx, prompts);
    float scale = ctx.clip().logitScale();
    return new FeatureHead() {
      @Override
      public NDArray logitsOf(NDArray rawFeatures) {
        NDArray projected = rawFeatures.matMul(weight.transpose()).add(bias);
        return Numerics.scale(projected.matMul(text.transpose()), scale);
      }

      @Override
      public void close() {
        text.close();
      }
    };
  }

  @Override
  public void close() {
    weight.close();
    bias.close();
  }
}
