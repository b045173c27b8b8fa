package ai.promptline.ml.scenes;

import ai.promptline.ml.data.SplitFile;
import ai.promptline.ml.data.SplitItem;
import ai.promptline.ml.data.Splits;
import ai.promptline.ml.data.SyntheticDataset;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The downstream benchmark of the tiny CLIP, in the CoOp split-file layout ({@code images/<class>/<n>.png|jpg}
 * and {@code split_promptline_Scenes.json}): 24 (colour, shape) classes such as "red triangle",
 * labels 0–11 seen in pretraining, 12–23 {@link SceneVocabulary#HELD_OUT held out} of it, rendered
 * in the {@link SceneRenderer.Style#SHIFTED shifted} style (gradient backgrounds, distractors,
 * rotation, stronger jitter) at 56–80 px with varying aspect ratio, so the CLIP preprocessing
 * resizes and crops as on real photos. Pattern, size, position, background and quality vary
 * within a class. Output is a pure function of the spec; even image numbers are PNG, odd JPEG.
 */
public final class SceneBenchmark {
  public static final String NAME = "Scenes";

  /** @param train train images per class (≥ 16 for 16-shot runs), likewise val and test */
  public record Spec(int train, int val, int test, long seed) {
    public Spec {
      if (train < 1 || val < 0 || test < 1) throw new IllegalArgumentException("need train ≥ 1, val ≥ 0, test ≥ 1 images per class");
    }

    public static Spec defaults() {
      return new Spec(20, 4, 25, 7L);
    }
  }

  private SceneBenchmark() {}

  public static SyntheticDataset.Generated generate(Path root, Spec spec) {
    Path images = root.resolve("images");
    List<SplitItem> train = new ArrayList<>();
    List<SplitItem> val = new ArrayList<>();
    List<SplitItem> test = new ArrayList<>();
    List<String> names = new ArrayList<>();
    try {
      for (int c = 0; c < SceneVocabulary.BENCHMARK_CLASSES; c++) {
        String name = SceneVocabulary.className(c);
        names.add(name);
        int[] pair = SceneVocabulary.BENCHMARK_PAIRS.get(c);
        String folder = SyntheticDataset.folderOf(name);
        Files.createDirectories(images.resolve(folder));
        int[] counts = {spec.train(), spec.val(), spec.test()};
        List<List<SplitItem>> lists = List.of(train, val, test);
        int n = 0;
        for (int s = 0; s < 3; s++) {
          for (int k = 0; k < counts[s]; k++, n++) {
            SplittableRandom rng = new SplittableRandom(spec.seed() * 0x9E3779B97F4A7C15L + c * 1_000_003L + n);
            Scene scene = new Scene(pair[1], pair[0], rng.nextInt(SceneVocabulary.PATTERNS.length), rng.nextInt(SceneVocabulary.SIZES.length),
                rng.nextInt(SceneVocabulary.POSITIONS.length), rng.nextInt(SceneVocabulary.BACKGROUNDS.length),
                rng.nextInt(SceneVocabulary.QUALITIES.length));
            int w = 56 + rng.nextInt(25);
            int h = 56 + rng.nextInt(25);
            SceneRenderer.Rendered img = SceneRenderer.render(scene, w, h, SceneRenderer.Style.SHIFTED, rng);
            boolean png = n % 2 == 0;
            String rel = folder + "/" + n + (png ? ".png" : ".jpg");
            SyntheticDataset.write(toImage(img), images.resolve(rel), png);
            lists.get(s).add(new SplitItem(rel, c, name));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the Scenes benchmark under " + root + ": " + e.getMessage(), e);
    }
    Splits splits = new Splits(train, val, test);
    Path splitFile = root.resolve("split_promptline_" + NAME + ".json");
    SplitFile.write(splitFile, splits);
    return new SyntheticDataset.Generated(root, images, splitFile, splits, names);
  }

  static BufferedImage toImage(SceneRenderer.Rendered r) {
    BufferedImage img = new BufferedImage(r.width(), r.height(), BufferedImage.TYPE_INT_RGB);
    System.arraycopy(r.rgb(), 0, ((DataBufferInt) img.getRaster().getDataBuffer()).getData(), 0, r.rgb().length);
    return img;
  }
}
