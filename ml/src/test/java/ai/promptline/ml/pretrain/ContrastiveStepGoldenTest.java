package ai.promptline.ml.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.Safetensors;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Three contrastive pretraining steps against the reference: the micro CLIP, batch, learning rates,
 * losses and resulting weights come from tools/golden/pretrain_golden.py, which trains
 * openai-clip's {@code clip.model.CLIP} with {@code torch.optim.AdamW} (two groups) and the
 * logit-scale clamp. This checks InfoNCE, backward through both towers, the parameter groups, the
 * clamp, and that training the compact used token rows equals torch's full-table update.
 */
class ContrastiveStepGoldenTest {
  private static final Path GOLDEN = Path.of("src/test/resources/golden/pretrain/contrastive_step.safetensors");

  @Test
  void threeStepsMatchTheReferenceModelAndOptimiser() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> g = Safetensors.read(GOLDEN, m);
      Map<String, NDArray> init = expand(g, "init.", m);
      ClipConfig cfg = ClipConfig.inferFrom(shapes(init));
      long[] ids = g.get("init.token_embedding.ids").toLongArray();
      BitSet used = new BitSet();
      for (long id : ids) used.set((int) id);
      float[] pixels = g.get("batch.pixels").toFloatArray();
      long[] tok = g.get("batch.tokens").toLongArray();
      Shape ts = g.get("batch.tokens").getShape();
      int[][] tokens = new int[(int) ts.get(0)][(int) ts.get(1)];
      for (int i = 0; i < tokens.length; i++) for (int j = 0; j < tokens[i].length; j++) tokens[i][j] = (int) tok[i * tokens[i].length + j];
      float[] losses = g.get("golden.loss").toFloatArray();
      double[] lrs = {1e-3, 2e-3, 5e-4}; // golden.lr (the reader keeps F64 as F32)

      ClipModel model = ClipModel.trainable(init, cfg);
      ContrastiveStep step = new ContrastiveStep(model, used, 0.2, m);
      for (int s = 0; s < lrs.length; s++) {
        float loss = step.forwardBackward(pixels, tokens, m);
        if (s == 0) {
          // gradients of every trained tensor (token table: its used rows) before AdamW normalises
          // them; measured worst 2.4e-6 of the tensor's largest gradient
          for (Map.Entry<String, NDArray> e : step.parameters().entrySet()) {
            NDArray expected = g.get("grad1." + e.getKey());
            NDArray ours = ai.promptline.ml.train.Sgd.gradientOrNull(e.getValue());
            float scale = expected.abs().max().getFloat();
            float d = ours.sub(expected).abs().max().getFloat();
            assertTrue(d <= 2e-5f * scale + 1e-9f, "gradient of " + e.getKey() + ": max |Δ| " + d + " vs max |g| " + scale);
          }
        }
        step.update(lrs[s]);
        assertEquals(losses[s], loss, 2e-5 * Math.abs(losses[s]), "loss of step " + (s + 1));
        // starts at ln(100) + 0.02: the first update leaves it above ln 100, so it is clamped to 100
        if (s == 0) assertEquals(100f, step.logitScale(), 1e-4f, "the logit scale is clamped at 100");
      }
      step.syncTable();
      Map<String, NDArray> after = expand(g, "after.", m);
      double worst = 0;
      String worstKey = "";
      for (Map.Entry<String, NDArray> e : after.entrySet()) {
        NDArray ours = model.weights().get(e.getKey()).stopGradient();
        NDArray diff = ours.sub(e.getValue()).abs();
        if (e.getKey().endsWith("attn.in_proj_bias")) {
          // The key bias shifts every score of a query row equally, so softmax cancels it: its true
          // gradient is 0 and both implementations return rounding noise (~1e-9), which AdamW's
          // normalised step g/(sqrt(v)+eps) turns into arbitrary updates of up to lr. Compare q and v.
          long w = diff.getShape().get(0) / 3;
          NDArray kb = ours.get(w + ":" + 2 * w);
          assertTrue(kb.abs().max().getFloat() < 3 * 3.5e-3, "key bias moved at most ~lr per step");
          diff = ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(diff.get(":" + w), diff.get(2 * w + ":")));
        }
        double d = diff.max().getFloat();
        if (d > worst) {
          worst = d;
          worstKey = e.getKey();
        }
      }
      // measured: max |Δ| 1.9e-5 (visual.conv1.weight), most tensors ≤ 1e-6. Each AdamW step moves a
      // weight by up to lr (1e-3) whatever the gradient's size, so rounding differences in
      // near-zero gradient entries become differences in the weights; 1e-4 is 10 % of one step,
      // while a wrong gradient, group or clamp moves weights by a whole step (1e-3).
      assertTrue(worst < 1e-4, "max |Δ| after 3 steps " + worst + " at " + worstKey);
    }
  }

  /** The golden's tensors under {@code prefix}, with the token table rebuilt from its used rows. */
  static Map<String, NDArray> expand(Map<String, NDArray> g, String prefix, NDManager m) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    NDArray rows = g.get(prefix + "token_embedding.rows");
    long[] ids = g.get(prefix + "token_embedding.ids").toLongArray();
    int w = (int) rows.getShape().get(1);
    float[] table = new float[49408 * w];
    float[] r = rows.toFloatArray();
    for (int i = 0; i < ids.length; i++) System.arraycopy(r, i * w, table, (int) ids[i] * w, w);
    g.forEach((k, v) -> {
      if (!k.startsWith(prefix) || k.startsWith(prefix + "token_embedding.")) return;
      out.put(k.substring(prefix.length()), v.duplicate());
    });
    out.put("token_embedding.weight", m.create(table, new Shape(49408, w)));
    return out;
  }

  static Map<String, Shape> shapes(Map<String, NDArray> sd) {
    Map<String, Shape> s = new LinkedHashMap<>();
    sd.forEach((k, v) -> s.put(k, v.getShape()));
    return s;
  }
}
