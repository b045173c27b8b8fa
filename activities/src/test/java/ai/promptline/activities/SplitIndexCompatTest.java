package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The optional val items of a split index: omitted from the JSON when empty, read as empty from older indexes. */
class SplitIndexCompatTest {
  private static final String OLD = "{\"dataset\":\"d\",\"imageRoot\":\"/r\",\"template\":\"a photo of a {}.\","
      + "\"baseClasses\":[\"a\",\"b\"],\"novelClasses\":[],\"train\":[{\"path\":\"x.png\",\"label\":0}],"
      + "\"baseTest\":[{\"path\":\"y.png\",\"label\":1}],\"novelTest\":[]}";

  @Test
  void indexWrittenBeforeVal_decodesWithNoValItems() {
    SplitIndex index = SplitIndex.fromJson(OLD.getBytes(StandardCharsets.UTF_8));
    assertTrue(index.val().isEmpty());
    assertEquals(1, index.train().size());
  }

  @Test
  void emptyValIsLeftOut_andValItemsRoundTrip() {
    SplitIndex index = SplitIndex.fromJson(OLD.getBytes(StandardCharsets.UTF_8));
    assertEquals(OLD, new String(index.toJson(), StandardCharsets.UTF_8), "an index without val encodes as before");
    SplitIndex withVal = new SplitIndex("d", "/r", "a photo of a {}.", List.of("a", "b"), List.of(), index.train(),
        index.baseTest(), List.of(), List.of(new SplitIndex.Item("v.png", 1)));
    String json = new String(withVal.toJson(), StandardCharsets.UTF_8);
    assertTrue(json.contains("\"val\""), json);
    assertEquals(withVal, SplitIndex.fromJson(withVal.toJson()));
    assertFalse(new String(index.toJson(), StandardCharsets.UTF_8).contains("val\""));
  }
}
