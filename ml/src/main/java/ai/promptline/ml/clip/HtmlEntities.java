package ai.promptline.ml.clip;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTML character-reference decoding following Python's {@code html.unescape} (HTML5 rules):
 * numeric references (decimal / hex, optional {@code ;}, Windows-1252 remapping of 0x80–0x9F,
 * U+FFFD for NUL, surrogates and out-of-range values, removal of disallowed code points) and named
 * references, including the legacy names that may omit the {@code ;} (longest-prefix match).
 *
 * <p>Only a subset of the 2,231 HTML5 names is tabulated — the ones that plausibly occur in class
 * names and captions (markup, quotes, dashes, Latin-1 letters, common symbols). Unknown names are
 * left untouched, which is what Python does for names outside its table.
 */
final class HtmlEntities {
  private HtmlEntities() {}

  private static final Pattern REF =
      Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");

  /** Names valid with a trailing ';' → text. */
  private static final Map<String, String> NAMED = new HashMap<>();

  /** Legacy names that HTML5 also accepts without ';'. */
  private static final Map<String, String> LEGACY = new HashMap<>();

  private static final Map<Integer, Integer> CP1252 = new HashMap<>();

  static {
    legacy("amp", "&"); legacy("AMP", "&"); legacy("lt", "<"); legacy("LT", "<"); legacy("gt", ">");
    legacy("GT", ">"); legacy("quot", "\""); legacy("QUOT", "\""); legacy("nbsp", "\u00a0");
    legacy("copy", "\u00a9"); legacy("COPY", "\u00a9"); legacy("reg", "\u00ae"); legacy("REG", "\u00ae");
    legacy("deg", "\u00b0"); legacy("plusmn", "\u00b1"); legacy("micro", "\u00b5"); legacy("middot", "\u00b7");
    legacy("frac12", "\u00bd"); legacy("frac14", "\u00bc"); legacy("frac34", "\u00be"); legacy("times", "\u00d7");
    legacy("divide", "\u00f7"); legacy("sect", "\u00a7"); legacy("para", "\u00b6"); legacy("pound", "\u00a3");
    legacy("yen", "\u00a5"); legacy("cent", "\u00a2"); legacy("laquo", "\u00ab"); legacy("raquo", "\u00bb");
    legacy("iexcl", "\u00a1"); legacy("iquest", "\u00bf"); legacy("shy", "\u00ad"); legacy("szlig", "\u00df");
    legacy("AElig", "\u00c6"); legacy("aelig", "\u00e6"); legacy("ETH", "\u00d0"); legacy("eth", "\u00f0");
    legacy("THORN", "\u00de"); legacy("thorn", "\u00fe");
    // accented Latin-1 letters
    String[][] acc = {
      {"A", "\u00c0\u00c1\u00c2\u00c3\u00c4\u00c5"}, {"a", "\u00e0\u00e1\u00e2\u00e3\u00e4\u00e5"},
      {"E", "\u00c8\u00c9\u00ca\u0000\u00cb\u0000"}, {"e", "\u00e8\u00e9\u00ea\u0000\u00eb\u0000"},
      {"I", "\u00cc\u00cd\u00ce\u0000\u00cf\u0000"}, {"i", "\u00ec\u00ed\u00ee\u0000\u00ef\u0000"},
      {"O", "\u00d2\u00d3\u00d4\u00d5\u00d6\u0000"}, {"o", "\u00f2\u00f3\u00f4\u00f5\u00f6\u0000"},
      {"U", "\u00d9\u00da\u00db\u0000\u00dc\u0000"}, {"u", "\u00f9\u00fa\u00fb\u0000\u00fc\u0000"},
    };
    String[] kinds = {"grave", "acute", "circ", "tilde", "uml", "ring"};
    for (String[] row : acc) {
      for (int k = 0; k < kinds.length; k++) {
        char c = row[1].charAt(k);
        if (c != 0) legacy(row[0] + kinds[k], String.valueOf(c));
      }
    }
    legacy("Ntilde", "\u00d1"); legacy("ntilde", "\u00f1"); legacy("Ccedil", "\u00c7"); legacy("ccedil", "\u00e7");
    legacy("Oslash", "\u00d8"); legacy("oslash", "\u00f8"); legacy("Yacute", "\u00dd"); legacy("yacute", "\u00fd");
    legacy("yuml", "\u00ff");
    named("apos", "'"); named("ndash", "\u2013"); named("mdash", "\u2014"); named("lsquo", "\u2018");
    named("rsquo", "\u2019"); named("sbquo", "\u201a"); named("ldquo", "\u201c"); named("rdquo", "\u201d");
    named("bdquo", "\u201e"); named("hellip", "\u2026"); named("bull", "\u2022"); named("trade", "\u2122");
    named("euro", "\u20ac"); named("dagger", "\u2020"); named("Dagger", "\u2021"); named("permil", "\u2030");
    named("lsaquo", "\u2039"); named("rsaquo", "\u203a"); named("prime", "\u2032"); named("Prime", "\u2033");
    named("minus", "\u2212"); named("larr", "\u2190"); named("rarr", "\u2192"); named("uarr", "\u2191");
    named("darr", "\u2193"); named("harr", "\u2194"); named("le", "\u2264"); named("ge", "\u2265");
    named("ne", "\u2260"); named("infin", "\u221e"); named("asymp", "\u2248"); named("thinsp", "\u2009");
    named("ensp", "\u2002"); named("emsp", "\u2003"); named("zwnj", "\u200c"); named("zwj", "\u200d");
    named("OElig", "\u0152"); named("oelig", "\u0153"); named("Scaron", "\u0160"); named("scaron", "\u0161");
    named("Yuml", "\u0178"); named("fnof", "\u0192"); named("circ", "\u02c6"); named("tilde", "\u02dc");
    named("alpha", "\u03b1"); named("beta", "\u03b2"); named("gamma", "\u03b3"); named("delta", "\u03b4");
    named("pi", "\u03c0"); named("mu", "\u03bc"); named("sigma", "\u03c3"); named("omega", "\u03c9");
    named("hearts", "\u2665"); named("star", "\u2606"); named("check", "\u2713"); named("colon", ":");
    named("comma", ","); named("period", "."); named("excl", "!"); named("quest", "?"); named("num", "#");
    named("dollar", "$"); named("percnt", "%"); named("lpar", "("); named("rpar", ")"); named("ast", "*");
    named("plus", "+"); named("sol", "/"); named("semi", ";"); named("equals", "="); named("lsqb", "[");
    named("rsqb", "]"); named("lowbar", "_"); named("grave", "`"); named("lcub", "{"); named("rcub", "}");
    named("verbar", "|"); named("bsol", "\\"); named("Hat", "^"); named("NewLine", "\n"); named("Tab", "\t");
    int[] cp = {0x80, 0x20ac, 0x82, 0x201a, 0x83, 0x0192, 0x84, 0x201e, 0x85, 0x2026, 0x86, 0x2020,
      0x87, 0x2021, 0x88, 0x02c6, 0x89, 0x2030, 0x8a, 0x0160, 0x8b, 0x2039, 0x8c, 0x0152, 0x8e, 0x017d,
      0x91, 0x2018, 0x92, 0x2019, 0x93, 0x201c, 0x94, 0x201d, 0x95, 0x2022, 0x96, 0x2013, 0x97, 0x2014,
      0x98, 0x02dc, 0x99, 0x2122, 0x9a, 0x0161, 0x9b, 0x203a, 0x9c, 0x0153, 0x9e, 0x017e, 0x9f, 0x0178,
      0x81, 0x81, 0x8d, 0x8d, 0x8f, 0x8f, 0x90, 0x90, 0x9d, 0x9d};
    for (int i = 0; i < cp.length; i += 2) CP1252.put(cp[i], cp[i + 1]);
  }

  private static void legacy(String name, String value) {
    LEGACY.put(name, value);
    NAMED.put(name, value);
  }

  private static void named(String name, String value) {
    NAMED.put(name, value);
  }

  /** Decodes every character reference in {@code s}. */
  static String unescape(String s) {
    if (s.indexOf('&') < 0) return s;
    Matcher m = REF.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(replace(m.group(1))));
    m.appendTail(sb);
    return sb.toString();
  }

  private static String replace(String s) {
    if (s.charAt(0) == '#') {
      String digits = s.endsWith(";") ? s.substring(0, s.length() - 1) : s;
      long num;
      try {
        num = (s.length() > 1 && (s.charAt(1) == 'x' || s.charAt(1) == 'X'))
            ? Long.parseLong(digits.substring(2), 16) : Long.parseLong(digits.substring(1));
      } catch (NumberFormatException e) {
        num = Long.MAX_VALUE; // absurdly long digit runs: out of range, like Python
      }
      if (num == 0x0d) return "\r";
      if (num == 0) return "\ufffd";
      if (CP1252.containsKey((int) Math.min(num, Integer.MAX_VALUE))) {
        return new String(Character.toChars(CP1252.get((int) num)));
      }
      if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return "\ufffd";
      int c = (int) num;
      if ((c >= 0x1 && c <= 0x8) || (c >= 0xe && c <= 0x1f) || (c >= 0x7f && c <= 0x9f)
          || (c >= 0xfdd0 && c <= 0xfdef) || c == 0xb || (c & 0xfffe) == 0xfffe) {
        return "";
      }
      return new String(Character.toChars(c));
    }
    if (s.endsWith(";")) {
      String v = NAMED.get(s.substring(0, s.length() - 1));
      if (v != null) return v;
    } else if (LEGACY.containsKey(s)) {
      return LEGACY.get(s);
    }
    // longest legacy prefix without ';' (e.g. "&ampx" → "&x")
    for (int x = s.length() - 1; x > 1; x--) {
      String v = LEGACY.get(s.substring(0, x));
      if (v != null) return v + s.substring(x);
    }
    return "&" + s;
  }
}
