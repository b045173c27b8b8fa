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
 * labels 0–11 seen in pretraining, 12–23 {@link SceneVocabulary#HELD_OUT held out} of it.
 *
 * <p>Like a real benchmark it is one <i>domain</i>: every image is a large, blurry, outlined shape
 * in the middle of beige paper, rendered in the {@link SceneRenderer.Style#SHIFTED shifted} style
 * (rotation, smudges, stronger jitter and noise) at 56–80 px, which the CLIP preprocessing resizes.
 * Pretraining saw each of these attributes, but spread over all combinations; the hand template
 * "a photo of a {}." describes none of them. So zero-shot works but is far from perfect, while the
 * images of a class are consistent enough that 16 labelled shots say a lot: measured on the
 * shipped tiny CLIP, zero-shot 78 % base (12-way), class means of 16 shots' image features 93 %.
 * That gap is what prompt learning can close. (Benchmarks whose images vary every attribute were
 * tried first: there the frozen features of 16 shots separate the classes no better than the
 * text does, and no method gained more than a few points.) Output is a pure function of the
 * spec; even image numbers are PNG, odd JPEG.
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
            // the domain: every image a large, blurry, outlined shape in the middle of beige paper
            int pat = 4; // outlined
            int size = 2; // large
            int pos = 4; // in the middle
            int bg = 3; // beige
            int q = 1; // blurry
            Scene scene = new Scene(pair[1], pair[0], pat, size, pos, bg, q);
            int w = 56 + rng.nextInt(25);
            int h = w;
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
