package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.TextInput;
import ai.promptline.ml.clip.TokenReplacement;
import ai.promptline.ml.clip.VisionInput;
import ai.promptline.ml.train.Batch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * <p>The coupling and its reference initialisation: {@link CoupledPrompts}.
 */
public final class MaPLe implements PromptMethod {
  public static final String NAME = "maple";
  private final MethodContext ctx;
  private final TextPrompts.Context context;
  private final CoupledPrompts coupled;

  public MaPLe(MethodContext ctx) {
    this.ctx = ctx;
    int depth = ctx.options().intValue("depth");
    checkDepth(NAME, depth, ctx.clip());
    this.context = TextPrompts.maple(ctx, NAME, "ctx");
    this.coupled = new CoupledPrompts(ctx, depth, context.n());
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
    coupled.putInto(p);
    return p;
  }

  @Override
  public Head bind(ClassSet classes) {
    ClipModel clip = ctx.clip();
    TextPrompts.Layout layout = TextPrompts.layout(ctx, classes, context.prefix(), context.n());
    float scale = clip.logitScale();
    int n = context.n();
    TextCache cache = new TextCache(ctx.manager());
    return new Head() {
      @Override
      public NDArray logits(Batch batch) {
        return Features.cosineLogits(image(batch), text(), scale);
      }

      /** The text side depends on the prompts only: once per evaluation. */
      @Override
      public NDArray evaluationLogits(Batch batch) {
        return Features.cosineLogits(image(batch), cache.get(new ArrayList<>(parameters().values()), this::text), scale);
      }

      private NDArray text() {
        TextInput t = TextInput.ofEmbeddings(TextPrompts.assemble(layout, context.ctx()), layout.eot());
        for (int l = 1; l <= coupled.deepLayers(); l++) t = t.withReplacement(new TokenReplacement(l, 1, coupled.text(l)));
        return Features.normalize(clip.encodeText(t));
      }

      private NDArray image(Batch batch) {
        VisionInput v = VisionInput.of(batch.requirePixels()).withAppended(coupled.vision0(context.ctx()));
        for (int l = 1; l <= coupled.deepLayers(); l++) v = v.withReplacement(new TokenReplacement(l, -n, coupled.vision(l)));
        return Features.normalize(clip.encodeImage(v));
      }

      @Override
      public void close() {
        layout.close();
        cache.close();
      }
    };
  }

  @Override
  public void close() {
    context.ctx().close();
    coupled.close();
  }
}
