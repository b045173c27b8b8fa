package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.TextInput;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CoCoOp (Zhou et al., CVPR'22; KaiyangZhou/CoOp trainers/cocoop.py): CoOp's context plus a
 * Meta-Net {@code Linear(E, E/16) → ReLU → Linear(E/16, D)} that maps each image's normalised
 * feature to a bias {@code π} added to every context token, so every image gets its own prompts.
 *
 * <p>Batched where the reference loops: the B×C prompts of a batch go through the text encoder as
 * one pass of B·C sequences, and {@code logits[b, c] = s · f_b · T_{b,c}}. Learned tensors
 * (prompt learner names): {@code ctx}, {@code meta_net.linear1.weight/bias},
 * {@code meta_net.linear2.weight/bias}, the Linear layers with PyTorch's default init.
 */
public final class CoCoOp implements PromptMethod {
  public static final String NAME = "cocoop";
  private final MethodContext ctx;
  private final TextPrompts.Context context;
  private final NDArray w1;
  private final NDArray b1;
  private final NDArray w2;
  private final NDArray b2;

  public CoCoOp(MethodContext ctx) {
    this.ctx = ctx;
    this.context = TextPrompts.coop(ctx, NAME);
    int visDim = ctx.clip().config().embedDim();
    int hidden = Math.max(1, visDim / 16);
    NDArray[] l1 = Init.linear(ctx.manager(), ctx.seed(), "meta_net.linear1", hidden, visDim);
    NDArray[] l2 = Init.linear(ctx.manager(), ctx.seed(), "meta_net.linear2", ctx.clip().config().textWidth(), hidden);
    w1 = l1[0];
    b1 = l1[1];
    w2 = l2[0];
    b2 = l2[1];
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("ctx", context.ctx());
    p.put("meta_net.linear1.weight", w1);
    p.put("meta_net.linear1.bias", b1);
    p.put("meta_net.linear2.weight", w2);
    p.put("meta_net.linear2.bias", b2);
    return p;
  }

  @Override
  public Head bind(ClassSet classes) {
    ClipModel clip = ctx.clip();
    TextPrompts.Layout layout = TextPrompts.layout(ctx, classes, context.prefix(), context.n());
    float scale = clip.logitScale();
    int c = classes.size();
    return new FeatureHead() {
      @Override
      public NDArray logitsOf(NDArray f) {
        long b = f.getShape().get(0);
        long n = context.n();
        long d = clip.config().textWidth();
        long len = layout.suffix().getShape().get(1);
        NDArray h = Activation.relu(Linear.linear(f, w1, b1).singletonOrThrow());
        NDArray pi = Linear.linear(h, w2, b2).singletonOrThrow(); // [B, D]
        NDArray shifted = context.ctx().expandDims(0).add(pi.expandDims(1)); // [B, n, D]
        NDArray pre = layout.prefix().expandDims(0).broadcast(new Shape(b, c, 1, d));
        NDArray ctxAll = shifted.expandDims(1).broadcast(new Shape(b, c, n, d));
        NDArray suf = layout.suffix().expandDims(0).broadcast(new Shape(b, c, len, d));
        NDArray prompts = ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(pre, ctxAll, suf), 2)
            .reshape(b * c, 1 + n + len, d);
        NDArray eot = layout.eot().expandDims(0).broadcast(new Shape(b, c)).reshape(b * c);
        NDArray text = Features.normalize(clip.encodeText(TextInput.ofEmbeddings(prompts, eot))).reshape(b, c, -1);
        NDArray logits = text.matMul(f.expandDims(2)).reshape(b, c); // f_b · T_{b,c}
        return ai.promptline.ml.clip.Numerics.scale(logits, scale);
      }

      @Override
      public void close() {
        layout.close();
      }
    };
  }

  @Override
  public void close() {
    parameters().values().forEach(NDArray::close);
  }
}
