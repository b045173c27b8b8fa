package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.TextInput;
import ai.promptline.ml.clip.TokenReplacement;
import ai.promptline.ml.clip.VisionInput;
import ai.promptline.ml.train.Batch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MaPLe (Khattak et al., CVPR'23; muzairkhattak/multimodal-prompt-learning trainers/maple.py):
 * coupled deep prompts. Text: {@code ctx} sits at positions 1..n of {@code "<ctxInit> <class>."}
 * (MaPLe keeps the whole ctxInit string, so with n = 2 "of a" stay fixed words), and before text
 * layer l = 1..J−1 positions 1..n are replaced by {@code compound_prompts_text[l−1]}. Vision:
 * {@code proj(ctx)} is appended after the positional embedding (before ln_pre), and before vision
 * layer l the last n tokens are replaced by {@code compound_prompt_projections[l−1](compound_prompts_text[l−1])}.
 * CLS / EOT pooling; logits {@code s·cos}.
 *
 * <p>Init as the reference: {@code proj} nn.Linear default, deep text prompts N(0, 0.02²), and the
 * J−1 projections start as copies of one freshly initialised Linear (deepcopy).
 */
public final class MaPLe implements PromptMethod {
  public static final String NAME = "maple";
  private final MethodContext ctx;
  private final TextPrompts.Context context;
  private final NDArray projW;
  private final NDArray projB;
  private final List<NDArray> deepText = new ArrayList<>();
  private final List<NDArray[]> deepProj = new ArrayList<>();

  public MaPLe(MethodContext ctx) {
    this.ctx = ctx;
    int depth = ctx.options().intValue("depth");
    checkDepth(NAME, depth, ctx.clip());
    this.context = TextPrompts.maple(ctx, NAME, "ctx");
    int d = ctx.clip().config().textWidth();
    int dv = ctx.clip().config().visionWidth();
    NDArray[] p = Init.linear(ctx.manager(), ctx.seed(), "proj", dv, d);
    projW = p[0];
    projB = p[1];
    for (int i = 0; i < depth - 1; i++) {
      deepText.add(Init.normal(ctx.manager(), ctx.seed(), "compound_prompts_text." + i, new Shape(context.n(), d), 0.02));
    }
    NDArray[] shared = Init.linear(ctx.manager(), ctx.seed(), "compound_prompt_projections", dv, d);
    for (int i = 0; i < depth - 1; i++) {
      deepProj.add(new NDArray[] {Init.parameterFrom(shared[0]), Init.parameterFrom(shared[1])});
    }
    shared[0].close();
    shared[1].close();
  }

  /** Prompt depth J must fit both towers. */
  static void checkDepth(String method, int depth, ClipModel clip) {
    int layers = Math.min(clip.config().textLayers(), clip.config().visionLayers());
    if (depth < 1 || depth > layers) {
      throw new IllegalArgumentException(method + " depth " + depth + " must be between 1 and the model's "
          + layers + " layers (text " + clip.config().textLayers() + ", vision " + clip.config().visionLayers() + ")");
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("ctx", context.ctx());
    p.put("proj.weight", projW);
    p.put("proj.bias", projB);
    for (int i = 0; i < deepText.size(); i++) p.put("compound_prompts_text." + i, deepText.get(i));
    for (int i = 0; i < deepProj.size(); i++) {
      p.put("compound_prompt_projections." + i + ".weight", deepProj.get(i)[0]);
      p.put("compound_prompt_projections." + i + ".bias", deepProj.get(i)[1]);
    }
    return p;
  }

  @Override
  public Head bind(ClassSet classes) {
    ClipModel clip = ctx.clip();
    TextPrompts.Layout layout = TextPrompts.layout(ctx, classes, context.prefix(), context.n());
    float scale = clip.logitScale();
    int n = context.n();
    return new Head() {
      @Override
      public NDArray logits(Batch batch) {
        TextInput t = TextInput.ofEmbeddings(TextPrompts.assemble(layout, context.ctx()), layout.eot());
        VisionInput v = VisionInput.of(batch.requirePixels())
            .withAppended(Linear.linear(context.ctx(), projW, projB).singletonOrThrow());
        for (int l = 1; l <= deepText.size(); l++) {
          NDArray p = deepText.get(l - 1);
          t = t.withReplacement(new TokenReplacement(l, 1, p));
          NDArray[] f = deepProj.get(l - 1);
          v = v.withReplacement(new TokenReplacement(l, -n, Linear.linear(p, f[0], f[1]).singletonOrThrow()));
        }
        NDArray text = Features.normalize(clip.encodeText(t));
        NDArray img = Features.normalize(clip.encodeImage(v));
        return Features.cosineLogits(img, text, scale);
      }

      @Override
      public void close() {
        layout.close();
      }
    };
  }

  @Override
  public void close() {
    parameters().values().forEach(NDArray::close);
  }
}
