package ai.promptline.ml.data;

import java.util.Locale;

/** {@code DATASET.SUBSAMPLE_CLASSES}: which half of the label set a run sees (methods.md §1.4). */
public enum Subsample {
  ALL,
  BASE,
  NEW;

  /** Parses {@code all|base|new} (case-insensitive). */
  public static Subsample parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown subsample '" + s + "' (expected all, base or new)", e);
    }
  }
}
