package ai.promptline.ml.scenes;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Renders a {@link Scene} to 8-bit RGB with plain per-pixel geometry (2×2 supersampling), so pixels
 * are a pure function of (scene, size, style, rng) on every JDK.
 *
 * <p>Two styles. {@link Style#PRETRAIN}: flat background, shapes within ±5° of upright, mild
 * colour jitter; what the tiny CLIP is pretrained on. {@link Style#SHIFTED}: the downstream
 * benchmark's, deliberately different: shapes rotated up to ±15°, one or two grey smudges
 * (distractor blobs), stronger colour jitter and noise. {@link SceneBenchmark} adds the domain
 * (which attributes its images share).
 */
public final class SceneRenderer {
  /**
   * A rendering distribution.
   *
   * @param name label for reports
   * @param rotationDegrees full range of the object's rotation (uniform, centred on upright)
   * @param colourJitter ± per-channel jitter of the object colour
   * @param backgroundJitter ± per-channel jitter of the background colour(s)
   * @param gradient a vertical gradient to a second random background colour
   * @param maxDistractors 1..max grey distractor blobs when > 0
   * @param noise Gaussian pixel-noise sigma for clean and blurry images (noisy ones: 22)
   * @param sizeScale object radius relative to the pretraining sizes
   */
  public record Style(String name, double rotationDegrees, int colourJitter, int backgroundJitter, boolean gradient,
      int maxDistractors, double noise, double sizeScale) {
    public static final Style PRETRAIN = new Style("pretrain", 10, 16, 10, false, 0, 3, 1.0);
    public static final Style SHIFTED = new Style("shifted", 30, 24, 28, false, 2, 6, 1.0);

    public static List<Style> values() {
      return List.of(PRETRAIN, SHIFTED);
    }
  }

  private SceneRenderer() {}

  /** A rendered image: {@code rgb[y * width + x] = 0xRRGGBB}. */
  public record Rendered(int width, int height, int[] rgb) {}

  public static Rendered render(Scene s, int width, int height, Style style, SplittableRandom rng) {
    int m = Math.min(width, height);
    // size → radius as a fraction of the shorter side
    double[][] radius = {{0.17, 0.23}, {0.26, 0.32}, {0.35, 0.43}};
    double r = m * (radius[s.size()][0] + rng.nextDouble() * (radius[s.size()][1] - radius[s.size()][0]));
    if (style.sizeScale() != 1.0) r = Math.min(r * style.sizeScale(), m * 0.48);
    double[] c = centre(s.position(), width, height, r, rng);
    double angle = (rng.nextDouble() - 0.5) * Math.toRadians(style.rotationDegrees());
    double cos = Math.cos(angle);
    double sin = Math.sin(angle);
    int[] fg = jitter(SceneVocabulary.RGB[s.colour()], style.colourJitter(), rng);
    int[] light = blend(fg, new int[] {255, 255, 255}, 0.62);
    int[] bgTop = jitter(SceneVocabulary.BACKGROUND_RGB[s.background()], style.backgroundJitter(), rng);
    int[] bgBottom = style.gradient()
        ? jitter(SceneVocabulary.BACKGROUND_RGB[rng.nextInt(SceneVocabulary.BACKGROUND_RGB.length)], style.backgroundJitter(), rng)
        : bgTop;
    double period = 0.36 + rng.nextDouble() * 0.12; // pattern period in object units
    double phase = rng.nextDouble();
    int distractors = style.maxDistractors() > 0 ? 1 + rng.nextInt(style.maxDistractors()) : 0;
    double[][] blobs = new double[distractors][];
    for (int i = 0; i < distractors; i++) {
      int g = 90 + rng.nextInt(120);
      blobs[i] = new double[] {rng.nextDouble() * width, rng.nextDouble() * height, m * (0.05 + rng.nextDouble() * 0.07), g};
    }
    int[] px = new int[width * height];
    int[][] palette = new int[3 + distractors][];
    palette[1] = fg;
    palette[2] = light;
    for (int i = 0; i < distractors; i++) palette[3 + i] = new int[] {(int) blobs[i][3], (int) blobs[i][3], (int) blobs[i][3]};
    // What covers each pixel corner; a pixel whose four corners agree is uniform (features are
    // several pixels wide), so only edge pixels pay for the 2x2 supersampling.
    int cw = width + 1;
    int[] corner = new int[cw * (height + 1)];
    for (int y = 0; y <= height; y++) {
      for (int x = 0; x <= width; x++) corner[y * cw + x] = cover(s, x, y, c, r, cos, sin, period, phase, blobs);
    }
    for (int y = 0; y < height; y++) {
      double t = height == 1 ? 0 : y / (double) (height - 1);
      palette[0] = new int[] {lerp(bgTop[0], bgBottom[0], t), lerp(bgTop[1], bgBottom[1], t), lerp(bgTop[2], bgBottom[2], t)};
      for (int x = 0; x < width; x++) {
        int k = y * cw + x;
        int code = corner[k];
        if (code == corner[k + 1] && code == corner[k + cw] && code == corner[k + cw + 1]) {
          int[] col = palette[code];
          px[y * width + x] = col[0] << 16 | col[1] << 8 | col[2];
          continue;
        }
        int r0 = 0, g0 = 0, b0 = 0;
        for (int sy = 0; sy < 2; sy++) {
          for (int sx = 0; sx < 2; sx++) {
            int[] col = palette[cover(s, x + 0.25 + 0.5 * sx, y + 0.25 + 0.5 * sy, c, r, cos, sin, period, phase, blobs)];
            r0 += col[0];
            g0 += col[1];
            b0 += col[2];
          }
        }
        px[y * width + x] = ((r0 + 2) / 4) << 16 | ((g0 + 2) / 4) << 8 | ((b0 + 2) / 4);
      }
    }
    if (s.quality() == 1) boxBlur(px, width, height, Math.max(1, m / 40));
    double sigma = s.quality() == 2 ? 22 : style.noise();
    addNoise(px, sigma, rng);
    return new Rendered(width, height, px);
  }

  /** What covers image point (px, py): 0 background, 1 foreground, 2 pattern colour, 3+i distractor i. */
  private static int cover(Scene s, double px, double py, double[] c, double r, double cos, double sin, double period,
      double phase, double[][] blobs) {
    double dx = (px - c[0]) / r;
    double dy = (py - c[1]) / r;
    int paint = paint(s.shape(), s.pattern(), cos * dx + sin * dy, -sin * dx + cos * dy, period, phase);
    if (paint != 0) return paint;
    for (int i = blobs.length - 1; i >= 0; i--) {
      double[] b = blobs[i];
      if (sq(px - b[0]) + sq(py - b[1]) <= sq(b[2])) return 3 + i;
    }
    return 0;
  }

  /** 0 = outside the object, 1 = foreground colour, 2 = the pattern's light colour. */
  static int paint(int shape, int pattern, double u, double v, double period, double phase) {
    if (!inside(shape, u, v)) return 0;
    return switch (pattern) {
      case 0 -> 1; // plain
      case 1 -> Math.floorMod((long) Math.floor(v / period * 2 + phase * 2), 2) == 0 ? 1 : 2; // striped
      case 2 -> { // dotted
        double gu = frac(u / period + phase) - 0.5;
        double gv = frac(v / period + phase) - 0.5;
        yield gu * gu + gv * gv <= 0.09 ? 2 : 1;
      }
      case 3 -> Math.floorMod((long) Math.floor(u / period + phase) + (long) Math.floor(v / period + phase), 2) == 0 ? 1 : 2;
      case 4 -> inside(shape, u / 0.68, v / 0.68) ? 0 : 1; // outlined: a band along the edge
      default -> throw new IllegalStateException("pattern " + pattern);
    };
  }

  /** Point-in-shape in object units (radius 1, v pointing down). */
  static boolean inside(int shape, double u, double v) {
    return switch (shape) {
      case 0 -> u * u + v * v <= 1; // circle
      case 1 -> Math.abs(u) <= 0.82 && Math.abs(v) <= 0.82; // square
      case 2 -> { // triangle, apex up
        double t = (v + 0.95) / 1.75;
        yield t >= 0 && t <= 1 && Math.abs(u) <= t * 0.98;
      }
      case 3 -> Math.abs(u) * 1.25 + Math.abs(v) <= 1; // diamond, taller than wide
      case 4 -> regular(5, u, v); // pentagon
      case 5 -> regular(6, u, v); // hexagon
      case 6 -> { // five-pointed star
        double rr = Math.sqrt(u * u + v * v);
        double a = Math.atan2(u, -v); // 0 at the top
        double sector = 2 * Math.PI / 5;
        double f = Math.abs(frac(a / sector + 0.5) - 0.5) * 2; // 0 at a tip, 1 between tips
        yield rr <= 1 - 0.58 * f;
      }
      case 7 -> (Math.abs(u) <= 0.3 && Math.abs(v) <= 0.95) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 0.95); // cross
      case 8 -> v >= -0.55 && v <= 0.45 && u * u + sq(v - 0.45) <= 1; // semicircle, flat side down
      case 9 -> u * u + v * v <= 1 && sq(u - 0.5) + sq(v + 0.1) > 0.62; // crescent
      default -> throw new IllegalStateException("shape " + shape);
    };
  }

  /** Regular n-gon of circumradius 1 with a vertex at the top. */
  private static boolean regular(int n, double u, double v) {
    double[][] normals = n == 5 ? PENTAGON : HEXAGON;
    double apothem = Math.cos(Math.PI / n);
    for (double[] nv : normals) if (u * nv[0] - v * nv[1] > apothem) return false;
    return true;
  }

  private static final double[][] PENTAGON = normals(5);
  private static final double[][] HEXAGON = normals(6);

  /** Edge normals of a regular n-gon with a vertex at the top (between consecutive vertices). */
  private static double[][] normals(int n) {
    double[][] out = new double[n][];
    for (int k = 0; k < n; k++) {
      double th = Math.PI / 2 + Math.PI / n + 2 * Math.PI * k / n;
      out[k] = new double[] {Math.cos(th), Math.sin(th)};
    }
    return out;
  }

  private static double[] centre(int position, int w, int h, double r, SplittableRandom rng) {
    double jx = (rng.nextDouble() - 0.5) * 0.12;
    double jy = (rng.nextDouble() - 0.5) * 0.12;
    double fx = 0.5 + jx;
    double fy = 0.5 + jy;
    switch (position) {
      case 0 -> fx = 0.27 + jx; // left
      case 1 -> fx = 0.73 + jx; // right
      case 2 -> fy = 0.27 + jy; // top
      case 3 -> fy = 0.73 + jy; // bottom
      default -> {}
    }
    double cx = Math.max(r * 0.7, Math.min(w - r * 0.7, fx * w));
    double cy = Math.max(r * 0.7, Math.min(h - r * 0.7, fy * h));
    return new double[] {cx, cy};
  }

  private static void boxBlur(int[] px, int w, int h, int rad) {
    int[] tmp = new int[px.length];
    for (int pass = 0; pass < 2; pass++) {
      boolean horizontal = pass == 0;
      int[] src = horizontal ? px : tmp;
      int[] dst = horizontal ? tmp : px;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int r = 0, g = 0, b = 0, n = 0;
          for (int d = -rad; d <= rad; d++) {
            int xx = horizontal ? x + d : x;
            int yy = horizontal ? y : y + d;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            int p = src[yy * w + xx];
            r += (p >> 16) & 0xff;
            g += (p >> 8) & 0xff;
            b += p & 0xff;
            n++;
          }
          dst[y * w + x] = (r / n) << 16 | (g / n) << 8 | (b / n);
        }
      }
    }
  }

  private static void addNoise(int[] px, double sigma, SplittableRandom rng) {
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      int n = (int) Math.round(gaussian(rng) * sigma);
      px[i] = clamp(((p >> 16) & 0xff) + n) << 16 | clamp(((p >> 8) & 0xff) + n) << 8 | clamp((p & 0xff) + n);
    }
  }

  static double gaussian(SplittableRandom rng) {
    double u1 = 1 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static int[] jitter(int rgb, int amount, SplittableRandom rng) {
    return new int[] {
      clamp(((rgb >> 16) & 0xff) + rng.nextInt(2 * amount + 1) - amount),
      clamp(((rgb >> 8) & 0xff) + rng.nextInt(2 * amount + 1) - amount),
      clamp((rgb & 0xff) + rng.nextInt(2 * amount + 1) - amount)
    };
  }

  private static int[] blend(int[] a, int[] b, double t) {
    return new int[] {lerp(a[0], b[0], t), lerp(a[1], b[1], t), lerp(a[2], b[2], t)};
  }

  private static int lerp(int a, int b, double t) {
    return (int) Math.round(a + (b - a) * t);
  }

  private static double frac(double x) {
    return x - Math.floor(x);
  }

  private static double sq(double v) {
    return v * v;
  }

  private static int clamp(int v) {
    return v < 0 ? 0 : Math.min(255, v);
  }
}
