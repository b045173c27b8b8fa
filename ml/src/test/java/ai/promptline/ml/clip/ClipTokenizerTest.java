package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClipTokenizerTest {
  private final ClipTokenizer tok = ClipTokenizer.getDefault();

  @Test
  void vocabularyHasReferenceSize() {
    assertEquals(49408, tok.vocabSize());
    assertEquals(49406, tok.idOf("<|startoftext|>"));
    assertEquals(49407, tok.idOf("<|endoftext|>"));
  }

  @Test
  void methodsTestVectors() {
    assertArrayEquals(new int[] {320, 1125, 539, 320, 1929, 269}, tok.encode("a photo of a dog."));
    assertArrayEquals(new int[] {343, 343, 343, 343}, tok.encode("X X X X"));
    assertArrayEquals(new int[] {320, 1125, 539, 320, 4356, 318, 3272, 318, 5853, 269},
        tok.encode("a photo of a Apply_Eye_Makeup."));
    int[] expected = new int[18];
    java.util.Arrays.fill(expected, 0, 16, 343);
    expected[16] = 16451;
    expected[17] = 269;
    assertArrayEquals(expected, tok.encode("X X X X X X X X X X X X X X X X airplane."));
    assertArrayEquals(new int[] {2906, 9955, 973}, tok.encode("Annual Crop Land"));
    assertArrayEquals(new int[] {3306, 1002, 256, 261}, tok.encode("  Hello   World! &amp; "));
  }

  @Test
  void tokenizePadsWithSosEot() {
    int[][] ids = tok.tokenize(List.of("a photo of a dog."));
    assertEquals(77, ids[0].length);
    assertArrayEquals(new int[] {49406, 320, 1125, 539, 320, 1929, 269, 49407, 0}, java.util.Arrays.copyOf(ids[0], 9));
  }

  @Test
  void tooLongFailsClearlyUnlessTruncated() {
    String longText = "dog ".repeat(80);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.tokenize(List.of(longText)));
    assertTrue(e.getMessage().contains("too long"), e.getMessage());
    int[][] cut = tok.tokenize(List.of(longText), 77, true);
    assertEquals(49407, cut[0][76]);
  }

  @Test
  void htmlEntitiesFollowPython() {
    assertEquals("a & b", HtmlEntities.unescape("a &amp; b"));
    assertEquals("&x", HtmlEntities.unescape("&ampx"));
    assertEquals("\u20ac", HtmlEntities.unescape("&#128;"));
    assertEquals("A", HtmlEntities.unescape("&#x41;"));
    assertEquals("\u00e9t\u00e9", HtmlEntities.unescape("&eacute;t&eacute;"));
    assertEquals("&unknownentity;", HtmlEntities.unescape("&unknownentity;"));
    assertEquals("&", HtmlEntities.unescape(HtmlEntities.unescape("&amp;amp;")));
  }
}
