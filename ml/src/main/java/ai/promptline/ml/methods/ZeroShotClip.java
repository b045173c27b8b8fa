package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.promptline.ml.clip.ClipModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Zero-shot CLIP (CoOp's {@code ZeroshotCLIP}): text features of the dataset's hand template
 * with each class name, computed once; logits = exp(logit_scale)·cos. Nothing is trained.
 */
public final class ZeroShotClip implements PromptMethod {
  public static final String NAME = "zsclip";
  private final MethodContext ctx;

  public ZeroShotClip(MethodContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    return Map.of();
  }

  @Override
  public Head bind(ClassSet classes) {
    List<String> prompts = new ArrayList<>(classes.size());
    for (int i = 0; i < classes.size(); i++) prompts.add(classes.template().replace("{}", classes.cleaned(i)));
    NDArray text = fixedText(ctx, prompts);
    float scale = ctx.clip().logitScale();
    return new FeatureHead() {
      @Override
      public NDArray logitsOf(NDArray f) {
        return Features.cosineLogits(f, text, scale);
      }

      @Override
      public void close() {
        text.close();
      }
    };
  }

  /** Normalised text features of fixed prompts, computed once (no gradient). */
  static NDArray fixedText(MethodContext ctx, List<String> prompts) {
    ClipModel clip = ctx.clip();
    NDArray ids = ctx.manager().create(ctx.tokenizer().tokenize(prompts, clip.config().contextLength(), false));
    NDArray text = Features.normalize(clip.encodeText(ids));
    ids.close();
    return text;
  }

  @Override
  public void close() {}
}
