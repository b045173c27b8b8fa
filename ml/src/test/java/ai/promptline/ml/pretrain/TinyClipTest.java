package ai.promptline.ml.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.data.BenchmarkDataset;
import ai.promptline.ml.data.Datasets;
import ai.promptline.ml.data.Datum;
import ai.promptline.ml.data.image.Images;
import ai.promptline.ml.data.image.Transforms;
import ai.promptline.ml.scenes.SceneBenchmark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped pretrained tiny CLIP, through the real loader and the real data pipeline (PNG/JPEG
 * files, CLIP test transform): zero-shot on the generated Scenes benchmark is well above chance on
 * both halves, including the novel classes whose names never occurred in pretraining.
 */
class TinyClipTest {
  @TempDir static Path dir;
  static BenchmarkDataset scenes;

  @BeforeAll
  static void generate() {
    SceneBenchmark.generate(dir, new SceneBenchmark.Spec(1, 0, 25, 7L));
    scenes = Datasets.open("Scenes", dir);
  }

  @Test
  void zeroShotOnTheScenesBenchmarkIsWellAboveChanceOnBaseAndNovel() throws Exception {
    try (NDManager m = NDManager.newBaseManager(); ClipModel clip = ClipModel.load(TinyClip.path(), m)) {
      int r = clip.config().imageResolution();
      List<String> prompts = new ArrayList<>();
      for (String c : scenes.classNames()) prompts.add(scenes.prompt(c));
      NDArray text = ClipModel.normalize(clip.encodeText(m.create(ClipTokenizer.getDefault().tokenize(prompts, clip.config().contextLength(), false))));
      List<Datum> test = scenes.test();
      float[] px = new float[test.size() * 3 * r * r];
      Transforms.ImageTransform tf = Transforms.test(r);
      for (int i = 0; i < test.size(); i++) tf.apply(Images.readRgb(test.get(i).image()), 0, i, px, i * 3 * r * r);
      long[] pred = ClipModel.normalize(clip.encodeImage(m.create(px, new Shape(test.size(), 3, r, r)))).matMul(text.transpose()).argMax(1).toLongArray();
      int half = scenes.classNames().size() / 2;
      int[] correct = new int[2];
      int[] total = new int[2];
      for (int i = 0; i < test.size(); i++) {
        int h = test.get(i).label() < half ? 0 : 1;
        total[h]++;
        if (pred[i] == test.get(i).label()) correct[h]++;
      }
      double base = correct[0] / (double) total[0];
      double novel = correct[1] / (double) total[1];
      // 24-way over all classes (chance 4.2 %); the campaigns' base2novel protocol is 12-way per half.
      // measured: see the README's table; asserted at 3x chance
      System.out.printf("tiny CLIP zero-shot, 24-way: base %.3f novel %.3f%n", base, novel);
      assertTrue(base > 3 / 24.0, "base zero-shot " + base);
      assertTrue(novel > 3 / 24.0, "novel zero-shot " + novel);
    }
  }

  @Test
  void theShippedFileIsAPlainClipCheckpointWithOnlyTheCorpusTokenRowsSet() throws Exception {
    try (NDManager m = NDManager.newBaseManager(); ClipModel clip = ClipModel.load(TinyClip.path(), m)) {
      assertEquals(PretrainConfig.tinyClip(), clip.config());
      float[] table = clip.weights().get("token_embedding.weight").toFloatArray();
      BitSet used = new ClipPretrainer(PretrainConfig.defaults()).usedTokens();
      int w = clip.config().textWidth();
      for (int row = 0; row < clip.config().vocabSize(); row++) {
        if (used.get(row)) continue;
        for (int j = 0; j < w; j++) assertEquals(0f, table[row * w + j], "unused token row " + row);
      }
      assertTrue(clip.logitScale() > 14.3f && clip.logitScale() <= 100f, "logit scale " + clip.logitScale());
    }
  }
}
