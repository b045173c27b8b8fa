package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MaPLe's coupling (muzairkhattak/multimodal-prompt-learning trainers/maple.py), shared by MaPLe and
 * MRPO: {@code proj} maps the layer-0 text prompts to vision prompts, and deep text prompts
 * {@code compound_prompts_text[l−1]} (layers l = 1..J−1) map to deep vision prompts through
 * {@code compound_prompt_projections[l−1]}. Init as the reference: {@code proj} nn.Linear default,
 * deep text prompts N(0, 0.02²), and the J−1 projections start as copies of one freshly
 * initialised Linear (deepcopy).
 */
final class CoupledPrompts implements AutoCloseable {
  private final NDArray projW;
  private final NDArray projB;
  private final List<NDArray> deepText = new ArrayList<>();
  private final List<NDArray[]> deepProj = new ArrayList<>();

  CoupledPrompts(MethodContext ctx, int depth, int n) {
    int d = ctx.clip().config().textWidth();
    int dv = ctx.clip().config().visionWidth();
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

  /** Adds the coupling's tensors under their reference names. */
  void putInto(Map<String, NDArray> p) {
    p.put("proj.weight", projW);
    p.put("proj.bias", projB);
    for (int i = 0; i < deepText.size(); i++) p.put("compound_prompts_text." + i, deepText.get(i));
    for (int i = 0; i < deepProj.size(); i++) {
      p.put("compound_prompt_projections." + i + ".weight", deepProj.get(i)[0]);
      p.put("compound_prompt_projections." + i + ".bias", deepProj.get(i)[1]);
    }
  }

  /** The layer-0 vision prompts {@code proj(ctx)}. */
  NDArray vision0(NDArray ctx) {
    return Linear.linear(ctx, projW, projB).singletonOrThrow();
  }

  /** Number of deep layers (J − 1). */
  int deepLayers() {
    return deepText.size();
  }

  /** The text prompts entering layer {@code l} (1..J−1). */
  NDArray text(int l) {
    return deepText.get(l - 1);
  }

  /** The vision prompts entering layer {@code l}: its projection of {@link #text}. */
  NDArray vision(int l) {
    NDArray[] f = deepProj.get(l - 1);
    return Linear.linear(deepText.get(l - 1), f[0], f[1]).singletonOrThrow();
  }

  @Override
  public void close() {
    projW.close();
    projB.close();
    deepText.forEach(NDArray::close);
    deepProj.forEach(f -> {
      f[0].close();
      f[1].close();
    });
  }
}
