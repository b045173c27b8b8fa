package ai.promptline.activities;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The stored result of the split stage: which images a run trains and tests on, with labels in
 * the base/novel label spaces. Paths are relative to {@code imageRoot} of the dataset.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SplitIndex(
    String dataset,
    String imageRoot,
    String template,
    List<String> baseClasses,
    List<String> novelClasses,
    List<Item> train,
    List<Item> baseTest,
    List<Item> novelTest) {

  public record Item(String path, int label) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static SplitIndex fromJson(byte[] data) {
    try {
      return JSON.readValue(data, SplitIndex.class);
    } catch (IOException e) {
      throw new UncheckedIOException("corrupt split index: " + e.getMessage(), e);
    }
  }
}
