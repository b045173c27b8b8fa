package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.TextInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * CoOp (Zhou et al., IJCV'22; KaiyangZhou/CoOp trainers/coop.py): M learnable context vectors
 * shared by all classes replace the words before the class name,
 * {@code [SOS][ctx_1..ctx_M][class tokens][.][EOT]}, and go through the frozen text encoder with
 * positional embeddings like words. Unified context, class token at the end.
 *
 * <p>With {@code ctxInit} (e.g. {@code "a photo of a"}) the context starts from those words'
 * token embeddings and M is their count; otherwise from N(0, 0.02²), drawn from a
 * {@link SplittableRandom} seeded by the run seed so initialisation is platform independent.
 */
public final class CoOp implements PromptMethod {
  public static final String NAME = "coop";
  private final MethodContext ctx;
  private final NDArray context; // [M, D], learnable
  private final int nCtx;
  private final String prefixText;

  public CoOp(MethodContext ctx) {
    this.ctx = ctx;
    ClipModel clip = ctx.clip();
    NDManager m = ctx.manager();
    String init = ctx.options().ctxInit().replace('_', ' ').trim();
    int width = clip.config().textWidth();
    NDArray c;
    if (!init.isEmpty()) {
      nCtx = init.split("\\s+").length;
      NDArray ids = m.create(ctx.tokenizer().tokenize(List.of(init), clip.config().contextLength(), false));
      NDArray emb = clip.tokenEmbedding(ids);
      c = emb.get(new NDIndex("0, 1:{}", 1 + nCtx)).duplicate();
      ids.close();
      emb.close();
      prefixText = init;
    } else {
      nCtx = ctx.options().nCtx();
      if (nCtx < 1) throw new IllegalArgumentException("coop needs nCtx >= 1 or a ctxInit");
      SplittableRandom rng = new SplittableRandom(ctx.seed());
      float[] v = new float[nCtx * width];
      for (int i = 0; i < v.length; i++) v[i] = (float) (gaussian(rng) * 0.02);
      c = m.create(v, new Shape(nCtx, width));
      prefixText = String.join(" ", java.util.Collections.nCopies(nCtx, "X"));
    }
    c.attach(m);
    c.setRequiresGradient(true);
    this.context = c;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<NDArray> parameters() {
    return List.of(context);
  }

  @Override
  public Head bind(ClassSet classes) {
    ClipModel clip = ctx.clip();
    NDManager m = ctx.manager();
    List<String> prompts = new ArrayList<>(classes.size());
    for (int i = 0; i < classes.size(); i++) prompts.add(prefixText + " " + classes.cleaned(i) + ".");
    int[][] tokens = ctx.tokenizer().tokenize(prompts, clip.config().contextLength(), false);
    NDArray ids = m.create(tokens);
    NDArray eot = ClipModel.eotIndex(ids);
    NDArray emb = clip.tokenEmbedding(ids);
    NDArray prefix = emb.get(new NDIndex(":, :1")).duplicate(); // SOS
    NDArray suffix = emb.get(new NDIndex(":, {}:", 1 + nCtx)).duplicate(); // class, '.', EOT, padding
    ids.close();
    emb.close();
    int c = classes.size();
    float scale = clip.logitScale();
    return new Head() {
      @Override
      public NDArray logits(NDArray f) {
        NDArray ctxAll = context.expandDims(0).broadcast(new Shape(c, nCtx, context.getShape().get(1)));
        NDArray prompts = NDArrays.concat(new NDList(prefix, ctxAll, suffix), 1);
        NDArray text = Features.normalize(clip.encodeText(TextInput.ofEmbeddings(prompts, eot)));
        return Features.cosineLogits(f, text, scale);
      }

      @Override
      public void close() {
        prefix.close();
        suffix.close();
        eot.close();
      }
    };
  }

  @Override
  public Map<String, NDArray> stateDict() {
    return Map.of("prompt_learner.ctx", context);
  }

  @Override
  public void loadStateDict(Map<String, NDArray> state) {
    NDArray v = state.get("prompt_learner.ctx");
    if (v == null) throw new IllegalArgumentException("coop state is missing 'prompt_learner.ctx'");
    if (!v.getShape().equals(context.getShape()))
      throw new IllegalArgumentException(
          "coop ctx shape " + v.getShape() + " does not match the model's " + context.getShape());
    // An indexed assignment writes into the storage the detached view shares with the parameter;
    // NDArray.set(Buffer) would give the detached view a new storage and leave ctx untouched.
    NDArray src = ctx.manager().create(v.toType(DataType.FLOAT32, false).toFloatArray(), context.getShape());
    NDArray data = context.stopGradient(); // the same storage, outside autograd
    data.set(new NDIndex("..."), src);
    data.close();
    src.close();
  }

  @Override
  public void close() {
    context.close();
  }

  /** Box–Muller on the run's own generator. */
  static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
