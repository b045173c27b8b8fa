package ai.promptline.ml.data;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Writes a small but real image-classification dataset: every class is a (colour, pattern) pair
 * such as "red circle" or "blue checkerboard", rendered with random position, size, colour jitter,
 * background tint and pixel noise, so that a frozen CLIP can tell classes apart zero-shot
 * and prompt learning has something to learn. Used by tests and the end-to-end demo in place of
 * the real benchmarks (which cannot be downloaded here).
 *
 * <p>Layout (same as the reference datasets): {@code <root>/images/<class_folder>/<n>.png|jpg} and
 * {@code <root>/split_promptline_<Name>.json} with paths relative to {@code <root>/images}. Even
 * image numbers are PNG, odd ones JPEG (quality 0.9), so both decoders are exercised. Output is a pure
 * function of the {@link SyntheticSpec} (each image has its own RNG derived from seed, class and
 * index), so regenerating gives byte-identical files.
 */
public final class SyntheticDataset {
  /** Colours (name, RGB); class i uses colour (pattern + round) mod colours, see {@link #className}. */
  private static final String[] COLOUR_NAMES = {"red", "blue", "green", "yellow", "purple", "orange", "cyan", "pink"};
  private static final int[] COLOURS = {0xD62728, 0x1F4FD6, 0x2CA02C, 0xF2D40C, 0x8E3CB5, 0xFF7F0E, 0x17BECF, 0xF58FC8};
  private static final String[] PATTERNS = {
    "circle", "square", "triangle", "cross", "ring", "diamond",
    "horizontal stripes", "vertical stripes", "checkerboard", "polka dots"
  };
  /** Distinct (pattern, colour) pairs available. */
  public static final int MAX_CLASSES = PATTERNS.length * COLOUR_NAMES.length;

  private SyntheticDataset() {}

  /** Result of a generation: where things are and what was written. */
  public record Generated(Path root, Path imageRoot, Path splitFile, Splits splits, List<String> classNames) {}

  /** Class name of class {@code i}: pattern {@code i % P}, colour {@code (pattern + i / P) % C}. */
  public static String className(int i) {
    int p = i % PATTERNS.length;
    int c = (p + i / PATTERNS.length) % COLOUR_NAMES.length;
    return COLOUR_NAMES[c] + " " + PATTERNS[p];
  }

  private static int colourOf(int i) {
    int p = i % PATTERNS.length;
    return COLOURS[(p + i / PATTERNS.length) % COLOURS.length];
  }

  /** Generates the dataset under {@code root} (created if needed; existing files are overwritten). */
  public static Generated generate(Path root, SyntheticSpec spec) {
    List<String> names = new ArrayList<>();
    for (int c = 0; c < spec.numClasses(); c++) names.add(className(c));
    int[] counts = {spec.trainPerClass(), spec.valPerClass(), spec.testPerClass()};
    return write(root, spec.name(), names, counts,
        (c, n) -> render(c, spec.imageSize(), new SplittableRandom(mix(spec.seed(), c, n))));
  }

  /** Draws image {@code n} (numbered across the splits) of class {@code cls}. */
  public interface Painter {
    BufferedImage paint(int cls, int n) throws IOException;
  }

  /**
   * Writes a generated dataset in the reference layout: per class, {@code counts[0..2]} train, val
   * and test images numbered from 0 across the splits ({@code images/<folder>/<n>.png|jpg}, even
   * numbers PNG, odd JPEG) and {@code split_promptline_<name>.json}.
   */
  public static Generated write(Path root, String name, List<String> classNames, int[] counts, Painter painter) {
    Path images = root.resolve("images");
    List<SplitItem> train = new ArrayList<>();
    List<SplitItem> val = new ArrayList<>();
    List<SplitItem> test = new ArrayList<>();
    List<List<SplitItem>> lists = List.of(train, val, test);
    try {
      for (int c = 0; c < classNames.size(); c++) {
        String cls = classNames.get(c);
        String folder = folderOf(cls);
        Files.createDirectories(images.resolve(folder));
        int n = 0;
        for (int s = 0; s < 3; s++) {
          for (int k = 0; k < counts[s]; k++, n++) {
            boolean png = n % 2 == 0;
            String rel = folder + "/" + n + (png ? ".png" : ".jpg");
            write(painter.paint(c, n), images.resolve(rel), png);
            lists.get(s).add(new SplitItem(rel, c, cls));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write dataset " + name + " under " + root + ": " + e.getMessage(), e);
    }
    Splits splits = new Splits(train, val, test);
    Path splitFile = root.resolve("split_promptline_" + name + ".json");
    SplitFile.write(splitFile, splits);
    return new Generated(root, images, splitFile, splits, List.copyOf(classNames));
  }

  private static long mix(long seed, int cls, int n) {
    long z = seed * 0x9E3779B97F4A7C15L + cls * 0xBF58476D1CE4E5B9L + n * 0x94D049BB133111EBL;
    z = (z ^ (z >>> 31)) * 0xD6E8FEB86659FD39L;
    return z ^ (z >>> 29);
  }

  /**
   * Renders one image with plain per-pixel geometry and 3×3 supersampled coverage (no AWT
   * Graphics2D: its anti-aliasing may differ between JDK builds, and it costs start-up time), so
   * the pixels are a pure function of (class, size, rng).
   */
  static BufferedImage render(int cls, int size, SplittableRandom rng) {
    // Aspect ratio varies (0.75..1.33) so resize/crop paths see non-square inputs.
    double ratio = 0.75 + rng.nextDouble() * 0.58;
    int w = Math.max(8, (int) Math.round(size * Math.sqrt(ratio)));
    int h = Math.max(8, (int) Math.round(size / Math.sqrt(ratio)));
    int bgBase = 200 + rng.nextInt(50);
    int[] bg = {bgBase - rng.nextInt(20), bgBase - rng.nextInt(20), bgBase - rng.nextInt(20)};
    int[] fg = jitter(colourOf(cls), rng);
    int p = cls % PATTERNS.length;
    int m = Math.min(w, h);
    double s = m * (0.45 + rng.nextDouble() * 0.35);
    double cx = w / 2.0 + (rng.nextDouble() - 0.5) * (w - s) * 0.8;
    double cy = h / 2.0 + (rng.nextDouble() - 0.5) * (h - s) * 0.8;
    double period = switch (p) {
      case 6, 7 -> Math.max(4, m / (4.0 + rng.nextInt(3)));
      case 8 -> Math.max(3, m / (4.0 + rng.nextInt(4)));
      case 9 -> Math.max(5, m / (4.0 + rng.nextInt(3)));
      default -> 0;
    };
    double phase = period > 0 ? rng.nextDouble() * period : 0;
    Shape shape = shape(p, cx, cy, s / 2, period, phase);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
    // Pixel corners first: a pixel whose four corners agree is fully inside or outside (features are
    // several pixels wide), so only edge pixels pay for the 3x3 supersampling.
    boolean[] corner = new boolean[(w + 1) * (h + 1)];
    for (int y = 0; y <= h; y++) for (int x = 0; x <= w; x++) corner[y * (w + 1) + x] = shape.contains(x, y);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int k = y * (w + 1) + x;
        boolean c0 = corner[k];
        int hits;
        if (c0 == corner[k + 1] && c0 == corner[k + w + 1] && c0 == corner[k + w + 2]) {
          hits = c0 ? 9 : 0;
        } else {
          hits = 0;
          for (int sy = 0; sy < 3; sy++) {
            for (int sx = 0; sx < 3; sx++) if (shape.contains(x + (sx + 0.5) / 3, y + (sy + 0.5) / 3)) hits++;
          }
        }
        int noise = rng.nextInt(17) - 8;
        int rgb = 0;
        for (int c = 0; c < 3; c++) {
          int v = (fg[c] * hits + bg[c] * (9 - hits) + 4) / 9 + noise;
          rgb = (rgb << 8) | clamp(v);
        }
        px[y * w + x] = rgb;
      }
    }
    return img;
  }

  /** Point-in-pattern test in pixel coordinates. */
  private interface Shape {
    boolean contains(double x, double y);
  }

  private static Shape shape(int pattern, double cx, double cy, double r, double period, double phase) {
    return switch (pattern) {
      case 0 -> (x, y) -> sq(x - cx) + sq(y - cy) <= r * r; // circle
      case 1 -> (x, y) -> Math.abs(x - cx) <= r && Math.abs(y - cy) <= r; // square
      case 2 -> (x, y) -> { // upright triangle: apex at top, base at the bottom
        double t = (y - (cy - r)) / (2 * r);
        return t >= 0 && t <= 1 && Math.abs(x - cx) <= t * r;
      };
      case 3 -> (x, y) -> { // cross with arm width r/2
        double dx = Math.abs(x - cx);
        double dy = Math.abs(y - cy);
        return (dx <= r / 4 && dy <= r) || (dy <= r / 4 && dx <= r);
      };
      case 4 -> (x, y) -> { // ring with thickness r/3.5
        double d = Math.sqrt(sq(x - cx) + sq(y - cy));
        return d <= r && d >= r - r / 3.5;
      };
      case 5 -> (x, y) -> Math.abs(x - cx) + Math.abs(y - cy) <= r; // diamond
      case 6 -> (x, y) -> Math.floorMod((long) Math.floor((y + phase) * 2 / period), 2) == 0; // horizontal stripes
      case 7 -> (x, y) -> Math.floorMod((long) Math.floor((x + phase) * 2 / period), 2) == 0; // vertical stripes
      case 8 -> (x, y) -> Math.floorMod((long) Math.floor((x + phase) / period) + (long) Math.floor((y + phase) / period), 2) == 0;
      case 9 -> (x, y) -> { // polka dots on a square grid
        double gx = Math.floorMod((long) Math.floor(x + phase), (long) period) + (x - Math.floor(x));
        double gy = Math.floorMod((long) Math.floor(y + phase), (long) period) + (y - Math.floor(y));
        return sq(gx - period / 2) + sq(gy - period / 2) <= sq(period * 0.3);
      };
      default -> throw new IllegalStateException("pattern " + pattern);
    };
  }

  private static double sq(double v) {
    return v * v;
  }

  private static int[] jitter(int rgb, SplittableRandom rng) {
    return new int[] {
      clamp(((rgb >> 16) & 0xff) + rng.nextInt(31) - 15),
      clamp(((rgb >> 8) & 0xff) + rng.nextInt(31) - 15),
      clamp((rgb & 0xff) + rng.nextInt(31) - 15)
    };
  }

  private static int clamp(int v) {
    return v < 0 ? 0 : Math.min(255, v);
  }

  /** Writes one image as PNG or as JPEG at quality 0.9. */
  public static void write(BufferedImage img, Path file, boolean png) throws IOException {
    if (png) {
      if (!ImageIO.write(img, "png", file.toFile())) throw new IOException("no PNG writer");
      return;
    }
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    try (var os = Files.newOutputStream(file);
        ImageOutputStream out = ImageIO.createImageOutputStream(os)) {
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(0.9f);
      writer.setOutput(out);
      writer.write(null, new IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
  }

  /** Lower-case folder-safe form of a class name (spaces to underscores). */
  public static String folderOf(String className) {
    return className.toLowerCase(Locale.ROOT).replace(' ', '_');
  }
}
