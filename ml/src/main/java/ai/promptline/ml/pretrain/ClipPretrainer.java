package ai.promptline.ml.pretrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.clip.ClipWeights;
import ai.promptline.ml.scenes.Captions;
import ai.promptline.ml.scenes.SceneCorpus;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Contrastive pretraining of a CLIP from scratch on the {@link SceneCorpus}: symmetric InfoNCE over
 * the batch, learnable logit scale (clamped at 100), AdamW with warm-up and cosine decay
 * ({@link PretrainConfig}). The towers are the ordinary {@link ClipModel} code in {@link
 * ClipModel#trainable trainable} mode, so the checkpoint it writes is a plain CLIP state dict that
 * every loader of the project (and the reference {@code clip.model.CLIP}) reads.
 *
 * <p>Every {@code checkpointEvery} steps the full state (weights, both AdamW groups, step, training
 * curve) goes to a {@link PretrainCheckpoint}; a run started again with the same recipe resumes
 * there, and since batch {@code b} is a pure function of (seed, b) the resumed run continues
 * exactly the stream it left. An interrupted run loses at most the steps since the last checkpoint.
 */
public final class ClipPretrainer {
  /** Progress callback, once per step. */
  public interface Listener {
    void step(int step, int steps, float loss, float logitScale, double lr, double secondsPerStep);

    default void resumed(int step) {}

    default void checkpointed(int step) {}
  }

  /** One point of the training curve. */
  public record Point(int step, float loss, float logitScale, double lr) {}

  /** The outcome: the trained state dict (fp32, caller's manager) and the curve. */
  public record Result(Map<String, NDArray> stateDict, List<Point> curve, int resumedFrom, double trainSeconds) {}

  private final PretrainConfig cfg;
  private final ClipTokenizer tokenizer = ClipTokenizer.getDefault();

  public ClipPretrainer(PretrainConfig cfg) {
    this.cfg = cfg;
  }

  /** Token ids the corpus can produce (plus SOT/EOT): the rows of the token embedding that train. */
  public BitSet usedTokens() {
    BitSet used = new BitSet(cfg.model().vocabSize());
    for (String phrase : Captions.allPhrases()) {
      for (int id : tokenizer.encode(phrase)) used.set(id);
    }
    for (int id : tokenizer.encode(".")) used.set(id);
    used.set(ClipTokenizer.SOT);
    used.set(ClipTokenizer.EOT);
    return used;
  }

  /**
   * Trains (or resumes from {@code checkpoint} when it exists and matches the recipe) and returns
   * the final weights. The checkpoint stays on disk; the caller deletes it once the result is saved.
   */
  public Result run(Path checkpoint, NDManager manager, Listener listener) throws IOException {
    ClipConfig mc = cfg.model();
    SceneCorpus corpus = new SceneCorpus(cfg.seed(), mc.imageResolution());
    NDManager own = manager.newSubManager();
    ExecutorService renderer = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "pretrain-corpus");
      t.setDaemon(true);
      return t;
    });
    try {
      Map<String, NDArray> init;
      List<Point> curve = new ArrayList<>();
      int start = 0;
      double priorSeconds = 0;
      BitSet used = usedTokens();
      PretrainCheckpoint.State resumed = PretrainCheckpoint.readIfPresent(checkpoint, cfg, own);
      if (resumed != null) {
        init = resumed.weights();
        start = resumed.step();
        curve.addAll(resumed.curve());
        priorSeconds = resumed.trainSeconds();
        listener.resumed(start);
      } else {
        init = ClipInit.initialise(mc, used, cfg.seed(), own);
      }
      ClipModel model = ClipModel.trainable(init, mc);
      ContrastiveStep trainer = new ContrastiveStep(model, used, cfg.weightDecay(), own);
      if (resumed != null) trainer.loadOptimiser(resumed, own);
      int n = cfg.batchSize();
      long t0 = System.nanoTime();
      CompletableFuture<SceneCorpus.Batch> next = prefetch(renderer, corpus, start, n);
      for (int step = start; step < cfg.steps(); step++) {
        SceneCorpus.Batch b = next.join();
        if (step + 1 < cfg.steps()) next = prefetch(renderer, corpus, step + 1, n);
        double lr = cfg.lrAt(step);
        float lossValue = trainer.step(b.pixels(), tokenizer.tokenize(b.captions(), mc.contextLength(), false), lr, own);
        if (!Float.isFinite(lossValue)) {
          throw new IllegalStateException("pretraining diverged: loss " + lossValue + " at step " + (step + 1)
              + "; lower --lr (now " + cfg.lr() + ") and start again from the last checkpoint");
        }
        float scale = trainer.logitScale();
        curve.add(new Point(step + 1, lossValue, scale, lr));
        double seconds = priorSeconds + (System.nanoTime() - t0) / 1e9;
        listener.step(step + 1, cfg.steps(), lossValue, scale, lr, (System.nanoTime() - t0) / 1e9 / (step + 1 - start));
        if ((step + 1) % cfg.checkpointEvery() == 0 || step + 1 == cfg.steps()) {
          trainer.syncTable();
          Map<String, NDArray> optimiser = trainer.optimiserState(own);
          try {
            PretrainCheckpoint.write(checkpoint, cfg, step + 1, model.weights(), optimiser, curve, seconds);
          } finally {
            optimiser.forEach((k, a) -> {
              if (k.contains(".adamw.t.")) a.close(); // step counters made for this write; moments are live state
            });
          }
          listener.checkpointed(step + 1);
        }
      }
      double seconds = priorSeconds + (System.nanoTime() - t0) / 1e9;
      trainer.syncTable();
      Map<String, NDArray> out = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> e : model.weights().entrySet()) {
        try (NDArray d = e.getValue().stopGradient()) {
          NDArray c = d.duplicate();
          c.attach(manager);
          out.put(e.getKey(), c);
        }
      }
      return new Result(out, List.copyOf(curve), start, seconds);
    } finally {
      renderer.shutdownNow();
      own.close();
    }
  }

  private static CompletableFuture<SceneCorpus.Batch> prefetch(ExecutorService ex, SceneCorpus corpus, long index, int n) {
    return CompletableFuture.supplyAsync(() -> corpus.batch(index, n), ex);
  }

  /**
   * CLIP's symmetric InfoNCE: {@code (CE(s·I·Tᵀ, diag) + CE(s·T·Iᵀ, diag)) / 2} over L2-normalised
   * features, with {@code s = exp(logitScale)}.
   */
  public static NDArray contrastiveLoss(NDArray imageFeatures, NDArray textFeatures, NDArray logitScale) {
    NDArray img = ClipModel.normalize(imageFeatures);
    NDArray txt = ClipModel.normalize(textFeatures);
    NDArray logits = img.matMul(txt.transpose()).mul(logitScale.exp());
    long n = logits.getShape().get(0);
    NDArray eye = logits.getManager().eye((int) n);
    NDArray perImage = logits.logSoftmax(1).mul(eye).sum().neg();
    NDArray perText = logits.logSoftmax(0).mul(eye).sum().neg();
    // Numerics.scale, never div(Number) on an autograd path (see ai.promptline.ml.clip.Numerics#scale);
    // for a power-of-two batch the factor is exact, so this equals the division bit for bit
    return ai.promptline.ml.clip.Numerics.scale(perImage.add(perText), 1f / (2 * n));
  }

  /** The checkpoint's safetensors metadata: config, recipe and provenance. */
  public static Map<String, String> metadata(ClipConfig config, Map<String, String> provenance) {
    Map<String, String> m = new LinkedHashMap<>(ClipWeights.metadataFor(config));
    m.putAll(provenance);
    return m;
  }

  /** fp16 copies for the shipped file (OpenAI's released checkpoints store fp16 too). */
  public static Map<String, NDArray> toHalf(Map<String, NDArray> sd) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    sd.forEach((k, a) -> out.put(k, a.getDataType() == DataType.FLOAT32 ? a.toType(DataType.FLOAT16, true) : a));
    return out;
  }
}
