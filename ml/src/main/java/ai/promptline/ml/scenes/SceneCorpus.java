package ai.promptline.ml.scenes;

import ai.promptline.ml.data.image.Transforms;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The pretraining corpus: an endless, seeded stream of (image, caption) pairs. Batch {@code b} is a
 * pure function of (seed, b), so a resumed run sees exactly the batches it would have seen, and no
 * data is stored. Scenes are uniform over all attributes except the {@link
 * SceneVocabulary#HELD_OUT held-out} (colour, shape) pairs, which are never drawn.
 */
public final class SceneCorpus {
  private final long seed;
  private final int resolution;

  public SceneCorpus(long seed, int resolution) {
    if (resolution < 16) throw new IllegalArgumentException("image resolution must be at least 16 px, got " + resolution);
    this.seed = seed;
    this.resolution = resolution;
  }

  /** One batch: CHW pixels normalised with CLIP's mean/std ({@code [n·3·r·r]}), captions, scenes. */
  public record Batch(float[] pixels, List<String> captions, List<Scene> scenes) {}

  public Batch batch(long index, int n) {
    SplittableRandom rng = new SplittableRandom(mix(seed, index));
    int r = resolution;
    float[] px = new float[n * 3 * r * r];
    List<String> captions = new ArrayList<>(n);
    List<Scene> scenes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      SplittableRandom item = rng.split();
      Scene s = sample(item);
      scenes.add(s);
      captions.add(Captions.caption(s, item));
      SceneRenderer.Rendered img = SceneRenderer.render(s, r, r, SceneRenderer.Style.PRETRAIN, item);
      toChw(img.rgb(), px, i * 3 * r * r, r * r);
    }
    return new Batch(px, captions, scenes);
  }

  /** A uniformly random scene whose (colour, shape) is not held out. */
  public static Scene sample(SplittableRandom rng) {
    while (true) {
      int shape = rng.nextInt(SceneVocabulary.SHAPES.length);
      int colour = rng.nextInt(SceneVocabulary.COLOURS.length);
      if (SceneVocabulary.heldOut(colour, shape)) continue;
      return new Scene(shape, colour, rng.nextInt(SceneVocabulary.PATTERNS.length), rng.nextInt(SceneVocabulary.SIZES.length),
          rng.nextInt(SceneVocabulary.POSITIONS.length), rng.nextInt(SceneVocabulary.BACKGROUNDS.length),
          rng.nextInt(SceneVocabulary.QUALITIES.length));
    }
  }

  /** Writes 0xRRGGBB pixels as normalised CHW floats at {@code out[offset..]}. */
  public static void toChw(int[] rgb, float[] out, int offset, int plane) {
    for (int c = 0; c < 3; c++) {
      int shift = 16 - 8 * c;
      float mean = Transforms.CLIP_MEAN[c];
      float std = Transforms.CLIP_STD[c];
      for (int p = 0; p < plane; p++) out[offset + c * plane + p] = (((rgb[p] >> shift) & 0xff) / 255f - mean) / std;
    }
  }

  static long mix(long seed, long index) {
    long z = seed * 0x9E3779B97F4A7C15L + (index + 1) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 31)) * 0xD6E8FEB86659FD39L;
    return z ^ (z >>> 29);
  }
}
