package ai.promptline.ml.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.ml.clip.ClipTokenizer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plan-time prompt-length check builds the prompt as each method does and counts real tokens. */
class TextContextFitTest {
  static final ClipTokenizer TOK = ClipTokenizer.getDefault();
  static final List<String> CLASSES = List.of("Annual Crop Land", "Herbaceous Vegetation Land");

  private static Map<String, String> opts(String method, Map<String, String> given) {
    return Methods.spec(method).resolve(given);
  }

  @Test
  void prefixes_followEachMethodsRule() {
    assertEquals("a photo of a", TextContextFit.prefix(Methods.spec("coop"), opts("coop", Map.of())));
    assertEquals("X X X", TextContextFit.prefix(Methods.spec("coop"), opts("coop", Map.of("ctxInit", "", "nCtx", "3"))));
    // MaPLe keeps ctxInit only up to 4 context tokens, else "X" placeholders
    assertEquals("a photo of a", TextContextFit.prefix(Methods.spec("maple"), opts("maple", Map.of("nCtx", "4"))));
    assertEquals("X X X X X", TextContextFit.prefix(Methods.spec("maple"), opts("maple", Map.of("nCtx", "5"))));
    // instance-wise prompts: the global context, then the image-specific placeholders
    assertEquals("a photo of a X X X X", TextContextFit.prefix(Methods.spec("instance"), opts("instance", Map.of())));
    assertNull(TextContextFit.prefix(Methods.spec("zsclip"), opts("zsclip", Map.of())));
  }

  @Test
  void referenceRecipesFit_overLongContextsAreRefusedWithTheRoomLeft() {
    for (String m : List.of("coop", "cocoop", "maple", "ivlp", "deep-text", "instance"))
      assertNull(TextContextFit.problem(Methods.spec(m), opts(m, Map.of()), CLASSES, 77, TOK), m);
    String words = String.join(" ", java.util.Collections.nCopies(74, "photo"));
    String p = TextContextFit.problem(Methods.spec("coop"), opts("coop", Map.of("ctxInit", words)), CLASSES, 77, TOK);
    // SOT + 74 + "herbaceous vegetation land" (4 tokens: herb, aceous, ...) + "." + EOT = 81 > 77; the class prompt alone takes 7
    assertTrue(p != null && p.contains("ctxInit 'photo photo") && p.contains("74 tokens") && p.contains("77-token text context")
        && p.contains("'Herbaceous Vegetation Land' the prompt is 81 tokens") && p.contains("at most 70 tokens"), p);
    String q = TextContextFit.problem(Methods.spec("coop"), opts("coop", Map.of("ctxInit", "", "nCtx", "71")), CLASSES, 77, TOK);
    assertTrue(q != null && q.contains("nCtx 71") && q.contains("a smaller nCtx"), q);
    assertNull(TextContextFit.problem(Methods.spec("coop"), opts("coop", Map.of("ctxInit", "", "nCtx", "70")), CLASSES, 77, TOK));
  }
}
