package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.TextInput;
import ai.promptline.ml.clip.TokenReplacement;
import ai.promptline.ml.clip.VisionInput;
import ai.promptline.ml.train.Batch;
import java.util.LinkedHashMap;
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
  private final CoupledPrompts coupled;
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
    p0 = ReadOnlyPrompts.baseRowsPlusUnitNoise(ctx, "ctx", ReadOnlyPrompts.eotEmbedding(ctx), n);
    coupled = new CoupledPrompts(ctx, depth, n);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("ctx", p0);
    coupled.putInto(p);
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
        VisionInput v = VisionInput.of(batch.requirePixels()).withAppended(coupled.vision0(p0)).withMasks(vision.masks());
        for (int l = 1; l <= coupled.deepLayers(); l++) {
          t = t.withReplacement(TokenReplacement.atRows(l, text.lenC(), coupled.text(l)));
          v = v.withReplacement(new TokenReplacement(l, -n, coupled.vision(l)));
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
        for (int l = 1; l <= coupled.deepLayers(); l++) {
          textDeep.put(l, coupled.text(l));
          visionDeep.put(l, coupled.vision(l));
        }
        NDArray tf = clip.encodeTextPrompts(cached, p0, textDeep);
        NDArray vf;
        try (ClipModel.ReadOnlyContext image = clip.readOnlyImage(batch.requirePixels())) {
          vf = clip.encodeImagePrompts(image, coupled.vision0(p0), visionDeep);
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
    p0.close();
    coupled.close();
  }
}
