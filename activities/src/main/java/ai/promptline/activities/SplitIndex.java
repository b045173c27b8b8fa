package ai.promptline.activities;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The stored result of the split stage: which images a run trains and tests on, with labels in
 * the base/novel label spaces. Paths are relative to {@code imageRoot} of the dataset.
 *
 * @param val the few-shot validation items (Dassl: min(shots, 4) per class, training label space),
 *     stored only for methods that select hyper-parameters on them ({@code MethodSpec.usesValidation});
 *     empty otherwise, left out of the JSON when empty and read as empty from indexes written before it
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
    List<Item> novelTest,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Item> val) {

  public SplitIndex {
    val = val == null ? List.of() : List.copyOf(val);
  }

  /** An index without validation items. */
  public SplitIndex(String dataset, String imageRoot, String template, List<String> baseClasses, List<String> novelClasses,
      List<Item> train, List<Item> baseTest, List<Item> novelTest) {
    this(dataset, imageRoot, template, baseClasses, novelClasses, train, baseTest, novelTest, List.of());
  }

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
