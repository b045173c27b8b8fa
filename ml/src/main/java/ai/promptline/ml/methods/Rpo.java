package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.TextInput;
import ai.promptline.ml.clip.TokenReplacement;
import ai.promptline.ml.clip.VisionInput;
import ai.promptline.ml.train.Batch;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Map;

/**
 * RPO, read-only prompt optimisation (Lee et al., ICCV'23; mlvlab/RPO trainers/rpo.py): K text
 * prompts {@code text_prompt [K, D]} overwrite the rows right after each class prompt's EOT and K
 * image prompts {@code img_prompt [K, W]} are appended after CLS + patches, both without positional
 * embedding; masks keep every original token from attending to a prompt (read-only), the prompt
 * outputs are read out, and logits are averaged over the K (image, text) pairs. Init: the EOT token
 * embedding (text) or the class embedding (image), repeated, plus 0.1 × a random unit vector.
 *
 * <p>Beyond the reference, the read-only property is used for speed ({@code readOnlyCache}, on by
 * default): the original tokens' activations are those of frozen CLIP, so each class prompt's keys
 * and values are computed once per label space, each batch's image keys and values once without a
 * gradient, and every step runs only the K prompt tokens through the towers — the same values as
 * the masked full pass (tested within 1e-5).
 */
public final class Rpo implements PromptMethod {
  public static final String NAME = "rpo";
  private final MethodContext ctx;
  private final NDArray textPrompt;
  private final NDArray imgPrompt;

  public Rpo(MethodContext ctx) {
    this.ctx = ctx;
    int k = ctx.options().intValue("k");
    if (k < 1) throw new IllegalArgumentException("rpo needs k >= 1");
    textPrompt = ReadOnlyPrompts.baseRowsPlusUnitNoise(ctx, "text_prompt", ReadOnlyPrompts.eotEmbedding(ctx), k);
    imgPrompt = ReadOnlyPrompts.baseRowsPlusUnitNoise(ctx, "img_prompt", ctx.clip().weights().get("visual.class_embedding"), k);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("text_prompt", textPrompt);
    p.put("img_prompt", imgPrompt);
    return p;
  }

  @Override
  public Head bind(ClassSet classes) {
    ClipModel clip = ctx.clip();
    int k = (int) textPrompt.getShape().get(0);
    ReadOnlyPrompts.Text text = ReadOnlyPrompts.text(ctx, classes, ctx.options().string("prompt"), k);
    ReadOnlyPrompts.Vision vision = ReadOnlyPrompts.vision(ctx, k);
    ClipModel.ReadOnlyContext cached = ReadOnlyPrompts.textCache(ctx, text);
    float scale = clip.logitScale();
    return new Head() {
      @Override
      public NDArray logits(Batch batch) {
        NDArray t = cached != null ? clip.encodeTextPrompts(cached, textPrompt, Map.of())
            : clip.encodeText(TextInput.ofTokens(text.ids())
                .withReplacement(TokenReplacement.atRows(0, text.lenC(), textPrompt))
                .withMasks(text.masks()).withReadout(text.readout()));
        NDArray v;
        if (cached != null) {
          try (ClipModel.ReadOnlyContext image = clip.readOnlyImage(batch.requirePixels())) {
            v = clip.encodeImagePrompts(image, imgPrompt, Map.of());
          }
        } else {
          v = clip.encodeImage(VisionInput.of(batch.requirePixels()).withAppended(imgPrompt)
              .withMasks(vision.masks()).withReadout(vision.readout()));
        }
        return ReadOnlyPrompts.pairedLogits(v, t, scale);
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
    textPrompt.close();
    imgPrompt.close();
  }
}
