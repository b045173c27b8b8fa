package ai.promptline.ml.data;

import java.util.List;
import java.util.Objects;

/**
 * The three lists of a split file. Lists are copied and unmodifiable; their order is significant
 * (few-shot sampling groups by label in order of first appearance).
 */
public record Splits(List<SplitItem> train, List<SplitItem> val, List<SplitItem> test) {
  public Splits {
    train = List.copyOf(Objects.requireNonNull(train, "train"));
    val = List.copyOf(Objects.requireNonNull(val, "val"));
    test = List.copyOf(Objects.requireNonNull(test, "test"));
  }

  /** The list for a split name {@code train|val|test}. */
  public List<SplitItem> get(String split) {
    return switch (split) {
      case "train" -> train;
      case "val" -> val;
      case "test" -> test;
      default -> throw new IllegalArgumentException("unknown split '" + split + "' (train|val|test)");
    };
  }
}
