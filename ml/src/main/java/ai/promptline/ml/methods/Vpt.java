package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.TokenReplacement;
import ai.promptline.ml.clip.VisionInput;
import ai.promptline.ml.train.Batch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * VPT-deep on CLIP, the MaPLe repository's baseline (muzairkhattak/multimodal-prompt-learning
 * trainers/vpt.py): vision prompts only. {@code image_encoder.VPT [nv, W]} is appended after the
 * positional embedding; before vision layer l = 1..J−1 the last nv tokens are replaced by
 * {@code image_encoder.transformer.resblocks.l.VPT_shallow}; all N(0, 0.02²). The text classifier is
 * fixed: {@code encode_text("<prompt> <class>.")}, computed once.
 */
public final class Vpt implements PromptMethod {
  public static final String NAME = "vpt";
  private final MethodContext ctx;
  private final NDArray shallow;
  private final List<NDArray> deep = new ArrayList<>();

  public Vpt(MethodContext ctx) {
    this.ctx = ctx;
    ClipModel clip = ctx.clip();
    int nv = ctx.options().intValue("nCtxVision");
    int depth = ctx.options().intValue("depthVision");
    if (nv < 1) throw new IllegalArgumentException("vpt needs nCtxVision >= 1");
    if (depth < 1 || depth > clip.config().visionLayers()) {
      throw new IllegalArgumentException("vpt depthVision " + depth + " must be between 1 and the image tower's "
          + clip.config().visionLayers() + " layers");
    }
    int dv = clip.config().visionWidth();
    shallow = Init.normal(ctx.manager(), ctx.seed(), "image_encoder.VPT", new Shape(nv, dv), 0.02);
    for (int l = 1; l < depth; l++) deep.add(Init.normal(ctx.manager(), ctx.seed(), Ivlp.visionName(l), new Shape(nv, dv), 0.02));
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("image_encoder.VPT", shallow);
    for (int i = 0; i < deep.size(); i++) p.put(Ivlp.visionName(i + 1), deep.get(i));
    return p;
  }

  @Override
  public Head bind(ClassSet classes) {
    String prompt = ctx.options().string("prompt").trim();
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < classes.size(); i++) prompts.add(prompt + " " + classes.cleaned(i) + ".");
    NDArray text = ZeroShotClip.fixedText(ctx, prompts);
    float scale = ctx.clip().logitScale();
    int nv = (int) shallow.getShape().get(0);
    return new Head() {
      @Override
      public NDArray logits(Batch batch) {
        VisionInput v = VisionInput.of(batch.requirePixels()).withAppended(shallow);
        for (int l = 1; l <= deep.size(); l++) v = v.withReplacement(new TokenReplacement(l, -nv, deep.get(l - 1)));
        return Features.cosineLogits(Features.normalize(ctx.clip().encodeImage(v)), text, scale);
      }

      @Override
      public void close() {
        text.close();
      }
    };
  }

  @Override
  public void close() {
    parameters().values().forEach(NDArray::close);
  }
}
