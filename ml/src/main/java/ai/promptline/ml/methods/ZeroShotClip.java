package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.promptline.ml.clip.ClipModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Zero-shot CLIP (KaiyangZhou/CoOp:trainers/zsclip.py {@code ZeroshotCLIP}): text features of the
 * dataset's hand template with each class name, computed once; logits = exp(logit_scale)·cos.
 * Nothing is trained.
 *
 * <p>Option {@code templates}: {@code single} (default, the hand template), {@code ensemble} (the
 * dataset's CLIP prompt templates) or {@code coop-ensemble} (CoOp's {@code ZeroshotCLIP2} list); see
 * {@link ClipTemplates}. An ensemble is CoOp's {@code ZeroshotCLIP2} (and openai/CLIP's
 * notebooks/Prompt_Engineering_for_ImageNet.ipynb {@code zeroshot_classifier}): per template the
 * normalised text features of every class, averaged over templates, re-normalised.
 */
public final class ZeroShotClip implements PromptMethod {
  public static final String NAME = "zsclip";
  private final MethodContext ctx;
  private final String templates;

  public ZeroShotClip(MethodContext ctx) {
    this.ctx = ctx;
    this.templates = ClipTemplates.checkMode(ctx.options().values().getOrDefault("templates", ClipTemplates.SINGLE).trim());
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
    List<String> list = ClipTemplates.of(templates, classes.dataset(), classes.template());
    NDArray text = list.size() == 1 && templates.equals(ClipTemplates.SINGLE) ? fixedText(ctx, prompts(classes, list.get(0)))
        : ensemble(ctx, classes, list);
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

  private static List<String> prompts(ClassSet classes, String template) {
    List<String> prompts = new ArrayList<>(classes.size());
    for (int i = 0; i < classes.size(); i++) prompts.add(template.replace("{}", classes.cleaned(i)));
    return prompts;
  }

  /** ZeroshotCLIP2: Σ_t normalise(text(t, classes)) / T, re-normalised, in the templates' order. */
  static NDArray ensemble(MethodContext ctx, ClassSet classes, List<String> templates) {
    NDArray sum = null;
    for (String t : templates) {
      NDArray f = fixedText(ctx, prompts(classes, t));
      if (sum == null) {
        sum = f;
      } else {
        NDArray s = sum.add(f);
        sum.close();
        f.close();
        sum = s;
      }
    }
    NDArray mean = ai.promptline.ml.clip.Numerics.scale(sum, 1f / templates.size());
    sum.close();
    NDArray out = Features.normalize(mean);
    mean.close();
    return out;
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
