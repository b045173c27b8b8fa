package ai.promptline.ml.clip;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * CLIP's byte-level BPE tokenizer ({@code simple_tokenizer.py} + {@code clip.tokenize}, methods.md
 * §2.7), reading the shipped {@code bpe_simple_vocab_16e6.txt.gz}.
 *
 * <p>Pipeline: {@code ftfy.fix_text} ({@link Ftfy}: mojibake repair, HTML entities, quotes,
 * ligatures, widths, line breaks, controls, NFC) → HTML-unescape twice → strip → collapse
 * whitespace runs to one space → lower-case → pre-tokenise with
 * {@code <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+}
 * → UTF-8 bytes mapped to printable characters (GPT-2 byte-to-unicode) → merge the lowest-ranked
 * adjacent pair until none is in the merge table (the last symbol carries {@code </w>}).
 *
 * <p>Every step of the reference is reproduced ({@link HtmlEntities} holds Python's full HTML5
 * table); {@code ftfy} is ported from ftfy 6.3.1 (the
 * version the reference venv pins) and checked against it on a corpus of clean, broken and random
 * text ({@code FtfyGoldenTest}). "Whitespace" follows Python's {@code str.isspace}. Character
 * properties (letters, numbers, case, NFC) come from Java's Unicode tables, which may differ from
 * Python's for characters assigned after Unicode 13.
 *
 * <p>Thread-safe; the BPE cache is shared.
 */
public final class ClipTokenizer {
  public static final int SOT = 49406;
  public static final int EOT = 49407;
  public static final int DEFAULT_CONTEXT = 77;
  private static final String RESOURCE = "bpe_simple_vocab_16e6.txt.gz";

  /** Python {@code str.isspace()} characters. */
  private static final String WS = "\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
  private static final Pattern WHITESPACE = Pattern.compile("[" + WS + "]+");
  private static final Pattern PRE_TOKEN = Pattern.compile(
      "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^" + WS + "\\p{L}\\p{N}]+",
      Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

  private static volatile ClipTokenizer shared;

  private final String[] byteEncoder = new String[256];
  private final Map<String, Integer> encoder = new HashMap<>();
  private final Map<String, Integer> ranks = new HashMap<>();
  private final Map<String, String> cache = new ConcurrentHashMap<>();

  /** The tokenizer over the vocabulary shipped as a class-path resource (loaded once). */
  public static ClipTokenizer getDefault() {
    ClipTokenizer t = shared;
    if (t == null) {
      synchronized (ClipTokenizer.class) {
        t = shared;
        if (t == null) {
          try (InputStream in = ClipTokenizer.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing resource " + RESOURCE);
            shared = t = new ClipTokenizer(in);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      }
    }
    return t;
  }

  /** Builds a tokenizer from a gzip'ed merges file. */
  public ClipTokenizer(InputStream gzippedMerges) throws IOException {
    List<String> vocab = new ArrayList<>();
    for (int cp : byteToUnicodeOrder()) vocab.add(new String(Character.toChars(cp)));
    int[] codes = byteToUnicode();
    for (int b = 0; b < 256; b++) byteEncoder[b] = new String(Character.toChars(codes[b]));
    int base = vocab.size();
    for (int i = 0; i < base; i++) vocab.add(vocab.get(i) + "</w>");
    List<String[]> merges = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(gzippedMerges), StandardCharsets.UTF_8))) {
      r.readLine(); // header
      String line;
      int max = 49152 - 256 - 2; // reference slice [1 : 49152-256-2+1]
      while (merges.size() < max && (line = r.readLine()) != null) {
        String[] pair = line.split(" ");
        if (pair.length == 2) merges.add(pair);
      }
    }
    for (int i = 0; i < merges.size(); i++) {
      String[] m = merges.get(i);
      vocab.add(m[0] + m[1]);
      ranks.put(m[0] + " " + m[1], i);
    }
    vocab.add("<|startoftext|>");
    vocab.add("<|endoftext|>");
    for (int i = 0; i < vocab.size(); i++) encoder.put(vocab.get(i), i);
    cache.put("<|startoftext|>", "<|startoftext|>");
    cache.put("<|endoftext|>", "<|endoftext|>");
  }

  /** Vocabulary size (49408 for the shipped file). */
  public int vocabSize() {
    return encoder.size();
  }

  /** GPT-2 byte → code point: printable Latin-1 bytes map to themselves, the rest to 256+n. */
  private static int[] byteToUnicode() {
    int[] map = new int[256];
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (printable(b)) map[b] = b;
      else map[b] = 256 + n++;
    }
    return map;
  }

  /** Dictionary order of the reference {@code bytes_to_unicode().values()}: printable first. */
  private static List<Integer> byteToUnicodeOrder() {
    int[] map = byteToUnicode();
    List<Integer> order = new ArrayList<>();
    for (int b = 0; b < 256; b++) if (printable(b)) order.add(map[b]);
    for (int b = 0; b < 256; b++) if (!printable(b)) order.add(map[b]);
    return order;
  }

  private static boolean printable(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  }

  /** Text cleaning of the reference: ftfy, unescape twice, strip, collapse whitespace, lower-case. */
  static String clean(String text) {
    String t = HtmlEntities.unescape(HtmlEntities.unescape(Ftfy.fixText(text)));
    t = WHITESPACE.matcher(t).replaceAll(" ");
    t = stripPy(t);
    return t.toLowerCase(Locale.ROOT);
  }

  private static String stripPy(String s) {
    int b = 0;
    int e = s.length();
    while (b < e && isPySpace(s.charAt(b))) b++;
    while (e > b && isPySpace(s.charAt(e - 1))) e--;
    return s.substring(b, e);
  }

  private static boolean isPySpace(char c) {
    return WHITESPACE.matcher(String.valueOf(c)).matches();
  }

  /** BPE ids of {@code text}, without SOS/EOT. */
  public int[] encode(String text) {
    List<Integer> ids = new ArrayList<>();
    Matcher m = PRE_TOKEN.matcher(clean(text));
    while (m.find()) {
      StringBuilder sb = new StringBuilder();
      for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) sb.append(byteEncoder[b & 0xff]);
      for (String piece : bpe(sb.toString()).split(" ")) {
        Integer id = encoder.get(piece);
        if (id == null) throw new IllegalStateException("BPE produced an unknown symbol '" + piece + "'");
        ids.add(id);
      }
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Greedy merging by rank; returns the symbols separated by single spaces. */
  private String bpe(String token) {
    String cached = cache.get(token);
    if (cached != null) return cached;
    List<String> word = new ArrayList<>();
    int[] cps = token.codePoints().toArray();
    for (int i = 0; i < cps.length; i++) {
      String sym = new String(Character.toChars(cps[i]));
      word.add(i == cps.length - 1 ? sym + "</w>" : sym);
    }
    if (word.size() == 1) {
      String r = word.get(0);
      cache.put(token, r);
      return r;
    }
    while (word.size() > 1) {
      int best = Integer.MAX_VALUE;
      String first = null;
      String second = null;
      for (int i = 0; i + 1 < word.size(); i++) {
        Integer r = ranks.get(word.get(i) + " " + word.get(i + 1));
        if (r != null && r < best) {
          best = r;
          first = word.get(i);
          second = word.get(i + 1);
        }
      }
      if (first == null) break;
      List<String> merged = new ArrayList<>(word.size());
      int i = 0;
      while (i < word.size()) {
        if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
          merged.add(first + second);
          i += 2;
        } else {
          merged.add(word.get(i));
          i++;
        }
      }
      word = merged;
    }
    String r = String.join(" ", word);
    cache.put(token, r);
    return r;
  }

  /** {@code [SOT] + encode(text) + [EOT]}, unpadded. */
  public int[] encodeWithSpecials(String text) {
    int[] body = encode(text);
    int[] out = new int[body.length + 2];
    out[0] = SOT;
    System.arraycopy(body, 0, out, 1, body.length);
    out[out.length - 1] = EOT;
    return out;
  }

  /**
   * {@code clip.tokenize}: each text as {@code [SOT] ids [EOT]} right-padded with 0 to
   * {@code contextLength}.
   *
   * @param truncate cut to {@code contextLength} keeping EOT last; otherwise an over-long text fails
   * @throws IllegalArgumentException naming the text and its length when it does not fit
   */
  public int[][] tokenize(List<String> texts, int contextLength, boolean truncate) {
    int[][] out = new int[texts.size()][contextLength];
    for (int i = 0; i < texts.size(); i++) {
      int[] ids = encodeWithSpecials(texts.get(i));
      if (ids.length > contextLength) {
        if (!truncate) {
          throw new IllegalArgumentException("input text is too long for context length " + contextLength
              + " (" + ids.length + " tokens incl. SOT/EOT): \"" + texts.get(i) + "\"");
        }
        ids = java.util.Arrays.copyOf(ids, contextLength);
        ids[contextLength - 1] = EOT;
      }
      System.arraycopy(ids, 0, out[i], 0, ids.length);
    }
    return out;
  }

  /** {@link #tokenize(List, int, boolean)} with context 77, no truncation. */
  public int[][] tokenize(List<String> texts) {
    return tokenize(texts, DEFAULT_CONTEXT, false);
  }

  /** Id of a vocabulary entry (e.g. "x</w>"), for tests and diagnostics. */
  Integer idOf(String symbol) {
    return encoder.get(symbol);
  }
}
