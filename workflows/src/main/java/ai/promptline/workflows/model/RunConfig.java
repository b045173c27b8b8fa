package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;

/**
 * Everything that determines the result of one run. Its canonical JSON (minus machine-local
 * paths) hashes to the run key, see {@link ContentKeys#runKey(RunConfig)}.
 *
 * @param protocol {@code base2novel} (train on base classes, test base and novel), {@code all}
 *     (train and test on all classes) or {@code cross-dataset} (train like {@code all}, then
 *     evaluate the learned prompt unchanged on the full test split of every target)
 * @param targets the datasets a {@code cross-dataset} run is evaluated on, in order; empty for the
 *     other protocols. Left out of the JSON when empty, so keys of runs without targets are those
 *     they always had.
 * @param options method options other than the text context ({@code depth}, {@code k}, ...) whose
 *     values differ from the method's defaults (the planner drops defaults), sorted; left out of the
 *     JSON when empty, so a method run with its defaults keeps the key it always had.
 * @param experts further frozen models the method reads besides {@code model} (Prismer's expert
 *     encoders), in the order the campaign lists them; their sha256 enters the key (their paths do
 *     not) and every worker verifies it. Left out of the JSON when empty, so keys of runs without
 *     experts do not change.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RunConfig(
    DatasetRef dataset,
    ModelRef model,
    String method,
    int shots,
    int seed,
    String protocol,
    TrainParams train,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<DatasetRef> targets,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> options,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<ModelRef> experts) {

  public static final String BASE2NOVEL = "base2novel";
  public static final String ALL = "all";
  public static final String CROSS_DATASET = "cross-dataset";
  public static final List<String> PROTOCOLS = List.of(BASE2NOVEL, ALL, CROSS_DATASET);

  /**
   * Generic dataset kinds: their registry name says how a dataset is stored, not which one it is,
   * so two of them are the same dataset only when root or fingerprint say so.
   */
  private static final Set<String> GENERIC_NAMES = Set.of("synthetic", "imagefolder", "csv");

  public RunConfig {
    ContentKeys.require(method, "method");
    ContentKeys.require(protocol, "protocol");
    if (dataset == null) throw new IllegalArgumentException("dataset is required");
    if (model == null) throw new IllegalArgumentException("model is required");
    if (train == null) throw new IllegalArgumentException("train is required");
    if (shots < 0) throw new IllegalArgumentException("shots must be >= 0 (0 = all images), got " + shots);
    if (!PROTOCOLS.contains(protocol))
      throw new IllegalArgumentException("protocol must be one of " + PROTOCOLS + ", got '" + protocol + "'");
    targets = checkTargets(protocol, dataset, targets);
    options = options == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(options));
    experts = checkExperts(experts);
  }

  /** A run without expert models (every method but {@code prismer}). */
  public RunConfig(DatasetRef dataset, ModelRef model, String method, int shots, int seed, String protocol,
      TrainParams train, List<DatasetRef> targets, Map<String, String> options) {
    this(dataset, model, method, shots, seed, protocol, train, targets, options, List.of());
  }

  /** Experts: none null, names unique (a method addresses them by name in messages and provenance). */
  static List<ModelRef> checkExperts(List<ModelRef> experts) {
    List<ModelRef> e = experts == null ? List.of() : experts;
    if (e.stream().anyMatch(java.util.Objects::isNull)) throw new IllegalArgumentException("experts[] must not be null");
    Set<String> names = new java.util.HashSet<>();
    for (ModelRef m : e)
      if (!names.add(m.name())) throw new IllegalArgumentException("expert '" + m.name() + "' is listed twice; give every expert its own name");
    return List.copyOf(e);
  }

  /** The main model followed by the experts: every frozen model the run computes with. */
  public List<ModelRef> frozenModels() {
    List<ModelRef> all = new ArrayList<>();
    all.add(model);
    all.addAll(experts);
    return all;
  }

  /** A run with the method's default options. */
  public RunConfig(DatasetRef dataset, ModelRef model, String method, int shots, int seed, String protocol,
      TrainParams train, List<DatasetRef> targets) {
    this(dataset, model, method, shots, seed, protocol, train, targets, Map.of(), List.of());
  }

  /** A run without cross-dataset targets (protocols {@code base2novel} and {@code all}). */
  public RunConfig(DatasetRef dataset, ModelRef model, String method, int shots, int seed, String protocol,
      TrainParams train) {
    this(dataset, model, method, shots, seed, protocol, train, List.of(), Map.of(), List.of());
  }

  /**
   * The target rules shared by run configs and campaign specs: {@code cross-dataset} needs at least
   * one target, other protocols none; no target may be the source or appear twice.
   *
   * @return the targets as an immutable list (empty for null)
   */
  static List<DatasetRef> checkTargets(String protocol, DatasetRef source, List<DatasetRef> targets) {
    List<DatasetRef> t = targets == null ? List.of() : targets;
    if (t.stream().anyMatch(java.util.Objects::isNull)) throw new IllegalArgumentException("targets[] must not be null");
    if (CROSS_DATASET.equals(protocol) && t.isEmpty())
      throw new IllegalArgumentException("protocol 'cross-dataset' needs at least one target dataset (targets: [...]): "
          + "the prompt trained on the source is evaluated on the targets");
    if (!CROSS_DATASET.equals(protocol) && !t.isEmpty())
      throw new IllegalArgumentException("targets are only evaluated with protocol 'cross-dataset', got protocol '"
          + protocol + "'; set protocol: cross-dataset or remove targets");
    List<DatasetRef> seen = new ArrayList<>();
    for (DatasetRef d : t) {
      if (source != null && sameDataset(source, d))
        throw new IllegalArgumentException("target '" + d.name() + "' is the source dataset; cross-dataset targets "
            + "must be other datasets (the source is already evaluated on its own test split)");
      for (DatasetRef s : seen)
        if (sameDataset(s, d)) throw new IllegalArgumentException("target '" + d.name() + "' is listed twice");
      seen.add(d);
    }
    return List.copyOf(t);
  }

  /**
   * Whether two refs name the same dataset: same registry name, except for the generic kinds
   * (synthetic, imagefolder, csv), which are the same only with the same root or fingerprint.
   */
  static boolean sameDataset(DatasetRef a, DatasetRef b) {
    if (!a.name().equalsIgnoreCase(b.name())) return false;
    if (!GENERIC_NAMES.contains(a.name().toLowerCase(Locale.ROOT))) return true;
    return a.root().equals(b.root())
        || a.fingerprint() != null && !a.fingerprint().isBlank() && a.fingerprint().equals(b.fingerprint());
  }

  /** Human-readable MLflow run name, e.g. {@code coop-synthetic-4s-seed1}. */
  public String displayName() {
    return method + "-" + dataset.name() + "-" + shots + "s-seed" + seed;
  }
}
