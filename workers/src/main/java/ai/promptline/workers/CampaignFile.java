package ai.promptline.workers;

import ai.promptline.activities.ModelCache;
import ai.promptline.ml.data.BenchmarkDataset;
import ai.promptline.ml.data.Datasets;
import ai.promptline.ml.clip.ClipArchitectures;
import ai.promptline.ml.clip.ClipCheckpoints;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.methods.ClipTemplates;
import ai.promptline.ml.methods.Methods;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.CampaignSpec.MethodSpec;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.TrainParams;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The YAML campaign file users write, and its planning into a {@link CampaignSpec}: paths resolved
 * against the file, every method name, dataset and weights file checked, dataset fingerprints and
 * the weights' SHA-256 computed, so a bad campaign fails here, before anything reaches Temporal,
 * MLflow or MinIO.
 *
 * <pre>
 * name: my-campaign
 * experiment: coop-base2novel
 * model: {name: ViT-B/16, weights: /models/ViT-B-16.pt}   # optional precision: fp32 (default) | fp16 | bf16
 * datasets: [{name: eurosat, root: /data/eurosat}]
 * methods:
 *   - name: zsclip
 *   - name: coop
 *     train: {epochs: 200, batchSize: 32, lr: 0.002}
 *   - name: maple                       # gets MaPLe's reference recipe (5 epochs, batch 4, lr 0.0035)
 *     options: {depth: 9, nCtx: 2}      # method options, see `promptline method list`
 *   - name: prismer                     # further frozen expert encoders (methods that take them only)
 *     experts: [{name: RN50, weights: /models/RN50.pt, sha256: ...}]
 * shots: [16]
 * seeds: [1, 2, 3]
 * </pre>
 *
 * <p>Cross-dataset transfer / domain generalisation: {@code protocol: cross-dataset} trains on each
 * source dataset with all classes and evaluates the learned prompt on every entry of
 * {@code targets} (same shape as {@code datasets}), each on its full test split with its own
 * classes and template. Targets are opened, validated and fingerprinted here like the datasets.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record CampaignFile(
    String name, String experiment, Model model, List<Dataset> datasets, List<Method> methods,
    List<Integer> shots, List<Integer> seeds, String protocol, Integer maxParallel, Integer heartbeatTimeoutSeconds,
    List<Dataset> targets) {

  /** A campaign file without cross-dataset targets. */
  public CampaignFile(String name, String experiment, Model model, List<Dataset> datasets, List<Method> methods,
      List<Integer> shots, List<Integer> seeds, String protocol, Integer maxParallel, Integer heartbeatTimeoutSeconds) {
    this(name, experiment, model, datasets, methods, shots, seeds, protocol, maxParallel, heartbeatTimeoutSeconds, null);
  }

  /** {@code precision}: fp32 (default, absent), fp16 or bf16 — the frozen towers' compute precision. */
  public record Model(String name, String weights, String sha256, String precision) {
    public Model(String name, String weights, String sha256) {
      this(name, weights, sha256, null);
    }
  }

  public record Dataset(String name, String root) {}

  /**
   * A method, overrides of its reference training recipe, and its options ({@code nCtx},
   * {@code ctxInit}, {@code depth}, {@code k}, ...; the text context may also be given under
   * {@code train} as before).
   */
  public record Method(String name, Map<String, Object> train, Map<String, Object> options, List<Model> experts) {
    public Method(String name, Map<String, Object> train) {
      this(name, train, null, null);
    }

    public Method(String name, Map<String, Object> train, Map<String, Object> options) {
      this(name, train, options, null);
    }
  }

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  public static CampaignFile read(Path file) {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException("campaign file " + file + " does not exist");
    try {
      return YAML.readValue(file.toFile(), CampaignFile.class);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException("campaign file " + file + ": unknown field '" + e.getPropertyName()
          + "' at " + e.getPathReference() + "; known fields: " + e.getKnownPropertyIds(), e);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IllegalArgumentException("campaign file " + file + " is not valid: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read campaign file " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Validates and resolves into a spec; {@code base} is the directory relative paths refer to, and
   * {@code ${NAME}} / {@code ${NAME:-default}} in paths are read from the environment.
   */
  public CampaignSpec plan(Path base) {
    return plan(base, System::getenv);
  }

  /** As {@link #plan(Path)} with path variables looked up in {@code vars} (null = unset). */
  public CampaignSpec plan(Path base, java.util.function.Function<String, String> vars) {
    require(name, "name");
    checkName(name, "name");
    if (experiment != null) checkName(experiment, "experiment");
    require(model, "model");
    require(datasets, "datasets");
    require(methods, "methods");
    String proto = protocol == null ? RunConfig.BASE2NOVEL : protocol;
    if (!RunConfig.PROTOCOLS.contains(proto))
      throw new IllegalArgumentException("campaign file: protocol must be one of " + RunConfig.PROTOCOLS + ", got '" + proto + "'");
    boolean cross = proto.equals(RunConfig.CROSS_DATASET);
    if (cross && (targets == null || targets.isEmpty()))
      throw new IllegalArgumentException("campaign file: protocol 'cross-dataset' needs 'targets' (a list like 'datasets': "
          + "[{name: ImageNetV2, root: /data}, ...]) to evaluate the trained prompts on");
    if (!cross && targets != null && !targets.isEmpty())
      throw new IllegalArgumentException("campaign file: 'targets' are only evaluated with 'protocol: cross-dataset' "
          + "(protocol is '" + proto + "'); set protocol: cross-dataset or remove targets");
    Path weights = base.resolve(expand(require(model.weights(), "model.weights"), "model.weights", vars)).normalize();
    if (!Files.isRegularFile(weights))
      throw new IllegalArgumentException("model.weights: " + weights + " does not exist; give the path of a CLIP checkpoint");
    String sha = ModelCache.sha256(weights);
    if (model.sha256() != null && !model.sha256().equalsIgnoreCase(sha))
      throw new IllegalArgumentException("model.weights: " + weights + " has sha256 " + sha + ", the file says " + model.sha256());
    List<DatasetRef> ds = new ArrayList<>();
    Map<String, String> sourceNames = new java.util.LinkedHashMap<>(); // reader name -> as written
    List<String> readerNames = new ArrayList<>(); // reader names of sources and targets (for per-dataset method checks)
    List<String> withoutVal = new ArrayList<>();
    for (Dataset d : datasets) {
      Path root = base.resolve(expand(require(d.root(), "datasets[].root"), "datasets[].root", vars)).normalize();
      BenchmarkDataset opened = Datasets.open(require(d.name(), "datasets[].name"), root); // validates
      ds.add(new DatasetRef(d.name(), root.toString(), opened.fingerprint()));
      sourceNames.put(opened.name(), d.name());
      readerNames.add(opened.name());
      if (opened.val().isEmpty()) withoutVal.add(d.name() + " (" + root + ")");
    }
    List<DatasetRef> ts = new ArrayList<>();
    Map<String, String> targetNames = new java.util.LinkedHashMap<>();
    for (Dataset t : targets == null ? List.<Dataset>of() : targets) {
      Path root = base.resolve(expand(require(t.root(), "targets[].root"), "targets[].root", vars)).normalize();
      BenchmarkDataset opened = Datasets.open(require(t.name(), "targets[].name"), root); // validates
      // results and metrics are keyed by the name the reader reports (acc_target/<name>)
      if (sourceNames.containsKey(opened.name()))
        throw new IllegalArgumentException("campaign file: target '" + t.name() + "' (" + root + ") is the dataset '"
            + opened.name() + "' that is also a source; cross-dataset targets must be other datasets");
      String before = targetNames.put(opened.name(), t.name());
      if (before != null)
        throw new IllegalArgumentException("campaign file: targets '" + before + "' and '" + t.name() + "' are both the "
            + "dataset '" + opened.name() + "'; list every target once (results are keyed by dataset name)");
      ts.add(new DatasetRef(t.name(), root.toString(), opened.fingerprint()));
      readerNames.add(opened.name());
    }
    ClipConfig arch = modelConfig(weights);
    List<MethodSpec> ms = new ArrayList<>();
    for (Method m : methods) {
      ai.promptline.ml.methods.MethodSpec spec;
      try {
        spec = Methods.spec(require(m.name(), "methods[].name"));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("campaign file: " + e.getMessage(), e);
      }
      TrainParams train = trainParams(m, spec);
      if (spec.recipe().epochs() > 0 && train.epochs() <= 0)
        throw new IllegalArgumentException("campaign file: methods[" + m.name() + "].train.epochs is " + train.epochs() + ", but '"
            + spec.name() + "' learns by training (its recipe: " + spec.recipe().epochs() + " epochs); give epochs >= 1, or use"
            + " zsclip for a method without training");
      Map<String, String> options = options(m, spec, train);
      checkTemplates(m, spec, options, readerNames);
      checkProtocol(spec, proto, m);
      if (spec.usesValidation() && !withoutVal.isEmpty())
        throw new IllegalArgumentException("campaign file: method '" + spec.name() + "' selects its hyper-parameters on the"
            + " few-shot val split, but " + String.join(", ", withoutVal) + " has no val split; give the dataset one"
            + " (split file 'val' entries) or drop the method");
      checkMethodFits(spec, options, arch, cross, train);
      for (int s : shots == null ? List.of(16) : shots) {
        String problem = spec.planCheck().problem(spec.resolve(options), s);
        if (problem != null) throw new IllegalArgumentException("campaign file: " + problem);
      }
      ms.add(new MethodSpec(m.name(), train, options, experts(m, spec, base, arch, vars)));
    }
    return new CampaignSpec(name, experiment == null ? "promptline" : experiment, ds,
        new ModelRef(require(model.name(), "model.name"), weights.toString(), sha, model.precision()), ms,
        shots == null ? List.of(16) : shots, seeds == null ? List.of(1, 2, 3) : seeds,
        proto, maxParallel == null ? 1 : maxParallel, heartbeatTimeoutSeconds == null ? 0 : heartbeatTimeoutSeconds, ts);
  }

  /**
   * The method's reference recipe (methods.md §3.9, {@code promptline method list}) overridden by
   * {@code train:}. CoOp's recipe is {@link TrainParams#coopDefaults}{@code (200)}, as before.
   */
  static TrainParams trainParams(Method m, ai.promptline.ml.methods.MethodSpec spec) {
    Map<String, String> defaults = spec.defaults();
    ai.promptline.ml.methods.MethodSpec.Recipe r = spec.recipe();
    TrainParams d;
    if (spec.name().equals("zsclip") || spec.fitted()) { // nothing trained in epochs; fitted: test transform (0 views)
      d = new TrainParams(0, 100, 0, 0.9, 5e-4, 1, 1e-5, 0, "", 0);
    } else {
      int nCtx = defaults.containsKey("nCtx") ? Integer.parseInt(defaults.get("nCtx")) : 0;
      String ctxInit = defaults.getOrDefault("ctxInit", "");
      int views = spec.input() == ai.promptline.ml.methods.MethodSpec.Input.FEATURES ? Math.min(r.epochs(), 4) : 0;
      d = new TrainParams(r.epochs(), r.batchSize(), r.lr(), 0.9, 5e-4, 1, 1e-5, nCtx, ctxInit, views);
    }
    if (m.train() == null || m.train().isEmpty()) return d;
    Map<String, Object> merged = new java.util.LinkedHashMap<>(YAML.convertValue(d, Map.class));
    for (String k : m.train().keySet())
      if (!merged.containsKey(k))
        throw new IllegalArgumentException("methods[" + m.name() + "].train: unknown field '" + k + "'; known: " + merged.keySet());
    merged.putAll(m.train());
    try {
      return YAML.convertValue(merged, TrainParams.class);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("methods[" + m.name() + "].train: " + e.getMessage(), e);
    }
  }

  /**
   * The run-key form of a method's options: validated against the method (unknown options are
   * refused with the list of valid ones) and defaults dropped; the text context stays in the train
   * params.
   */
  private static Map<String, String> options(Method m, ai.promptline.ml.methods.MethodSpec spec, TrainParams train) {
    Map<String, String> given = new java.util.LinkedHashMap<>();
    if (m.options() != null) m.options().forEach((k, v) -> given.put(k, v == null ? "" : String.valueOf(v)));
    try {
      spec.resolve(given); // refuses unknown options and non-integers, naming the valid ones
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("campaign file: methods[" + m.name() + "].options: " + e.getMessage(), e);
    }
    if (given.containsKey("nCtx") || given.containsKey("ctxInit")) {
      throw new IllegalArgumentException("campaign file: methods[" + m.name() + "]: give nCtx and ctxInit under 'train:'"
          + " (they are part of the train params), not under 'options:'");
    }
    Map<String, String> nonDefault = spec.nonDefault(given);
    nonDefault.remove("nCtx");
    nonDefault.remove("ctxInit");
    return nonDefault;
  }

  /**
   * zsclip's {@code templates}: a known mode, and under an ensemble a template list for every source
   * and target dataset (the generated and generic datasets have none; refused here, not at run time).
   */
  private static void checkTemplates(Method m, ai.promptline.ml.methods.MethodSpec spec, Map<String, String> options,
      List<String> datasets) {
    Map<String, String> all = spec.resolve(options);
    if (!all.containsKey("templates")) return;
    try {
      String mode = ClipTemplates.checkMode(all.get("templates").trim());
      for (String d : datasets) ClipTemplates.of(mode, d, "{}");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("campaign file: methods[" + m.name() + "].options: " + e.getMessage(), e);
    }
  }

  /**
   * Protocols a method cannot be evaluated under: a closed-set method (a linear probe: a classifier
   * over its training classes, no text classifier) cannot score novel classes or another dataset's.
   */
  private static void checkProtocol(ai.promptline.ml.methods.MethodSpec spec, String proto, Method m) {
    if (spec.closedSet() && proto.equals(RunConfig.BASE2NOVEL))
      throw new IllegalArgumentException("campaign file: method '" + spec.name() + "' cannot run under protocol 'base2novel':"
          + " it learns a classifier over its training classes and has no text classifier, so it cannot score the unseen"
          + " novel classes; use protocol: all");
    if (spec.closedSet() && proto.equals(RunConfig.CROSS_DATASET))
      throw new IllegalArgumentException("campaign file: method '" + spec.name() + "' cannot run under protocol"
          + " 'cross-dataset': its classifier covers only the source dataset's classes (no text classifier), so it cannot"
          + " score a target's label space; use protocol: all");
    if (spec.fitted() && m.train() != null && !m.train().isEmpty())
      throw new IllegalArgumentException("campaign file: methods[" + spec.name() + "]: 'train:' does not apply: the method is"
          + " fitted (C searched on the few-shot val split), not trained in epochs; remove 'train:'");
  }

  /**
   * A method's expert models, verified like the main model: the method must take experts, every
   * weights file must exist and match the sha256 the file gives (recorded into the run config
   * either way, so every worker verifies the same bytes), and an expert must take the main model's
   * input resolution (experts run on the main model's pixels).
   */
  static List<ModelRef> experts(Method m, ai.promptline.ml.methods.MethodSpec spec, Path base, ClipConfig arch,
      java.util.function.Function<String, String> vars) {
    if (m.experts() == null || m.experts().isEmpty()) return List.of();
    String at = "campaign file: methods[" + m.name() + "].experts";
    if (!spec.usesExperts()) {
      List<String> takers = Methods.all().stream().filter(ai.promptline.ml.methods.MethodSpec::usesExperts)
          .map(ai.promptline.ml.methods.MethodSpec::name).toList();
      throw new IllegalArgumentException(at + ": method '" + m.name() + "' takes no expert models; remove 'experts:' or use a "
          + "method that reads them (" + String.join(", ", takers) + ")");
    }
    List<ModelRef> out = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Model e : m.experts()) {
      if (e == null) throw new IllegalArgumentException(at + ": an entry is empty; give {name: ..., weights: ...}");
      String name = require(e.name(), "methods[" + m.name() + "].experts[].name");
      if (!names.add(name)) throw new IllegalArgumentException(at + ": expert '" + name + "' is listed twice; give every expert its own name");
      String field = "methods[" + m.name() + "].experts[" + name + "].weights";
      Path weights = base.resolve(expand(require(e.weights(), field), field, vars)).normalize();
      String where = at + "[" + name + "].weights: " + weights;
      if (!Files.isRegularFile(weights) && !Files.isDirectory(weights))
        throw new IllegalArgumentException(where + " does not exist; give the path of the expert's CLIP checkpoint");
      String sha = ModelCache.sha256(weights);
      if (e.sha256() != null && !e.sha256().equalsIgnoreCase(sha))
        throw new IllegalArgumentException(where + " has sha256 " + sha + ", the campaign file expects " + e.sha256()
            + "; point weights at the file the hash was taken from, or update sha256 (omit it to record the file's hash)");
      ClipConfig ex;
      try {
        ex = ClipCheckpoints.config(weights);
      } catch (IOException | IllegalArgumentException x) {
        throw new IllegalArgumentException(where + ": " + x.getMessage(), x);
      }
      if (arch != null && ex.imageResolution() != arch.imageResolution())
        throw new IllegalArgumentException(at + "[" + name + "]: the expert takes " + ex.imageResolution() + " px images but the main model "
            + arch.imageResolution() + " px; experts run on the main model's pixels: use an expert checkpoint with input resolution "
            + arch.imageResolution() + " (e.g. the same family at that size)");
      out.add(new ModelRef(name, weights.toString(), sha, e.precision()));
    }
    return out;
  }

  /** Plan-time refusals that need the model's architecture. */
  private static void checkMethodFits(ai.promptline.ml.methods.MethodSpec spec, Map<String, String> options, ClipConfig arch,
      boolean cross, TrainParams train) {
    if (arch == null) return;
    if (spec.vitOnly() && arch.visionKind() != ClipConfig.VisionKind.VIT) {
      throw new IllegalArgumentException("campaign file: method '" + spec.name() + "' prompts the ViT image tower, but the model is "
          + ClipArchitectures.describe(arch) + " (a ModifiedResNet); use a ViT checkpoint or a text-only method (zsclip, coop, cocoop, deep-text)");
    }
    if (cross && spec.perClassParameters()) {
      throw new IllegalArgumentException("campaign file: method '" + spec.name() + "' learns per-class parameters, which do not"
          + " exist for a target's classes; cross-dataset evaluation needs a method whose prompt applies to any class list");
    }
    Map<String, String> all = spec.resolve(options);
    if (all.containsKey("adaptorLayers") && !all.get("adaptorLayers").trim().equals("all")) {
      String v = all.get("adaptorLayers").trim();
      if (!v.matches("\\d+") || Integer.parseInt(v) > arch.visionLayers())
        throw new IllegalArgumentException("campaign file: method '" + spec.name() + "' option adaptorLayers=" + v
            + " must be 'all' or between 0 and the model's " + arch.visionLayers() + " image-tower layers (" + ClipArchitectures.describe(arch) + ")");
    }
    for (String key : new String[] {"depth", "depthVision"}) {
      if (!all.containsKey(key)) continue;
      int depth = Integer.parseInt(all.get(key));
      boolean coupled = spec.name().equals("maple") || spec.name().equals("mrpo"); // depth prompts both towers
      int layers = key.equals("depthVision") ? arch.visionLayers()
          : coupled ? Math.min(arch.textLayers(), arch.visionLayers()) : arch.textLayers();
      if (depth < 1 || depth > layers) {
        throw new IllegalArgumentException("campaign file: method '" + spec.name() + "' option " + key + "=" + depth
            + " must be between 1 and the model's " + layers + " layers (" + ClipArchitectures.describe(arch) + ")");
      }
    }
    if (train.epochs() > 0 && !spec.name().equals("zsclip") && spec.defaults().containsKey("ctxInit")) {
      int words = train.ctxInit().isBlank() ? train.nCtx() : train.ctxInit().trim().split("\\s+").length;
      if (words + 4 > arch.contextLength()) {
        throw new IllegalArgumentException("campaign file: method '" + spec.name() + "' context of " + words
            + " tokens does not fit the " + arch.contextLength() + "-token text context");
      }
    }
  }

  /** The model's architecture from its tensor shapes (no weights read), or null for an unreadable file (loading will say why). */
  private static ClipConfig modelConfig(Path weights) {
    try {
      return ClipCheckpoints.config(weights);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("model.weights: " + e.getMessage(), e);
    }
  }

  private static final java.util.regex.Pattern VAR = java.util.regex.Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");

  /**
   * Expands {@code ${NAME}} and {@code ${NAME:-default}} in a path, so that one campaign file serves
   * every machine ({@code root: ${PROMPTLINE_DATA:-/data}}); an unset variable without a default
   * fails naming the field and the fix.
   */
  static String expand(String value, String field, java.util.function.Function<String, String> vars) {
    java.util.regex.Matcher m = VAR.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = vars == null ? null : vars.apply(m.group(1));
      if (v == null || v.isEmpty()) v = m.group(3);
      if (v == null)
        throw new IllegalArgumentException("campaign file: " + field + " uses ${" + m.group(1) + "}, which is not set; "
            + "export " + m.group(1) + "=<path> or write ${" + m.group(1) + ":-<default>} in the file");
      m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static final java.util.regex.Pattern SAFE_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

  /**
   * Campaign and experiment names become workflow ids, MLflow names and notes: letters, digits and
   * {@code . _ -}, starting with a letter or digit, at most 100 characters (no path separators,
   * spaces or control characters).
   */
  static void checkName(String value, String field) {
    if (!SAFE_NAME.matcher(value).matches()) {
      String shown = value.codePoints().limit(60).mapToObj(c -> c < 0x20 || c == 0x7f ? String.format("\\u%04x", c) : Character.toString(c))
          .collect(java.util.stream.Collectors.joining());
      throw new IllegalArgumentException("campaign file: '" + field + "' is '" + shown + "'; use letters, digits, '.', '_' and '-'"
          + " (starting with a letter or digit, at most 100 characters), e.g. " + field + ": coop-eurosat");
    }
  }

  private static <T> T require(T v, String field) {
    if (v == null || v instanceof String s && s.isBlank() || v instanceof List<?> l && l.isEmpty())
      throw new IllegalArgumentException("campaign file: '" + field + "' is required");
    return v;
  }
}
