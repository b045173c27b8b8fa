package ai.promptline.ml.pretrain;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.training.GradientCollector;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.TextInput;
import ai.promptline.ml.train.AdamW;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One optimiser step of contrastive pretraining on a {@link ClipModel#trainable trainable} model:
 * symmetric InfoNCE ({@link ClipPretrainer#contrastiveLoss}), backward, AdamW on two groups
 * (decayed: matrices and embeddings; not decayed: gains, biases, logit scale), then the logit
 * scale clamped at ln 100. The token embedding trains as its {@link TokenRows compact used rows};
 * {@link #syncTable()} writes them back into the model's full table.
 */
public final class ContrastiveStep {
  static final String TOKEN_TABLE = "token_embedding.weight";
  private static final float MAX_LOGIT = (float) Math.log(100);

  private final ClipModel model;
  private final TokenRows rows;
  private final NDArray fullTable;
  private final NDArray compact;
  private final NDArray logitScale;
  private final AdamW decay;
  private final AdamW noDecay;
  private final Map<String, NDArray> decayed = new LinkedHashMap<>();
  private final Map<String, NDArray> notDecayed = new LinkedHashMap<>();

  public ContrastiveStep(ClipModel model, BitSet usedTokens, double weightDecay, NDManager manager) {
    this.model = model;
    fullTable = model.weights().get(TOKEN_TABLE);
    fullTable.setRequiresGradient(false);
    rows = new TokenRows(usedTokens, model.config().vocabSize());
    compact = rows.gather(fullTable, manager);
    compact.setRequiresGradient(true);
    Map<String, NDArray> params = new LinkedHashMap<>(model.weights());
    params.remove(TOKEN_TABLE);
    params.put(TokenRows.NAME, compact);
    params.forEach((k, a) -> (PretrainConfig.decays(k, a.getShape().dimension()) ? decayed : notDecayed).put(k, a));
    decay = new AdamW(0.9, 0.98, 1e-6, weightDecay);
    noDecay = new AdamW(0.9, 0.98, 1e-6, 0);
    logitScale = model.weights().get("logit_scale");
  }

  /**
   * Forward, backward and update on one batch ({@code pixels} CHW-normalised {@code [n·3·r·r]},
   * {@code tokens} {@code [n, context]}); returns the loss before the update. A non-finite loss
   * is returned without updating anything.
   */
  public float step(float[] pixels, int[][] tokens, double lr, NDManager manager) {
    float loss = forwardBackward(pixels, tokens, manager);
    if (Float.isFinite(loss)) update(lr);
    return loss;
  }

  /** The loss of one batch, leaving its gradients on the parameters. */
  float forwardBackward(float[] pixels, int[][] tokens, NDManager manager) {
    int n = tokens.length;
    int r = model.config().imageResolution();
    try (NDManager sm = manager.newSubManager()) {
      NDArray px = sm.create(pixels, new Shape(n, 3, r, r));
      NDArray ids = sm.create(tokens);
      NDArray compactIds = sm.create(rows.compactIds(tokens));
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray emb = Embedding.embedding(compactIds, compact, SparseFormat.DENSE).singletonOrThrow();
        NDArray text = model.encodeText(TextInput.ofEmbeddings(emb, ClipModel.eotIndex(ids)));
        NDArray l = ClipPretrainer.contrastiveLoss(model.encodeImage(px), text, logitScale);
        gc.backward(l);
        return l.getFloat();
      }
    }
  }

  /** AdamW on both groups with the gradients of {@link #forwardBackward}, then the scale clamp. */
  void update(double lr) {
    decay.step(decayed, lr);
    noDecay.step(notDecayed, lr);
    try (NDArray data = logitScale.stopGradient()) {
      if (data.getFloat() > MAX_LOGIT) data.set(new NDIndex("..."), MAX_LOGIT);
    }
  }

  /** The trained tensors by name (the token table as {@code token_embedding.rows}). */
  Map<String, NDArray> parameters() {
    Map<String, NDArray> all = new LinkedHashMap<>(decayed);
    all.putAll(notDecayed);
    return all;
  }

  /** {@code exp(logit_scale)} now. */
  public float logitScale() {
    try (NDArray data = logitScale.stopGradient()) {
      return (float) Math.exp(data.getFloat());
    }
  }

  /** Copies the trained token rows into the model's full token-embedding table. */
  public void syncTable() {
    rows.scatter(compact, fullTable);
  }

  /** Both AdamW groups' state ({@code decay.adamw.*}, {@code nodecay.adamw.*}). */
  Map<String, NDArray> optimiserState(NDManager m) {
    Map<String, NDArray> s = new LinkedHashMap<>();
    decay.state(m).forEach((k, v) -> s.put("decay." + k, v));
    noDecay.state(m).forEach((k, v) -> s.put("nodecay." + k, v));
    return s;
  }

  void loadOptimiser(PretrainCheckpoint.State state, NDManager m) {
    decay.load(state.optimiser("decay."), m);
    noDecay.load(state.optimiser("nodecay."), m);
  }
}
