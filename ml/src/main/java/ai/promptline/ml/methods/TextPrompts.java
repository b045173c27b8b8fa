package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.promptline.ml.clip.ClipModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The text-context layout shared by CoOp, CoCoOp, MaPLe, IVLP and deep language prompting
 * (KaiyangZhou/CoOp trainers/coop.py; muzairkhattak/multimodal-prompt-learning trainers/maple.py):
 * the class prompt {@code "<prefix> <class>."} is tokenised once, row 0 (SOS) and rows
 * {@code 1+n..} (class tokens, ".", EOT, padding) are kept as frozen embeddings, and rows
 * {@code 1..n} are the learnable context.
 */
final class TextPrompts {
  /** Context words and the prefix text of the class prompts. */
  record Context(NDArray ctx, String prefix, int n) {}

  private TextPrompts() {}

  /**
   * CoOp's rule: with {@code ctxInit} the context starts from its words' embeddings and their
   * count is the length; else {@code nCtx} vectors from N(0, 0.02²) behind an "X X … X" prefix.
   */
  static Context coop(MethodContext c, String name) {
    String init = c.options().ctxInit().replace('_', ' ').trim();
    if (!init.isEmpty()) {
      int n = init.split("\\s+").length;
      return new Context(Init.parameterFrom(initEmbeddings(c, init, n)), init, n);
    }
    int n = c.options().nCtx();
    if (n < 1) throw new IllegalArgumentException(name + " needs nCtx >= 1 or a ctxInit");
    // CoOp's own stream (the run seed itself), so random-init CoOp runs keep their values
    int width = c.clip().config().textWidth();
    float[] v = Init.normal(new java.util.SplittableRandom(c.seed()), n * width, 0.02);
    NDArray ctx = Init.parameter(c.manager(), v, new ai.djl.ndarray.types.Shape(n, width));
    return new Context(ctx, String.join(" ", Collections.nCopies(n, "X")), n);
  }

  /**
   * MaPLe's rule ({@code if ctx_init and n_ctx <= 4}): the first {@code nCtx} tokens of
   * {@code ctxInit} are learnable and the prompt keeps the whole {@code ctxInit} string, so with
   * {@code nCtx = 2} and "a photo of a" the words "of a" stay fixed; else random context.
   */
  static Context maple(MethodContext c, String name, String ctxName) {
    int n = c.options().nCtx();
    if (n < 1) throw new IllegalArgumentException(name + " needs nCtx >= 1");
    String init = c.options().ctxInit().replace('_', ' ').trim();
    if (!init.isEmpty() && n <= 4) return new Context(Init.parameterFrom(initEmbeddings(c, init, n)), init, n);
    return random(c, ctxName, n);
  }

  private static Context random(MethodContext c, String name, int n) {
    int width = c.clip().config().textWidth();
    NDArray ctx = Init.normal(c.manager(), c.seed(), name, new ai.djl.ndarray.types.Shape(n, width), 0.02);
    return new Context(ctx, String.join(" ", Collections.nCopies(n, "X")), n);
  }

  /** Token embeddings of rows {@code 1..n} of {@code text}. */
  private static NDArray initEmbeddings(MethodContext c, String text, int n) {
    NDManager m = c.manager();
    ClipModel clip = c.clip();
    int[][] tok = c.tokenizer().tokenize(List.of(text), clip.config().contextLength(), false);
    int words = 0;
    while (words + 1 < tok[0].length && tok[0][words + 1] != 49407) words++;
    if (n > words) throw new IllegalArgumentException("ctxInit '" + text + "' has " + words + " tokens, fewer than nCtx " + n);
    NDArray ids = m.create(tok);
    NDArray emb = clip.tokenEmbedding(ids);
    NDArray rows = emb.get(new NDIndex("0, 1:{}", 1 + n)).duplicate();
    ids.close();
    emb.close();
    return rows;
  }

  /** Frozen pieces of the class prompts: SOS row, rows after the context, EOT index. */
  record Layout(NDArray prefix, NDArray suffix, NDArray eot, int[] eotIndex, List<String> prompts) implements AutoCloseable {
    @Override
    public void close() {
      prefix.close();
      suffix.close();
      eot.close();
    }
  }

  /** Tokenises {@code "<prefix> <class>."} for every class and splits it around {@code n} context rows. */
  static Layout layout(MethodContext c, ClassSet classes, String prefix, int n) {
    List<String> prompts = new ArrayList<>(classes.size());
    for (int i = 0; i < classes.size(); i++) prompts.add(prefix + " " + classes.cleaned(i) + ".");
    return layoutOf(c, prompts, n);
  }

  static Layout layoutOf(MethodContext c, List<String> prompts, int n) {
    NDManager m = c.manager();
    ClipModel clip = c.clip();
    int[][] tokens = c.tokenizer().tokenize(prompts, clip.config().contextLength(), false);
    NDArray ids = m.create(tokens);
    NDArray eot = ClipModel.eotIndex(ids);
    NDArray emb = clip.tokenEmbedding(ids);
    NDArray pre = emb.get(new NDIndex(":, :1")).duplicate();
    NDArray suf = emb.get(new NDIndex(":, {}:", 1 + n)).duplicate();
    int[] eotIndex = new int[tokens.length];
    long[] e = eot.toLongArray();
    for (int i = 0; i < e.length; i++) eotIndex[i] = (int) e[i];
    ids.close();
    emb.close();
    return new Layout(pre, suf, eot, eotIndex, List.copyOf(prompts));
  }

  /** {@code [SOS][ctx][suffix]} for every class: {@code ctx [n, D]} shared or {@code [C, n, D]}. */
  static NDArray assemble(Layout l, NDArray ctx) {
    long c = l.prefix().getShape().get(0);
    NDArray ctxAll = ctx.getShape().dimension() == 2
        ? ctx.expandDims(0).broadcast(new ai.djl.ndarray.types.Shape(c, ctx.getShape().get(0), ctx.getShape().get(1)))
        : ctx;
    return ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(l.prefix(), ctxAll, l.suffix()), 1);
  }
}
