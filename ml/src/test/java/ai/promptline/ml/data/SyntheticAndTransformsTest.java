package ai.promptline.ml.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.ml.data.image.Images;
import ai.promptline.ml.data.image.RgbImage;
import ai.promptline.ml.data.image.Transforms;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticAndTransformsTest {
  @TempDir Path tmp;

  @Test
  void synthetic_isDeterministic_readable_andInReferenceFormat() throws Exception {
    SyntheticSpec spec = SyntheticSpec.defaults().withPerClass(4, 2, 2).withSeed(7);
    long t0 = System.nanoTime();
    SyntheticDataset.Generated a = SyntheticDataset.generate(tmp.resolve("a"), spec);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms < 5000, "generation took " + ms + " ms");
    SyntheticDataset.Generated b = SyntheticDataset.generate(tmp.resolve("b"), spec);
    assertEquals(10, a.classNames().size());
    assertEquals(10, new HashSet<>(a.classNames()).size());
    assertEquals(a.splits(), SplitFile.read(a.splitFile()));
    assertEquals(40, a.splits().train().size());
    assertEquals(tmp.resolve("a/split_promptline_Synthetic.json"), a.splitFile());
    boolean sawPng = false;
    boolean sawJpg = false;
    for (SplitItem it : a.splits().test()) {
      Path fa = a.imageRoot().resolve(it.relPath());
      assertArrayEquals(Files.readAllBytes(fa), Files.readAllBytes(b.imageRoot().resolve(it.relPath())), it.relPath());
      RgbImage img = Images.readRgb(fa);
      assertTrue(img.width() >= 48 && img.height() >= 48);
      sawPng |= it.relPath().endsWith(".png");
      sawJpg |= it.relPath().endsWith(".jpg");
    }
    assertTrue(sawPng && sawJpg);
    assertEquals(a.classNames(), BaseNovel.classNames(a.splits()));
  }

  @Test
  void trainTransform_isDeterministicPerSeedEpochIndex() {
    SyntheticDataset.Generated g = SyntheticDataset.generate(tmp, SyntheticSpec.defaults().withPerClass(1, 0, 0).withClasses(2));
    RgbImage img = Images.readRgb(g.imageRoot().resolve(g.splits().train().get(0).relPath()));
    var t = Transforms.train(32, 5);
    assertArrayEquals(t.apply(img, 1, 3), Transforms.train(32, 5).apply(img, 1, 3));
    assertFalse(java.util.Arrays.equals(t.apply(img, 1, 3), t.apply(img, 2, 3)));
    assertEquals(3 * 32 * 32, t.apply(img, 0, 0).length);
  }

  @Test
  void randomResizedCrop_staysInsideImage_andFallsBackToCentre() {
    SplittableRandom rng = new SplittableRandom(1);
    for (int i = 0; i < 2000; i++) {
      int w = 1 + rng.nextInt(300);
      int h = 1 + rng.nextInt(300);
      int[] p = Transforms.randomResizedCropParams(w, h, rng);
      assertTrue(p[0] >= 0 && p[1] >= 0 && p[2] > 0 && p[3] > 0 && p[0] + p[2] <= h && p[1] + p[3] <= w,
          w + "x" + h + " -> " + java.util.Arrays.toString(p));
    }
    // A 1000x10 strip can never fit a 3/4..4/3 crop of >= 8% area: centre fallback with ratio 4/3.
    int[] p = Transforms.randomResizedCropParams(1000, 10, new SplittableRandom(2));
    assertArrayEquals(new int[] {0, (1000 - 13) / 2, 10, 13}, p);
  }

  @Test
  void normalize_isTorchsFormula_andFlipMirrorsColumns() {
    int w = 7;
    int h = 3;
    byte[] rgb = new byte[w * h * 3];
    for (int i = 0; i < rgb.length; i++) rgb[i] = (byte) (i * 37 + 11); // every byte value pattern, odd width
    RgbImage img = new RgbImage(w, h, rgb);
    float[] plain = new float[3 * w * h];
    float[] flipped = new float[3 * w * h];
    Transforms.normalize(img, false, plain, 0);
    Transforms.normalize(img, true, flipped, 0);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          float expected = (img.get(x, y, c) / 255f - Transforms.CLIP_MEAN[c]) / Transforms.CLIP_STD[c];
          assertEquals(expected, plain[c * w * h + y * w + x], 0f, "c" + c + " y" + y + " x" + x);
          assertEquals(expected, flipped[c * w * h + y * w + (w - 1 - x)], 0f, "flipped c" + c + " y" + y + " x" + x);
        }
      }
    }
  }
}
