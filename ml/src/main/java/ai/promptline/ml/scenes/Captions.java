package ai.promptline.ml.scenes;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Composes a caption from a scene's attribute words with varied templates and attribute dropout,
 * as web alt-text mentions some attributes and not others: colour and shape always, pattern 60 %
 * (a plain pattern 25 %), size 50 %, position 35 %, background 35 %, and image quality in the opening
 * phrase when it is not clean, half of the time. Example: "a photo of a small red striped triangle
 * on a grey background."
 */
public final class Captions {
  private static final String[] OPENINGS = {
    "a photo of {a}", "{a}", "an image of {a}", "a picture of {a}", "a rendering of {a}", "there is {a}", "a drawing of {a}"
  };

  private Captions() {}

  public static String caption(Scene s, SplittableRandom rng) {
    List<String> words = new ArrayList<>();
    if (rng.nextDouble() < 0.5) words.add(SceneVocabulary.SIZES[s.size()]);
    words.add(SceneVocabulary.COLOURS[s.colour()]);
    if (rng.nextDouble() < (s.pattern() == 0 ? 0.25 : 0.6)) words.add(SceneVocabulary.PATTERNS[s.pattern()]);
    words.add(SceneVocabulary.SHAPES[s.shape()]);
    String object = String.join(" ", words);
    StringBuilder tail = new StringBuilder();
    if (rng.nextDouble() < 0.35) tail.append(' ').append(SceneVocabulary.POSITIONS[s.position()]);
    if (rng.nextDouble() < 0.35) tail.append(" on a ").append(SceneVocabulary.BACKGROUNDS[s.background()]).append(" background");
    String opening = OPENINGS[rng.nextInt(OPENINGS.length)];
    if (s.quality() != 0 && rng.nextDouble() < 0.5) opening = "a " + SceneVocabulary.QUALITIES[s.quality()] + " photo of {a}";
    String text = opening.replace("{a}", article(object) + " " + object) + tail;
    return rng.nextDouble() < 0.5 ? text + "." : text;
  }

  static String article(String next) {
    return "aeiou".indexOf(next.charAt(0)) >= 0 ? "an" : "a";
  }

  /** Every word the corpus can use, so the tokenizer's vocabulary rows in use are known up front. */
  public static List<String> allPhrases() {
    List<String> out = new ArrayList<>();
    for (String o : OPENINGS) out.add(o.replace("{a}", "a an"));
    for (String q : SceneVocabulary.QUALITIES) out.add("a " + q + " photo of");
    out.addAll(List.of(SceneVocabulary.SHAPES));
    out.addAll(List.of(SceneVocabulary.COLOURS));
    out.addAll(List.of(SceneVocabulary.PATTERNS));
    out.addAll(List.of(SceneVocabulary.SIZES));
    out.addAll(List.of(SceneVocabulary.POSITIONS));
    for (String b : SceneVocabulary.BACKGROUNDS) out.add("on a " + b + " background.");
    return out;
  }
}
