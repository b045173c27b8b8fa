package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.TextInput;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CoOp (Zhou et al., IJCV'22; KaiyangZhou/CoOp trainers/coop.py): M learnable context vectors
 * shared by all classes replace the words before the class name,
 * {@code [SOS][ctx_1..ctx_M][class tokens][.][EOT]}, and go through the frozen text encoder with
 * positional embeddings like words. Unified context, class token at the end.
 *
 * <p>With {@code ctxInit} (e.g. {@code "a photo of a"}) the context starts from those words'
 * token embeddings and M is their count; otherwise from N(0, 0.02²) behind an "X X X X" prompt.
 * Learned tensor: {@code ctx [M, D]} (Dassl registers the prompt learner).
 */
public final class CoOp implements PromptMethod {
  public static final String NAME = "coop";
  private final MethodContext ctx;
  private final TextPrompts.Context context;

  public CoOp(MethodContext ctx) {
    this.ctx = ctx;
    this.context = TextPrompts.coop(ctx, NAME);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("ctx", context.ctx());
    return p;
  }

  @Override
  public Head bind(ClassSet classes) {
    ClipModel clip = ctx.clip();
    TextPrompts.Layout layout = TextPrompts.layout(ctx, classes, context.prefix(), context.n());
    float scale = clip.logitScale();
    TextCache cache = new TextCache(ctx.manager());
    return new FeatureHead() {
      @Override
      public NDArray logitsOf(NDArray f) {
        return Features.cosineLogits(f, text(), scale);
      }

      private NDArray text() {
        NDArray prompts = TextPrompts.assemble(layout, context.ctx());
        return Features.normalize(clip.encodeText(TextInput.ofEmbeddings(prompts, layout.eot())));
      }

      @Override
      public NDArray evaluationLogits(ai.promptline.ml.train.Batch batch) {
        return Features.cosineLogits(batch.requireFeatures(), cache.get(java.util.List.of(context.ctx()), this::text), scale);
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
  }
}
