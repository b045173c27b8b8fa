package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
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
 * Independent vision-language prompting, the MaPLe repository's baselines
 * (muzairkhattak/multimodal-prompt-learning trainers/independentVL.py, clip/model.py
 * ResidualAttentionBlock_IVLP): text context {@code prompt_learner.ctx} at positions 1..n (MaPLe's
 * ctxInit rule) and, before text layer l = 1..J−1, positions 1..n replaced by the layer's own
 * {@code VPT_shallow}; vision prompts {@code image_encoder.VPT} appended after the positional
 * embedding and, before vision layer l = 1..Jv−1, the last nv tokens replaced by the layer's own
 * {@code VPT_shallow}. No coupling. All deep prompts N(0, 0.02²). The reference registers the
 * whole model, hence the {@code prompt_learner.} / {@code *_encoder.} names.
 *
 * <p>Two registry entries: {@code ivlp} (text and vision) and {@code deep-text} (deep language
 * prompting: no vision prompts, so the image tower is frozen and cached features suffice).
 */
public final class Ivlp implements PromptMethod {
  public static final String NAME = "ivlp";
  public static final String DEEP_TEXT = "deep-text";
  private final String name;
  private final MethodContext ctx;
  private final TextPrompts.Context context;
  private final List<NDArray> deepText = new ArrayList<>();
  private final NDArray visionShallow;
  private final List<NDArray> deepVision = new ArrayList<>();

  public static Ivlp ivlp(MethodContext c) {
    return new Ivlp(NAME, c, c.options().intValue("nCtxVision"), c.options().intValue("depthVision"));
  }

  public static Ivlp deepText(MethodContext c) {
    return new Ivlp(DEEP_TEXT, c, 0, 0);
  }

  private Ivlp(String name, MethodContext ctx, int nv, int depthVision) {
    this.name = name;
    this.ctx = ctx;
    ClipModel clip = ctx.clip();
    int depth = ctx.options().intValue("depth");
    if (depth < 1 || depth > clip.config().textLayers()) {
      throw new IllegalArgumentException(name + " depth " + depth + " must be between 1 and the text tower's "
          + clip.config().textLayers() + " layers");
    }
    if (nv > 0 && (depthVision < 1 || depthVision > clip.config().visionLayers())) {
      throw new IllegalArgumentException(name + " depthVision " + depthVision + " must be between 1 and the image tower's "
          + clip.config().visionLayers() + " layers");
    }
    this.context = TextPrompts.maple(ctx, name, "prompt_learner.ctx");
    int d = clip.config().textWidth();
    int dv = clip.config().visionWidth();
    for (int l = 1; l < depth; l++) {
      deepText.add(Init.normal(ctx.manager(), ctx.seed(), textName(l), new Shape(context.n(), d), 0.02));
    }
    visionShallow = nv > 0 ? Init.normal(ctx.manager(), ctx.seed(), "image_encoder.VPT", new Shape(nv, dv), 0.02) : null;
    for (int l = 1; nv > 0 && l < depthVision; l++) {
      deepVision.add(Init.normal(ctx.manager(), ctx.seed(), visionName(l), new Shape(nv, dv), 0.02));
    }
  }

  private static String textName(int layer) {
    return "text_encoder.transformer.resblocks." + layer + ".VPT_shallow";
  }

  static String visionName(int layer) {
    return "image_encoder.transformer.resblocks." + layer + ".VPT_shallow";
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("prompt_learner.ctx", context.ctx());
    if (visionShallow != null) p.put("image_encoder.VPT", visionShallow);
    for (int i = 0; i < deepVision.size(); i++) p.put(visionName(i + 1), deepVision.get(i));
    for (int i = 0; i < deepText.size(); i++) p.put(textName(i + 1), deepText.get(i));
    return p;
  }

  @Override
  public Head bind(ClassSet classes) {
    ClipModel clip = ctx.clip();
    TextPrompts.Layout layout = TextPrompts.layout(ctx, classes, context.prefix(), context.n());
    float scale = clip.logitScale();
    TextCache cache = new TextCache(ctx.manager());
    return new Head() {
      @Override
      public NDArray logits(Batch batch) {
        return logits(batch, text());
      }

      @Override
      public NDArray evaluationLogits(Batch batch) {
        List<NDArray> textParams = new ArrayList<>(deepText);
        textParams.add(0, context.ctx());
        return logits(batch, cache.get(textParams, this::text));
      }

      private NDArray text() {
        TextInput t = TextInput.ofEmbeddings(TextPrompts.assemble(layout, context.ctx()), layout.eot());
        for (int l = 1; l <= deepText.size(); l++) t = t.withReplacement(new TokenReplacement(l, 1, deepText.get(l - 1)));
        return Features.normalize(clip.encodeText(t));
      }

      private NDArray logits(Batch batch, NDArray text) {
        NDArray img = visionShallow == null ? batch.requireFeatures() : Features.normalize(clip.encodeImage(vision(batch)));
        return Features.cosineLogits(img, text, scale);
      }

      @Override
      public void close() {
        layout.close();
        cache.close();
      }
    };
  }

  private VisionInput vision(Batch batch) {
    VisionInput v = VisionInput.of(batch.requirePixels()).withAppended(visionShallow);
    int nv = (int) visionShallow.getShape().get(0);
    for (int l = 1; l <= deepVision.size(); l++) v = v.withReplacement(new TokenReplacement(l, -nv, deepVision.get(l - 1)));
    return v;
  }

  @Override
  public void close() {
    parameters().values().forEach(NDArray::close);
  }
}
