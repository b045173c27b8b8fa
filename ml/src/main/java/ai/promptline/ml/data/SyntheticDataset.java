package ai.promptline.ml.data;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
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
 * such as "red circle" or "blue checkerboard", rendered with random position, size, rotation-free
 * jitter, background tint and pixel noise, so that a frozen CLIP can tell classes apart zero-shot
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
    Path images = root.resolve("images");
    List<SplitItem> train = new ArrayList<>();
    List<SplitItem> val = new ArrayList<>();
    List<SplitItem> test = new ArrayList<>();
    List<String> names = new ArrayList<>();
    try {
      for (int c = 0; c < spec.numClasses(); c++) {
        String name = className(c);
        names.add(name);
        String folder = name.replace(' ', '_');
        Files.createDirectories(images.resolve(folder));
        int n = 0;
        int[] counts = {spec.trainPerClass(), spec.valPerClass(), spec.testPerClass()};
        List<List<SplitItem>> lists = List.of(train, val, test);
        for (int s = 0; s < 3; s++) {
          for (int k = 0; k < counts[s]; k++, n++) {
            boolean png = n % 2 == 0;
            String rel = folder + "/" + n + (png ? ".png" : ".jpg");
            BufferedImage img = render(c, spec.imageSize(), new SplittableRandom(mix(spec.seed(), c, n)));
            write(img, images.resolve(rel), png);
            lists.get(s).add(new SplitItem(rel, c, name));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write synthetic dataset under " + root + ": " + e.getMessage(), e);
    }
    Splits splits = new Splits(train, val, test);
    Path splitFile = root.resolve("split_promptline_" + spec.name() + ".json");
    SplitFile.write(splitFile, splits);
    return new Generated(root, images, splitFile, splits, names);
  }

  private static long mix(long seed, int cls, int n) {
    long z = seed * 0x9E3779B97F4A7C15L + cls * 0xBF58476D1CE4E5B9L + n * 0x94D049BB133111EBL;
    z = (z ^ (z >>> 31)) * 0xD6E8FEB86659FD39L;
    return z ^ (z >>> 29);
  }

  static BufferedImage render(int cls, int size, SplittableRandom rng) {
    // Aspect ratio varies (0.75..1.33) so resize/crop paths see non-square inputs.
    double ratio = 0.75 + rng.nextDouble() * 0.58;
    int w = Math.max(8, (int) Math.round(size * Math.sqrt(ratio)));
    int h = Math.max(8, (int) Math.round(size / Math.sqrt(ratio)));
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      int bg = 200 + rng.nextInt(50);
      g.setColor(new Color(bg - rng.nextInt(20), bg - rng.nextInt(20), bg - rng.nextInt(20)));
      g.fillRect(0, 0, w, h);
      g.setColor(jitter(colourOf(cls), rng));
      int p = cls % PATTERNS.length;
      int m = Math.min(w, h);
      double s = m * (0.45 + rng.nextDouble() * 0.35);
      double cx = w / 2.0 + (rng.nextDouble() - 0.5) * (w - s) * 0.8;
      double cy = h / 2.0 + (rng.nextDouble() - 0.5) * (h - s) * 0.8;
      double x0 = cx - s / 2;
      double y0 = cy - s / 2;
      switch (p) {
        case 0 -> g.fill(new Ellipse2D.Double(x0, y0, s, s));
        case 1 -> g.fillRect((int) x0, (int) y0, (int) s, (int) s);
        case 2 -> g.fillPolygon(poly(new double[] {cx, x0 + s, x0}, new double[] {y0, y0 + s, y0 + s}));
        case 3 -> {
          int t = (int) Math.max(2, s / 4);
          g.fillRect((int) (cx - t / 2.0), (int) y0, t, (int) s);
          g.fillRect((int) x0, (int) (cy - t / 2.0), (int) s, t);
        }
        case 4 -> {
          g.setStroke(new BasicStroke((float) Math.max(2, s / 7)));
          g.draw(new Ellipse2D.Double(x0, y0, s, s));
        }
        case 5 -> g.fillPolygon(poly(new double[] {cx, x0 + s, cx, x0}, new double[] {y0, cy, y0 + s, cy}));
        case 6, 7 -> {
          int period = Math.max(4, m / (4 + rng.nextInt(3)));
          int off = rng.nextInt(period);
          for (int v = -period + off; v < (p == 6 ? h : w); v += period) {
            if (p == 6) g.fillRect(0, v, w, period / 2);
            else g.fillRect(v, 0, period / 2, h);
          }
        }
        case 8 -> {
          int cell = Math.max(3, m / (4 + rng.nextInt(4)));
          for (int yy = 0; yy < h; yy += cell) {
            for (int xx = 0; xx < w; xx += cell) {
              if (((xx / cell) + (yy / cell)) % 2 == 0) g.fillRect(xx, yy, cell, cell);
            }
          }
        }
        case 9 -> {
          int step = Math.max(5, m / (4 + rng.nextInt(3)));
          double r = step * 0.3;
          for (int yy = step / 2; yy < h; yy += step) {
            for (int xx = step / 2; xx < w; xx += step) g.fill(new Ellipse2D.Double(xx - r, yy - r, 2 * r, 2 * r));
          }
        }
        default -> throw new IllegalStateException("pattern " + p);
      }
    } finally {
      g.dispose();
    }
    int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
    for (int i = 0; i < px.length; i++) {
      int n = rng.nextInt(17) - 8;
      int r = clamp(((px[i] >> 16) & 0xff) + n);
      int gg = clamp(((px[i] >> 8) & 0xff) + n);
      int b = clamp((px[i] & 0xff) + n);
      px[i] = (r << 16) | (gg << 8) | b;
    }
    return img;
  }

  private static Polygon poly(double[] xs, double[] ys) {
    Polygon p = new Polygon();
    for (int i = 0; i < xs.length; i++) p.addPoint((int) Math.round(xs[i]), (int) Math.round(ys[i]));
    return p;
  }

  private static Color jitter(int rgb, SplittableRandom rng) {
    return new Color(
        clamp(((rgb >> 16) & 0xff) + rng.nextInt(31) - 15),
        clamp(((rgb >> 8) & 0xff) + rng.nextInt(31) - 15),
        clamp((rgb & 0xff) + rng.nextInt(31) - 15));
  }

  private static int clamp(int v) {
    return v < 0 ? 0 : Math.min(255, v);
  }

  private static void write(BufferedImage img, Path file, boolean png) throws IOException {
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
