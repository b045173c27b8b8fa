package ai.promptline.ml.pretrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipWeights;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The initialisation of a CLIP trained from scratch, following the reference
 * {@code CLIP.initialize_parameters} (openai/CLIP:clip/model.py) and, for the ViT tower, PyTorch's
 * module defaults that the reference leaves in place:
 *
 * <ul>
 *   <li>token embedding N(0, 0.02), text positional embedding N(0, 0.01);
 *   <li>text blocks: in_proj N(0, w^-½), out_proj and c_proj N(0, w^-½·(2L)^-½), c_fc N(0, (2w)^-½);
 *       text_projection N(0, w^-½);
 *   <li>vision: class/positional embedding and proj {@code w^-½ · N(0, 1)}; conv1 and the blocks'
 *       linear layers Kaiming-uniform as {@code nn.Conv2d}/{@code nn.Linear}, in_proj Xavier-uniform
 *       as {@code nn.MultiheadAttention};
 *   <li>every bias 0, LayerNorm 1/0, {@code logit_scale = ln(1/0.07)}.
 * </ul>
 *
 * <p>One deliberate difference: token-embedding rows outside {@code usedTokens} start at zero
 * instead of N(0, 0.02). Rows that never occur in the corpus receive no gradient, so with AdamW
 * (zero moments give a zero update, decay of zero is zero) they stay exactly zero and the shipped
 * checkpoint compresses to the rows actually learned.
 */
public final class ClipInit {
  private ClipInit() {}

  public static Map<String, NDArray> initialise(ClipConfig c, BitSet usedTokens, long seed, NDManager manager) {
    if (c.visionKind() != ClipConfig.VisionKind.VIT) throw new IllegalArgumentException("pretraining supports ViT image towers only");
    Map<String, NDArray> out = new LinkedHashMap<>();
    SplittableRandom root = new SplittableRandom(seed);
    int tw = c.textWidth();
    int vw = c.visionWidth();
    for (Map.Entry<String, Shape> e : ClipWeights.expectedShapes(c).entrySet()) {
      String k = e.getKey();
      Shape s = e.getValue();
      SplittableRandom rng = root.split();
      float[] v = new float[Math.toIntExact(s.size())];
      if (k.equals("logit_scale")) {
        v[0] = (float) Math.log(1 / 0.07);
      } else if (k.endsWith("ln_1.weight") || k.endsWith("ln_2.weight") || k.matches(".*ln_(pre|post|final)\\.weight")) {
        java.util.Arrays.fill(v, 1f);
      } else if (k.endsWith("bias")) {
        // zero
      } else if (k.equals("token_embedding.weight")) {
        int width = (int) s.get(1);
        for (int row = usedTokens.nextSetBit(0); row >= 0; row = usedTokens.nextSetBit(row + 1)) {
          for (int j = 0; j < width; j++) v[row * width + j] = (float) (0.02 * rng.nextGaussian());
        }
      } else if (k.equals("positional_embedding")) {
        normal(v, 0.01, rng);
      } else if (k.equals("text_projection")) {
        normal(v, Math.pow(tw, -0.5), rng);
      } else if (k.startsWith("transformer.")) {
        double attn = Math.pow(tw, -0.5);
        double proj = attn * Math.pow(2.0 * c.textLayers(), -0.5);
        double fc = Math.pow(2.0 * tw, -0.5);
        if (k.endsWith("attn.in_proj_weight")) normal(v, attn, rng);
        else if (k.endsWith("attn.out_proj.weight") || k.endsWith("mlp.c_proj.weight")) normal(v, proj, rng);
        else if (k.endsWith("mlp.c_fc.weight")) normal(v, fc, rng);
        else throw new IllegalStateException("no init rule for " + k);
      } else if (k.equals("visual.class_embedding") || k.equals("visual.positional_embedding") || k.equals("visual.proj")) {
        normal(v, Math.pow(vw, -0.5), rng);
      } else if (k.endsWith("attn.in_proj_weight")) {
        double a = Math.sqrt(6.0 / (s.get(0) + s.get(1))); // xavier_uniform_ over [3w, w]
        uniform(v, a, rng);
      } else if (k.endsWith(".weight")) {
        long fanIn = s.size() / s.get(0); // Kaiming-uniform(a=√5) = U(±1/√fan_in)
        uniform(v, 1 / Math.sqrt(fanIn), rng);
      } else {
        throw new IllegalStateException("no init rule for " + k);
      }
      NDArray a = manager.create(v, s);
      a.setName(k);
      out.put(k, a);
    }
    return out;
  }

  private static void normal(float[] v, double std, SplittableRandom rng) {
    for (int i = 0; i < v.length; i++) v[i] = (float) (std * rng.nextGaussian());
  }

  private static void uniform(float[] v, double a, SplittableRandom rng) {
    for (int i = 0; i < v.length; i++) v[i] = (float) ((2 * rng.nextDouble() - 1) * a);
  }
}
