package ai.promptline.ml.scenes;

/**
 * One rendered object and its attributes, as indices into {@link SceneVocabulary}'s word lists.
 *
 * @param shape index into {@link SceneVocabulary#SHAPES}
 * @param colour index into {@link SceneVocabulary#COLOURS}
 * @param pattern index into {@link SceneVocabulary#PATTERNS}
 * @param size index into {@link SceneVocabulary#SIZES}
 * @param position index into {@link SceneVocabulary#POSITIONS}
 * @param background index into {@link SceneVocabulary#BACKGROUNDS}
 * @param quality index into {@link SceneVocabulary#QUALITIES} (clean, blurry, noisy)
 */
public record Scene(int shape, int colour, int pattern, int size, int position, int background, int quality) {
  public Scene {
    check("shape", shape, SceneVocabulary.SHAPES.length);
    check("colour", colour, SceneVocabulary.COLOURS.length);
    check("pattern", pattern, SceneVocabulary.PATTERNS.length);
    check("size", size, SceneVocabulary.SIZES.length);
    check("position", position, SceneVocabulary.POSITIONS.length);
    check("background", background, SceneVocabulary.BACKGROUNDS.length);
    check("quality", quality, SceneVocabulary.QUALITIES.length);
  }

  private static void check(String what, int v, int n) {
    if (v < 0 || v >= n) throw new IllegalArgumentException(what + " index " + v + " is outside 0.." + (n - 1));
  }

  /** The (colour, shape) pair that names a downstream class, e.g. "red triangle". */
  public String colourShape() {
    return SceneVocabulary.COLOURS[colour] + " " + SceneVocabulary.SHAPES[shape];
  }
}
