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
 * MRPO, multi-modal read-only prompt optimisation (seed document 000; no public code): MaPLe's
 * coupled deep prompts placed and masked as RPO's. Text prompts {@code ctx = P_0} and
 * {@code compound_prompts_text[l−1] = P_l} overwrite the rows right after each class prompt's EOT
 * (P_0 at the input, P_l before layer l = 1..J−1); vision prompts {@code proj(P_0)} are appended
 * after CLS + patches and {@code compound_prompt_projections[l−1](P_l)} replace the last n tokens
 * before layer l; RPO's read-only masks in every layer of both encoders; no positional embedding.
 *
 * <p>{@code readout = prompt-average} (default) pairs the k-th image and text prompt outputs and
 * averages the logits as RPO; {@code cls} reads CLS / EOT as MaPLe (then the masked prompts cannot
 * change the prediction: exposed for the ablation the seed spec asks for). Init: P_0 as RPO (EOT
 * embedding + 0.1 × unit noise), the rest as MaPLe. Note: since prompts read only original tokens
 * and each layer overwrites them, only {@code P_{J−1}} and its projection reach the logits; the
 * earlier prompts get exactly zero gradient (also in the reference construction).
 */
public final class Mrpo implements PromptMethod {
  public static final String NAME = "mrpo";
  private final MethodContext ctx;
  private final NDArray p0;
  private final NDArray projW;
  private final NDArray projB;
  private final List<NDArray> deepText = new ArrayList<>();
  private final List<NDArray[]> deepProj = new ArrayList<>();
  private final boolean cls;

  public Mrpo(MethodContext ctx) {
    this.ctx = ctx;
    int n = ctx.options().nCtx();
    int depth = ctx.options().intValue("depth");
    String readout = ctx.options().string("readout");
    if (!readout.equals("prompt-average") && !readout.equals("cls")) {
      throw new IllegalArgumentException("mrpo readout must be prompt-average or cls, got '" + readout + "'");
    }
    cls = readout.equals("cls");
    if (n < 1) throw new IllegalArgumentException("mrpo needs nCtx >= 1");
    MaPLe.checkDepth(NAME, depth, ctx.clip());
    int d = ctx.clip().config().textWidth();
    int dv = ctx.clip().config().visionWidth();
    p0 = ReadOnlyPrompts.baseRowsPlusUnitNoise(ctx, "ctx", ReadOnlyPrompts.eotEmbedding(ctx), n);
    NDArray[] p = Init.linear(ctx.manager(), ctx.seed(), "proj", dv, d);
    projW = p[0];
    projB = p[1];
    for (int i = 0; i < depth - 1; i++) {
      deepText.add(Init.normal(ctx.manager(), ctx.seed(), "compound_prompts_text." + i, new Shape(n, d), 0.02));
    }
    NDArray[] shared = Init.linear(ctx.manager(), ctx.seed(), "compound_prompt_projections", dv, d);
    for (int i = 0; i < depth - 1; i++) deepProj.add(new NDArray[] {Init.parameterFrom(shared[0]), Init.parameterFrom(shared[1])});
    shared[0].close();
    shared[1].close();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("ctx", p0);
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
    int n = (int) p0.getShape().get(0);
    ReadOnlyPrompts.Text text = ReadOnlyPrompts.text(ctx, classes, ctx.options().string("prompt"), n);
    ReadOnlyPrompts.Vision vision = ReadOnlyPrompts.vision(ctx, n);
    float scale = clip.logitScale();
    ClipModel.ReadOnlyContext cached = cls ? null : ReadOnlyPrompts.textCache(ctx, text);
    return new Head() {
      @Override
      public NDArray logits(Batch batch) {
        if (cached != null) return cachedLogits(batch);
        TextInput t = TextInput.ofTokens(text.ids()).withReplacement(TokenReplacement.atRows(0, text.lenC(), p0))
            .withMasks(text.masks());
        VisionInput v = VisionInput.of(batch.requirePixels())
            .withAppended(Linear.linear(p0, projW, projB).singletonOrThrow()).withMasks(vision.masks());
        for (int l = 1; l <= deepText.size(); l++) {
          NDArray p = deepText.get(l - 1);
          t = t.withReplacement(TokenReplacement.atRows(l, text.lenC(), p));
          NDArray[] f = deepProj.get(l - 1);
          v = v.withReplacement(new TokenReplacement(l, -n, Linear.linear(p, f[0], f[1]).singletonOrThrow()));
        }
        if (cls) {
          NDArray tf = Features.normalize(clip.encodeText(t));
          NDArray vf = Features.normalize(clip.encodeImage(v));
          return Features.cosineLogits(vf, tf, scale);
        }
        NDArray tf = clip.encodeText(t.withReadout(text.readout()));
        NDArray vf = clip.encodeImage(v.withReadout(vision.readout()));
        return ReadOnlyPrompts.pairedLogits(vf, tf, scale);
      }

      /** Only the prompt tokens through both towers, against cached keys and values (see Rpo). */
      private NDArray cachedLogits(Batch batch) {
        Map<Integer, NDArray> textDeep = new java.util.HashMap<>();
        Map<Integer, NDArray> visionDeep = new java.util.HashMap<>();
        for (int l = 1; l <= deepText.size(); l++) {
          NDArray p = deepText.get(l - 1);
          NDArray[] f = deepProj.get(l - 1);
          textDeep.put(l, p);
          visionDeep.put(l, Linear.linear(p, f[0], f[1]).singletonOrThrow());
        }
        NDArray tf = clip.encodeTextPrompts(cached, p0, textDeep);
        NDArray vf;
        try (ClipModel.ReadOnlyContext image = clip.readOnlyImage(batch.requirePixels())) {
          vf = clip.encodeImagePrompts(image, Linear.linear(p0, projW, projB).singletonOrThrow(), visionDeep);
        }
        return ReadOnlyPrompts.pairedLogits(vf, tf, scale);
      }

      @Override
      public void close() {
        text.close();
        vision.close();
        if (cached != null) cached.close();
      }
    };
  }

  @Override
  public void close() {
    parameters().values().forEach(NDArray::close);
  }
}
