package ai.promptline.ml.pretrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.scenes.Scene;
import ai.promptline.ml.scenes.SceneCorpus;
import ai.promptline.ml.scenes.SceneRenderer;
import ai.promptline.ml.scenes.SceneVocabulary;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A quick in-memory read-out of a pretrained tiny CLIP: zero-shot accuracy over the 24 benchmark
 * classes ("a photo of a {colour shape}.", 24-way) on freshly rendered images, separately for the
 * base pairs (seen in pretraining) and the held-out novel pairs, in either rendering style.
 */
public final class SceneZeroShot {
  private SceneZeroShot() {}

  /** Accuracies in [0, 1]. */
  public record Accuracy(double base, double novel) {}

  public static Accuracy evaluate(ClipModel model, SceneRenderer.Style style, int perClass, long seed, NDManager manager) {
    int classes = SceneVocabulary.BENCHMARK_CLASSES;
    int r = model.config().imageResolution();
    List<String> prompts = new ArrayList<>();
    for (int c = 0; c < classes; c++) prompts.add("a photo of a " + SceneVocabulary.className(c) + ".");
    int[] correct = new int[2];
    int[] total = new int[2];
    try (NDManager m = manager.newSubManager()) {
      NDArray text = ClipModel.normalize(model.encodeText(m.create(
          ClipTokenizer.getDefault().tokenize(prompts, model.config().contextLength(), false))));
      SplittableRandom rng = new SplittableRandom(seed);
      for (int c = 0; c < classes; c++) {
        int[] pair = SceneVocabulary.BENCHMARK_PAIRS.get(c);
        float[] px = new float[perClass * 3 * r * r];
        for (int i = 0; i < perClass; i++) {
          SplittableRandom item = rng.split();
          Scene s = new Scene(pair[1], pair[0], item.nextInt(SceneVocabulary.PATTERNS.length), item.nextInt(SceneVocabulary.SIZES.length),
              item.nextInt(SceneVocabulary.POSITIONS.length), item.nextInt(SceneVocabulary.BACKGROUNDS.length),
              item.nextInt(SceneVocabulary.QUALITIES.length));
          SceneCorpus.toChw(SceneRenderer.render(s, r, r, style, item).rgb(), px, i * 3 * r * r, r * r);
        }
        try (NDManager b = m.newSubManager()) {
          NDArray img = ClipModel.normalize(model.encodeImage(b.create(px, new Shape(perClass, 3, r, r))));
          long[] pred = img.matMul(text.transpose()).argMax(1).toLongArray();
          int half = c < classes / 2 ? 0 : 1;
          for (long p : pred) if (p == c) correct[half]++;
          total[half] += perClass;
        }
      }
    }
    return new Accuracy(correct[0] / (double) total[0], correct[1] / (double) total[1]);
  }
}
