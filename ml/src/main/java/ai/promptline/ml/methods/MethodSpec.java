package ai.promptline.ml.methods;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * A registry entry: what a method needs, its options with their reference defaults, and the
 * reference training recipe (methods.md §3.9), so that a campaign naming {@code maple} gets
 * MaPLe's recipe, not CoOp's.
 *
 * @param input what its batches carry: cached frozen features, or pixels for the image tower
 * @param usesSampleIds whether it addresses per-image parameters by sample id
 * @param perClassParameters whether learned tensors are tied to the training classes (then it
 *     cannot be evaluated on other label spaces: cross-dataset refuses it)
 * @param vitOnly whether it prompts the ViT image tower (a ModifiedResNet cannot run it)
 * @param usesExperts whether it reads further frozen expert encoders ({@link MethodContext#experts()});
 *     a run may list experts only for such a method (the planner refuses them otherwise)
 */
public record MethodSpec(
    String name,
    String summary,
    Input input,
    boolean usesSampleIds,
    boolean perClassParameters,
    boolean vitOnly,
    List<Option> options,
    Recipe recipe,
    Function<MethodContext, PromptMethod> factory,
    boolean usesExperts) {

  /** What a method's batches carry. */
  public enum Input {
    /** L2-normalised frozen image features, cached once per (model, dataset, items, transform). */
    FEATURES,
    /** Decoded, augmented pixels: the method runs (and prompts) the image tower every step. */
    PIXELS;

    public String label() {
      return this == FEATURES ? "features" : "image tower";
    }
  }

  /** One method option; {@code nCtx} and {@code ctxInit} are the shared text-context options. */
  public record Option(String name, boolean integer, String defaultValue, String help) {
    public static Option integer(String name, int def, String help) {
      return new Option(name, true, String.valueOf(def), help);
    }

    public static Option text(String name, String def, String help) {
      return new Option(name, false, def, help);
    }
  }

  /** The reference training recipe (Dassl SGD, momentum 0.9, wd 5e-4, 1 warm-up epoch at 1e-5, cosine). */
  public record Recipe(int epochs, int batchSize, double lr) {}

  public MethodSpec {
    options = List.copyOf(options);
  }

  /** A method that takes no expert encoders (all but {@code prismer}). */
  public MethodSpec(String name, String summary, Input input, boolean usesSampleIds, boolean perClassParameters,
      boolean vitOnly, List<Option> options, Recipe recipe, Function<MethodContext, PromptMethod> factory) {
    this(name, summary, input, usesSampleIds, perClassParameters, vitOnly, options, recipe, factory, false);
  }

  /** Default value of every option. */
  public Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    for (Option o : options) d.put(o.name(), o.defaultValue());
    return d;
  }

  /**
   * The full option map: defaults overridden by {@code given}.
   *
   * @throws IllegalArgumentException for an option the method does not have or a non-integer
   *     value of an integer option, naming the valid options
   */
  public Map<String, String> resolve(Map<String, String> given) {
    Map<String, String> out = defaults();
    for (Map.Entry<String, String> e : given.entrySet()) {
      Option o = options.stream().filter(x -> x.name().equals(e.getKey())).findFirst().orElseThrow(() ->
          new IllegalArgumentException("method '" + name + "' has no option '" + e.getKey() + "'; its options: "
              + (options.isEmpty() ? "none" : String.join(", ", options.stream().map(Option::name).toList()))));
      String v = e.getValue() == null ? "" : e.getValue().trim();
      if (o.integer()) {
        try {
          if (Integer.parseInt(v) < 0) throw new NumberFormatException();
        } catch (NumberFormatException x) {
          throw new IllegalArgumentException("method '" + name + "' option '" + o.name() + "' must be a non-negative integer, got '" + v + "'");
        }
      }
      out.put(o.name(), v);
    }
    return out;
  }

  /** The options of {@code given} that differ from the defaults: what a run key must contain. */
  public Map<String, String> nonDefault(Map<String, String> given) {
    Map<String, String> all = resolve(given);
    Map<String, String> out = new java.util.TreeMap<>();
    Map<String, String> d = defaults();
    all.forEach((k, v) -> {
      if (!v.equals(d.get(k))) out.put(k, v);
    });
    return out;
  }

  /** One line for {@code method list}. */
  public String describe() {
    List<String> needs = new ArrayList<>();
    needs.add(input.label());
    if (usesSampleIds) needs.add("sample ids");
    if (vitOnly) needs.add("ViT");
    if (usesExperts) needs.add("experts");
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-10s needs: %-22s recipe: %d epochs, batch %d, lr %s",
        name, String.join(", ", needs), recipe.epochs(), recipe.batchSize(), recipe.lr()));
    if (!options.isEmpty()) {
      b.append("; options: ");
      List<String> o = new ArrayList<>();
      for (Option x : options) o.add(x.name() + "=" + (x.defaultValue().isEmpty() ? "\"\"" : x.integer() ? x.defaultValue() : "\"" + x.defaultValue() + "\""));
      b.append(String.join(", ", o));
    }
    return b.append("  — ").append(summary).toString();
  }
}
