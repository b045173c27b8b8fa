package ai.promptline.activities;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The stored test split of a cross-dataset target: every test image with its label in the
 * target's own label space, the class names in label order and the target's template. Paths are
 * relative to {@code imageRoot}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TargetIndex(String dataset, String imageRoot, String template, List<String> classes, List<SplitIndex.Item> test) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** {@code runs/<runKey>/targets/<dataset>.json}. */
  public static String key(String runKey, String dataset) {
    return "runs/" + runKey + "/targets/" + dataset + ".json";
  }

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static TargetIndex fromJson(byte[] data) {
    try {
      return JSON.readValue(data, TargetIndex.class);
    } catch (IOException e) {
      throw new UncheckedIOException("corrupt target index: " + e.getMessage(), e);
    }
  }
}
