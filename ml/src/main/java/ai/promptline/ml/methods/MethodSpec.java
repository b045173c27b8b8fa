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
 * @param planCheck what the planner asks before a run exists: do these options fit this many shots
 *     per class? (see {@link PlanCheck}; {@link PlanCheck#NONE} for most methods)
 * @param fitted whether it is a {@link FittedMethod}: fitted once on the training features and the
 *     few-shot validation features, both through the test transform (the split stage then stores the
 *     val items and the feature stage caches them), instead of trained by the gradient loop
 * @param closedSet whether it classifies only its training classes (no text classifier): then it
 *     cannot score novel or other datasets' classes, and base-to-novel and cross-dataset refuse it
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
    PlanCheck planCheck,
    boolean fitted,
    boolean closedSet,
    boolean usesExperts) {

  /** A method trained by the gradient loop that classifies any class list, without plan-time checks. */
  public MethodSpec(String name, String summary, Input input, boolean usesSampleIds, boolean perClassParameters, boolean vitOnly,
      List<Option> options, Recipe recipe, Function<MethodContext, PromptMethod> factory) {
    this(name, summary, input, usesSampleIds, perClassParameters, vitOnly, options, recipe, factory, PlanCheck.NONE, false, false, false);
  }

  /** A gradient-trained method with a plan-time check of its options. */
  public MethodSpec(String name, String summary, Input input, boolean usesSampleIds, boolean perClassParameters, boolean vitOnly,
      List<Option> options, Recipe recipe, Function<MethodContext, PromptMethod> factory, PlanCheck planCheck) {
    this(name, summary, input, usesSampleIds, perClassParameters, vitOnly, options, recipe, factory, planCheck, false, false, false);
  }

  /** Without a plan-time check: a fitted and/or closed-set method (the linear probes). */
  public MethodSpec(String name, String summary, Input input, boolean usesSampleIds, boolean perClassParameters,
      boolean vitOnly, List<Option> options, Recipe recipe, Function<MethodContext, PromptMethod> factory, boolean fitted,
      boolean closedSet) {
    this(name, summary, input, usesSampleIds, perClassParameters, vitOnly, options, recipe, factory, PlanCheck.NONE, fitted, closedSet, false);
  }

  /** A gradient-trained method that reads further frozen expert encoders ({@code prismer}). */
  public MethodSpec(String name, String summary, Input input, boolean usesSampleIds, boolean perClassParameters,
      boolean vitOnly, List<Option> options, Recipe recipe, Function<MethodContext, PromptMethod> factory, boolean usesExperts) {
    this(name, summary, input, usesSampleIds, perClassParameters, vitOnly, options, recipe, factory, PlanCheck.NONE, false, false,
        usesExperts);
  }

  /** Whether the split stage stores the few-shot val items and the feature stage caches their features. */
  public boolean usesValidation() {
    return fitted;
  }

  /**
   * A plan-time validation of a method's options against the campaign's shots (the method refuses
   * the same at build time from the training set's per-class counts).
   */
  @FunctionalInterface
  public interface PlanCheck {
    PlanCheck NONE = (options, shots) -> null;

    /**
     * @param options the resolved options (defaults overridden by the campaign's)
     * @param shots training images per class; 0 = every image (not known at plan time)
     * @return null when they fit, else the problem and the fix
     */
    String problem(Map<String, String> options, int shots);
  }

  /** What a method's batches carry. */
  public enum Input {
    /** L2-normalised frozen image features, cached once per (model, dataset, items, transform). */
    FEATURES,
    /** The same cached frozen features, un-normalised (the image tower's output as is: linear probes). */
    RAW_FEATURES,
    /** Decoded, augmented pixels: the method runs (and prompts) the image tower every step. */
    PIXELS;

    public String label() {
      return switch (this) {
        case FEATURES -> "features";
        case RAW_FEATURES -> "raw features";
        case PIXELS -> "image tower";
      };
    }

    /** Whether batches come from the feature cache (features or raw features). */
    public boolean cached() {
      return this != PIXELS;
    }

    /** Cached (un-normalised) features as this input's batches carry them: normalised for {@link #FEATURES}. */
    public ai.djl.ndarray.NDArray batchFeatures(ai.djl.ndarray.NDArray raw) {
      return this == FEATURES ? Features.normalize(raw) : raw;
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
    if (planCheck == null) planCheck = PlanCheck.NONE;
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
    if (fitted) needs.add("val split");
    if (usesExperts) needs.add("experts");
    String how = fitted ? "fitted (no epochs)" : String.format(Locale.ROOT, "%d epochs, batch %d, lr %s", recipe.epochs(),
        recipe.batchSize(), recipe.lr());
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-10s needs: %-22s recipe: %s", name,
        String.join(", ", needs), how));
    if (!options.isEmpty()) {
      b.append("; options: ");
      List<String> o = new ArrayList<>();
      for (Option x : options) o.add(x.name() + "=" + (x.defaultValue().isEmpty() ? "\"\"" : x.integer() ? x.defaultValue() : "\"" + x.defaultValue() + "\""));
      b.append(String.join(", ", o));
    }
    return b.append("  — ").append(summary).toString();
  }
}
