package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Ftfy#fixText} and {@link ClipTokenizer#encode} against ftfy 6.3.1 and the reference
 * tokenizer on the corpus of {@code tools/golden/ftfy_golden.py}: every string is compared exactly.
 */
class FtfyGoldenTest {
  private static final String UNICODE_VERSION = "random supplementary code points that Java 17's Unicode 13"
      + " tables leave unassigned and the newer tables of Python's regex module partly call letters (\\p{L}), so the"
      + " pre-tokeniser splits them differently";

  /**
   * Inputs whose expected output is known not to be reproduced, with the reason. Each must still
   * differ (so that a fix shows up here), and nothing else may.
   */
  static final Map<String, String> KNOWN_DIFFERENCES = Map.of();

  /**
   * Inputs whose ftfy output matches but whose token ids do not, for reasons outside ftfy, with the
   * reason. Each must still differ, and nothing else may.
   */
  static final Map<String, String> KNOWN_TOKEN_DIFFERENCES = Map.of(
      cps(0x3F392, 0x88152, 0xC31D5, 0xBA693), UNICODE_VERSION,
      cps(0x51C5E, 0x1E2A0, 0x818BF, 0x656DE, 0xAE344), UNICODE_VERSION,
      cps(0x31BD8, 0x962C0, 0xD22A1), UNICODE_VERSION,
      cps(0xA401F, 0x317CB), UNICODE_VERSION);

  private static String cps(int... codePoints) {
    return new String(codePoints, 0, codePoints.length);
  }

  private static JsonNode golden;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in = new GZIPInputStream(FtfyGoldenTest.class.getResourceAsStream("/golden/clip/ftfy_golden.json.gz"))) {
      golden = new ObjectMapper().readTree(in);
    }
    assertEquals("6.3.1", golden.get("ftfy").asText());
  }

  private static String show(String s) {
    StringBuilder sb = new StringBuilder("\"");
    s.codePoints().forEach(c -> {
      if (c >= 0x20 && c < 0x7F) sb.append((char) c);
      else sb.append(String.format("\\u{%X}", c));
    });
    return sb.append('"').toString();
  }

  @Test
  void fixTextMatchesFtfy() {
    int total = 0;
    int matched = 0;
    List<String> failures = new ArrayList<>();
    List<String> knownSeen = new ArrayList<>();
    for (JsonNode row : golden.get("cases")) {
      String kind = row.get(0).asText();
      String in = row.get(1).asText();
      String want = row.get(2).asText();
      String got;
      try {
        got = Ftfy.fixText(in);
      } catch (RuntimeException e) {
        got = "<" + e + ">";
      }
      total++;
      if (got.equals(want)) {
        matched++;
      } else if (KNOWN_DIFFERENCES.containsKey(in)) {
        knownSeen.add(in);
      } else {
        failures.add(kind + ": " + show(in) + " -> want " + show(want) + " got " + show(got));
      }
    }
    System.out.printf("ftfy golden: %d/%d fix_text outputs match (%d known differences)%n", matched, total, knownSeen.size());
    assertTrue(failures.isEmpty(), failures.size() + " mismatches:\n" + String.join("\n", failures.subList(0, Math.min(40, failures.size()))));
    assertEquals(KNOWN_DIFFERENCES.keySet().stream().sorted().collect(Collectors.toList()),
        knownSeen.stream().sorted().collect(Collectors.toList()), "known differences that now match or are gone");
    assertTrue(total > 4000, "corpus too small: " + total);
  }

  @Test
  void tokenIdsMatchReference() {
    ClipTokenizer tok = ClipTokenizer.getDefault();
    int total = 0;
    int matched = 0;
    List<String> failures = new ArrayList<>();
    List<String> knownSeen = new ArrayList<>();
    for (JsonNode row : golden.get("cases")) {
      if (row.size() < 4) continue;
      String in = row.get(1).asText();
      if (KNOWN_DIFFERENCES.containsKey(in)) continue;
      int[] want = new int[row.get(3).size()];
      for (int j = 0; j < want.length; j++) want[j] = row.get(3).get(j).asInt();
      int[] got = tok.encode(in);
      total++;
      if (Arrays.equals(want, got)) matched++;
      else if (KNOWN_TOKEN_DIFFERENCES.containsKey(in)) knownSeen.add(in);
      else failures.add(show(in) + " -> want " + Arrays.toString(want) + " got " + Arrays.toString(got));
    }
    System.out.printf("ftfy golden: %d/%d token id lists match (%d known differences)%n", matched, total, knownSeen.size());
    assertTrue(failures.isEmpty(), failures.size() + " mismatches:\n" + String.join("\n", failures.subList(0, Math.min(40, failures.size()))));
    assertEquals(KNOWN_TOKEN_DIFFERENCES.keySet().stream().sorted().collect(Collectors.toList()),
        knownSeen.stream().sorted().collect(Collectors.toList()), "known token differences that now match or are gone");
    assertTrue(total > 1000, "too few token cases: " + total);
  }

  @Test
  void badnessHeuristicMatchesFtfy() {
    int total = 0;
    List<String> failures = new ArrayList<>();
    for (JsonNode row : golden.get("isBad")) {
      String s = row.get(0).asText();
      boolean want = row.get(1).asBoolean();
      total++;
      if (Ftfy.isBad(s) != want) failures.add(show(s) + " want " + want);
    }
    System.out.printf("ftfy golden: %d/%d is_bad verdicts match%n", total - failures.size(), total);
    assertTrue(failures.isEmpty(), failures.size() + " mismatches:\n" + String.join("\n", failures.subList(0, Math.min(40, failures.size()))));
  }

  @Test
  void examples() {
    assertEquals("\u2714 No problems", Ftfy.fixText("\u00e2\u0153\u201d No problems"));
    assertEquals("l'humanit\u00e9", Ftfy.fixText("l\u2019humanit\u00c3\u00a9"));
    assertEquals("\"quoted\" fish", Ftfy.fixText("\u201cquoted\u201d \ufb01sh"));
    assertEquals("caf\u00e9", Ftfy.fixText("cafe\u0301"));
    assertEquals("a & b\n<b>&amp;</b>", Ftfy.fixText("a &amp; b\n<b>&amp;</b>"));
    assertEquals("red", Ftfy.fixText("\u001b[31mred\u001b[0m"));
    assertEquals("ABC", Ftfy.fixText("\uff21\uff22\uff23"));
    assertEquals("a\nb\nc", Ftfy.fixText("a\r\nb\u2028c"));
  }
}
