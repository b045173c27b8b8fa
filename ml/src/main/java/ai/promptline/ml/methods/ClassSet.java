package ai.promptline.ml.methods;

import java.util.List;

/**
 * The label space a head classifies into: class names in label order, the dataset's hand
 * template ({@code "a photo of a {}."}) and the dataset's name (null when the classes come from no
 * registered dataset, e.g. a probe). Base and novel evaluation use two different class sets with the
 * same learned prompt. The name lets a head pick per-dataset prompt lists ({@link ClipTemplates}).
 */
public record ClassSet(List<String> names, String template, String dataset) {
  public ClassSet {
    if (names == null || names.isEmpty()) throw new IllegalArgumentException("a class set needs at least one class");
    if (template == null || !template.contains("{}"))
      throw new IllegalArgumentException("template must contain '{}', got '" + template + "'");
    names = List.copyOf(names);
  }

  /** A class set of no named dataset. */
  public ClassSet(List<String> names, String template) {
    this(names, template, null);
  }

  /** CoOp-family cleanup: underscores become spaces. */
  public String cleaned(int i) {
    return names.get(i).replace('_', ' ');
  }

  public int size() {
    return names.size();
  }
}
