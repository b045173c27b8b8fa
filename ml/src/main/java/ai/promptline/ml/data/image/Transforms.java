package ai.promptline.ml.data.image;

import java.util.SplittableRandom;

/**
 * CLIP/Dassl image transforms producing normalised CHW {@code float[3*size*size]} tensors
 * (methods.md §1.8).
 *
 * <p><b>Test</b> ({@link #test(int)}): torchvision {@code Resize(size, BICUBIC)} of the shorter side
 * (long side {@code int(size * long / short)}), {@code CenterCrop(size)} with
 * {@code int(round((h - size) / 2))} offsets (round half to even, as Python's {@code round}),
 * {@code ToTensor} and {@code Normalize}. Resizing is {@link PilResize}, so values match Pillow.
 *
 * <p><b>Train</b> ({@link #train(int, long)}): {@code RandomResizedCrop(size, scale=(0.08, 1),
 * ratio=(3/4, 4/3), BICUBIC)} with torchvision's 10-attempt algorithm and its centre-crop fallback,
 * {@code RandomHorizontalFlip(0.5)}, {@code ToTensor}, {@code Normalize}. The random numbers come from
 * a {@link SplittableRandom} derived from {@code (seed, epoch, index)}, so an image gets the same
 * augmentation on every run and after a resume regardless of thread scheduling. This deliberately
 * does <em>not</em> replay torch's RNG stream (that depends on worker seeding and torch versions);
 * the augmentation distribution is the same, the individual draws are not.
 *
 * <p>Normalisation is done in float32 exactly like torch: {@code (b / 255f - mean) / std}.
 */
public final class Transforms {
  /** CLIP's per-channel mean (RGB). */
  public static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
  /** CLIP's per-channel std (RGB). */
  public static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

  private static final double SCALE_MIN = 0.08;
  private static final double SCALE_MAX = 1.0;
  private static final double RATIO_MIN = 3.0 / 4.0;
  private static final double RATIO_MAX = 4.0 / 3.0;

  private Transforms() {}

  /** A transform of one decoded image into a normalised CHW tensor. */
  public interface ImageTransform {
    /**
     * Transforms {@code img} into {@code out[offset .. offset + 3*size*size)}.
     *
     * @param epoch training epoch (ignored by the test transform)
     * @param index index of the item in its dataset (ignored by the test transform)
     */
    void apply(RgbImage img, long epoch, long index, float[] out, int offset);

    /** Convenience: a fresh array. */
    default float[] apply(RgbImage img, long epoch, long index) {
      int s = outputSize();
      float[] out = new float[3 * s * s];
      apply(img, epoch, index, out, 0);
      return out;
    }

    /** Output side length. */
    int outputSize();
  }

  /** The CLIP test transform (shorter-side bicubic resize, centre crop, normalise). */
  public static ImageTransform test(int size) {
    checkSize(size);
    return new ImageTransform() {
      @Override
      public void apply(RgbImage img, long epoch, long index, float[] out, int offset) {
        RgbImage r = resizeShorter(img, size);
        RgbImage c = centerCrop(r, size);
        normalize(c, out, offset);
      }

      @Override
      public int outputSize() {
        return size;
      }
    };
  }

  /** The Dassl train transform (RandomResizedCrop + horizontal flip + normalise), seeded. */
  public static ImageTransform train(int size, long seed) {
    checkSize(size);
    return new ImageTransform() {
      @Override
      public void apply(RgbImage img, long epoch, long index, float[] out, int offset) {
        SplittableRandom rng = rngFor(seed, epoch, index);
        int[] box = randomResizedCropParams(img.width(), img.height(), rng);
        RgbImage r = resizedCrop(img, box[0], box[1], box[2], box[3], size);
        boolean flip = rng.nextDouble() < 0.5;
        normalize(r, flip, out, offset);
      }

      @Override
      public int outputSize() {
        return size;
      }
    };
  }

  private static void checkSize(int size) {
    if (size <= 0) throw new IllegalArgumentException("transform size must be positive, got " + size);
  }

  /** The RNG for one (seed, epoch, index): a SplitMix-style mix, so nearby triples are unrelated. */
  public static SplittableRandom rngFor(long seed, long epoch, long index) {
    long h = mix(seed ^ 0x9E3779B97F4A7C15L);
    h = mix(h ^ epoch * 0xBF58476D1CE4E5B9L);
    h = mix(h ^ index * 0x94D049BB133111EBL);
    return new SplittableRandom(h);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * torchvision {@code RandomResizedCrop.get_params}: returns {@code {top, left, h, w}}.
   * Ten attempts at a random area fraction in [0.08, 1] and a log-uniform aspect ratio in [3/4, 4/3];
   * if none fits, a centre crop clamped to the ratio range.
   */
  public static int[] randomResizedCropParams(int width, int height, SplittableRandom rng) {
    double area = (double) height * width;
    double logMin = Math.log(RATIO_MIN);
    double logMax = Math.log(RATIO_MAX);
    for (int attempt = 0; attempt < 10; attempt++) {
      double targetArea = area * (SCALE_MIN + (SCALE_MAX - SCALE_MIN) * rng.nextDouble());
      double aspect = Math.exp(logMin + (logMax - logMin) * rng.nextDouble());
      int w = (int) Math.rint(Math.sqrt(targetArea * aspect));
      int h = (int) Math.rint(Math.sqrt(targetArea / aspect));
      if (0 < w && w <= width && 0 < h && h <= height) {
        int i = rng.nextInt(height - h + 1);
        int j = rng.nextInt(width - w + 1);
        return new int[] {i, j, h, w};
      }
    }
    double inRatio = (double) width / height;
    int w;
    int h;
    if (inRatio < RATIO_MIN) {
      w = width;
      h = (int) Math.rint(w / RATIO_MIN);
    } else if (inRatio > RATIO_MAX) {
      h = height;
      w = (int) Math.rint(h * RATIO_MAX);
    } else {
      w = width;
      h = height;
    }
    return new int[] {(height - h) / 2, (width - w) / 2, h, w};
  }

  /** torchvision {@code F.resized_crop(img, top, left, h, w, [size, size], BICUBIC)} on a PIL image: crop, then resize. */
  public static RgbImage resizedCrop(RgbImage img, int top, int left, int h, int w, int size) {
    return PilResize.resize(img.crop(left, top, w, h), size, size);
  }

  /** torchvision {@code Resize(size)} with an int: the shorter side becomes {@code size}. */
  public static RgbImage resizeShorter(RgbImage img, int size) {
    int w = img.width();
    int h = img.height();
    int shortSide = Math.min(w, h);
    int longSide = Math.max(w, h);
    int newLong = (int) ((double) size * longSide / shortSide);
    int newW = w <= h ? size : newLong;
    int newH = w <= h ? newLong : size;
    return PilResize.resize(img, newW, newH);
  }

  /** torchvision {@code CenterCrop(size)} for an image at least {@code size} on both sides. */
  public static RgbImage centerCrop(RgbImage img, int size) {
    if (img.width() < size || img.height() < size) {
      throw new IllegalArgumentException("center crop " + size + " larger than image " + img.width() + "x" + img.height());
    }
    int top = (int) Math.rint((img.height() - size) / 2.0);
    int left = (int) Math.rint((img.width() - size) / 2.0);
    return img.crop(left, top, size, size);
  }

  /**
   * {@code (b / 255f - mean) / std} for every byte value and channel, computed with the same float
   * operations as torch, so a table lookup gives bit-identical values.
   */
  private static final float[][] NORMALIZED = new float[3][256];

  static {
    for (int c = 0; c < 3; c++) {
      for (int v = 0; v < 256; v++) NORMALIZED[c][v] = (v / 255f - CLIP_MEAN[c]) / CLIP_STD[c];
    }
  }

  /** ToTensor + Normalize into CHW float32 at {@code out[offset..]}. */
  public static void normalize(RgbImage img, float[] out, int offset) {
    normalize(img, false, out, offset);
  }

  /**
   * ToTensor + Normalize, optionally of the left-right mirror image ({@code hflip} fused into the
   * write, so no flipped copy is made).
   */
  public static void normalize(RgbImage img, boolean flip, float[] out, int offset) {
    int w = img.width();
    int h = img.height();
    int n = w * h;
    byte[] rgb = img.rgb();
    float[] lr = NORMALIZED[0];
    float[] lg = NORMALIZED[1];
    float[] lb = NORMALIZED[2];
    for (int y = 0; y < h; y++) {
      int row = y * w;
      for (int x = 0; x < w; x++) {
        int s = (row + x) * 3;
        int d = offset + row + (flip ? w - 1 - x : x);
        out[d] = lr[rgb[s] & 0xff];
        out[d + n] = lg[rgb[s + 1] & 0xff];
        out[d + 2 * n] = lb[rgb[s + 2] & 0xff];
      }
    }
  }
}
