package ai.promptline.workers;

import java.util.Collection;
import java.util.Locale;

/** The closest known name to a misspelt one, for "did you mean ...?" in error lines. */
public final class DidYouMean {
  private DidYouMean() {}

  /**
   * {@code " (did you mean 'x'?)"} for the known name nearest to {@code given} by edit distance
   * (case-insensitive) when it is near enough to be a typo, else the empty string.
   */
  public static String hint(String given, Collection<String> known) {
    String best = closest(given, known);
    return best == null ? "" : " (did you mean '" + best + "'?)";
  }

  /** The nearest known name within a typo's distance, or null. */
  public static String closest(String given, Collection<String> known) {
    if (given == null || given.isEmpty()) return null;
    String g = given.toLowerCase(Locale.ROOT);
    String best = null;
    int bestD = Integer.MAX_VALUE;
    int bestPrefix = -1;
    for (String k : known) {
      String kl = k.toLowerCase(Locale.ROOT);
      int d = distance(g, kl);
      int prefix = 0;
      while (prefix < Math.min(g.length(), kl.length()) && g.charAt(prefix) == kl.charAt(prefix)) prefix++;
      if (d < bestD || d == bestD && prefix > bestPrefix) { // ties: the longer common start ("cooop": coop, not cocoop)
        bestD = d;
        best = k;
        bestPrefix = prefix;
      }
    }
    int allowed = Math.max(1, Math.min(3, given.length() / 3));
    return best != null && bestD <= allowed ? best : null;
  }

  /** Levenshtein distance with adjacent transpositions counted as one edit. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) d[i][0] = i;
    for (int j = 0; j <= b.length(); j++) d[0][j] = j;
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1))
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    return d[a.length()][b.length()];
  }
}
