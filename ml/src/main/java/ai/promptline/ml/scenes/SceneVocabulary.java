package ai.promptline.ml.scenes;

import java.util.ArrayList;
import java.util.List;

/**
 * The attribute words of the generated image–caption world: 10 shapes × 10 colours × 5 patterns ×
 * 3 sizes × 5 positions × 5 backgrounds × 3 image qualities (112,500 distinct scenes). Class names of
 * the downstream benchmark are (colour, shape) pairs such as "red triangle"; the pairs of its novel
 * half ({@link #HELD_OUT}) never occur in the pretraining corpus, neither rendered nor captioned.
 */
public final class SceneVocabulary {
  public static final String[] SHAPES = {
    "circle", "square", "triangle", "diamond", "pentagon", "hexagon", "star", "cross", "semicircle", "crescent"
  };
  public static final String[] COLOURS = {
    "red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "brown", "black"
  };
  /** sRGB of each colour (before jitter). */
  static final int[] RGB = {
    0xD62728, 0xFF7F0E, 0xF2D40C, 0x2CA02C, 0x17BECF, 0x1F4FD6, 0x8E3CB5, 0xF58FC8, 0x8C564B, 0x202020
  };
  /** "plain" is often left out of captions, as people do. */
  public static final String[] PATTERNS = {"plain", "striped", "dotted", "checkered", "outlined"};
  public static final String[] SIZES = {"small", "medium", "large"};
  /** Position phrases; the object's centre lies in that region of the image. */
  public static final String[] POSITIONS = {"on the left", "on the right", "at the top", "at the bottom", "in the middle"};
  public static final String[] BACKGROUNDS = {"white", "grey", "dark", "beige", "mint"};
  static final int[] BACKGROUND_RGB = {0xF2F2F2, 0x9A9A9A, 0x2E2E2E, 0xE6D5AE, 0xC6EBD4};
  /** Image quality words, used in the caption's opening ("a blurry photo of ..."). */
  public static final String[] QUALITIES = {"clean", "blurry", "noisy"};

  /** Number of downstream classes: 12 base (seen in pretraining) then 12 novel (held out). */
  public static final int BENCHMARK_CLASSES = 24;

  /**
   * The benchmark's class pairs {colour, shape} in label order: labels 0–11 are the base half
   * (CoOp's {@code subsample_classes} takes the first ⌈n/2⌉ labels), 12–23 the novel half. Every
   * colour and every shape of a novel pair also occurs in pretraining with other partners, so
   * the novel classes test composition of known words, not unknown words.
   */
  public static final List<int[]> BENCHMARK_PAIRS = pairs();

  /** The novel half of {@link #BENCHMARK_PAIRS}: (colour, shape) pairs absent from pretraining. */
  public static final List<int[]> HELD_OUT = BENCHMARK_PAIRS.subList(BENCHMARK_CLASSES / 2, BENCHMARK_CLASSES);

  private SceneVocabulary() {}

  private static List<int[]> pairs() {
    // Base: colours 0-5, each with shapes (c + 1) and (c + 5) mod 10. Novel: colours 4-9, each with
    // shapes (c + 3) and (c + 7) mod 10. Shape offsets {1, 5} and {3, 7} never coincide, so the
    // halves are disjoint; within each half every colour names two classes and most shapes two, so
    // neither word alone separates a half's classes: zero-shot must compose both.
    List<int[]> out = new ArrayList<>();
    for (int c = 0; c < 6; c++) {
      out.add(new int[] {c, (c + 1) % 10});
      out.add(new int[] {c, (c + 5) % 10});
    }
    for (int c = 4; c < 10; c++) {
      out.add(new int[] {c, (c + 3) % 10});
      out.add(new int[] {c, (c + 7) % 10});
    }
    return List.copyOf(out);
  }

  /** True when (colour, shape) is a held-out novel pair. */
  public static boolean heldOut(int colour, int shape) {
    for (int[] p : HELD_OUT) if (p[0] == colour && p[1] == shape) return true;
    return false;
  }

  /** Class name of benchmark label {@code i}, e.g. "red square". */
  public static String className(int i) {
    int[] p = BENCHMARK_PAIRS.get(i);
    return COLOURS[p[0]] + " " + SHAPES[p[1]];
  }
}
