package ai.promptline.ml.methods;

import java.util.List;

/**
 * The label space a head classifies into: class names in label order and the dataset's hand
 * template ({@code "a photo of a {}."}). Base and novel evaluation use two different class sets
 * with the same learned prompt.
 */
public record ClassSet(List<String> names, String template) {
  public ClassSet {
    if (names == null || names.isEmpty()) throw new IllegalArgumentException("a class set needs at least one class");
    if (template == null || !template.contains("{}"))
      throw new IllegalArgumentException("template must contain '{}', got '" + template + "'");
    names = List.copyOf(names);
  }

  /** CoOp-family cleanup: underscores become spaces. */
  public String cleaned(int i) {
    return names.get(i).replace('_', ' ');
  }

  public int size() {
    return names.size();
  }
}
