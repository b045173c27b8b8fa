package ai.promptline.workers;

import ai.promptline.activities.ModelCache;
import ai.promptline.ml.data.BenchmarkDataset;
import ai.promptline.ml.data.Datasets;
import ai.promptline.ml.clip.ClipArchitectures;
import ai.promptline.ml.clip.ClipCheckpoints;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.WeightsCheck;
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
 * maxRuns: 10000                        # optional: allow more than 5,000 runs without --yes
 * maxFailures: 3                        # optional failure policy: one of failFast: true, maxFailures: N,
 *                                       #   minSuccessRatio: 0.95 (see FailurePolicy)
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
    List<Dataset> targets, Integer maxRuns, Boolean failFast, Integer maxFailures, Double minSuccessRatio) {

  /** A campaign file with the default failure policy. */
  public CampaignFile(String name, String experiment, Model model, List<Dataset> datasets, List<Method> methods,
      List<Integer> shots, List<Integer> seeds, String protocol, Integer maxParallel, Integer heartbeatTimeoutSeconds,
      List<Dataset> targets, Integer maxRuns) {
    this(name, experiment, model, datasets, methods, shots, seeds, protocol, maxParallel, heartbeatTimeoutSeconds, targets, maxRuns,
        null, null, null);
  }

  /** Runs a campaign may have unless the file, {@code --max-runs} or {@code PROMPTLINE_MAX_RUNS} allow more (or {@code --yes}). */
  public static final int DEFAULT_MAX_RUNS = 5000;

  /** A campaign file without a run limit of its own. */
  public CampaignFile(String name, String experiment, Model model, List<Dataset> datasets, List<Method> methods,
      List<Integer> shots, List<Integer> seeds, String protocol, Integer maxParallel, Integer heartbeatTimeoutSeconds,
      List<Dataset> targets) {
    this(name, experiment, model, datasets, methods, shots, seeds, protocol, maxParallel, heartbeatTimeoutSeconds, targets, null);
  }

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
      new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT) // shots: [1.5] is an error, not 1
          .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION); // a key given twice

  /**
   * Reads a campaign file. Every problem is one line naming the file, the line and column, the field
   * and what to write instead: YAML syntax, unknown fields (with the nearest known one), values of
   * the wrong type, a key given twice.
   */
  public static CampaignFile read(Path file) {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException("campaign file " + file + " does not exist");
    CampaignFile f;
    try {
      f = YAML.readValue(file.toFile(), CampaignFile.class);
    } catch (UnrecognizedPropertyException e) {
      List<String> known = e.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList();
      String field = fieldPath(e.getPath());
      throw new IllegalArgumentException("campaign file " + file + at(e) + ": unknown field '" + (field.isEmpty() ? e.getPropertyName() : field)
          + "'" + DidYouMean.hint(e.getPropertyName(), known) + "; known fields" + (field.contains(".") ? " there" : "") + ": "
          + String.join(", ", known), e);
    } catch (com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
      throw new IllegalArgumentException("campaign file " + file + at(e) + ": " + mismatch(e), e);
    } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
      if (e.getCause() instanceof com.fasterxml.jackson.core.JacksonException syntax && syntax.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException)
        throw syntaxError(file, syntax);
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) root = root.getCause();
      String msg = root instanceof IllegalArgumentException && root.getMessage() != null ? root.getMessage() : e.getOriginalMessage();
      throw new IllegalArgumentException("campaign file " + file + at(e) + ": " + fieldPrefix(e.getPath()) + firstLine(msg), e);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      String msg = firstLine(e.getOriginalMessage());
      if (msg.startsWith("Duplicate field"))
        throw new IllegalArgumentException("campaign file " + file + at(e) + ": " + msg.replace("Duplicate field", "the field")
            + " is given twice; keep one", e);
      throw syntaxError(file, e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read campaign file " + file + ": " + e.getMessage(), e);
    }
    if (f == null)
      throw new IllegalArgumentException("campaign file " + file + " is empty; give at least name, model, datasets and methods"
          + " (see campaigns/README.md)");
    return f;
  }

  private static IllegalArgumentException syntaxError(Path file, com.fasterxml.jackson.core.JacksonException e) {
    String where = at(e);
    if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException y && y.getProblemMark() != null)
      where = " line " + (y.getProblemMark().getLine() + 1) + ", column " + (y.getProblemMark().getColumn() + 1);
    return new IllegalArgumentException("campaign file " + file + " is not valid YAML at" + where + ": " + yamlProblem(e)
        + "; fix the syntax there (indentation with spaces, ':' after every key, matching brackets and quotes; quote values"
        + " with '{', '}', ':' or '#', e.g. root: \"${PROMPTLINE_DATA}\")", e);
  }

  private static String at(com.fasterxml.jackson.core.JacksonException e) {
    var l = e.getLocation();
    if (l == null || l.getLineNr() < 1) return "";
    return " line " + l.getLineNr() + (l.getColumnNr() > 0 ? ", column " + l.getColumnNr() : "");
  }

  /** The YAML path of a mapping problem: {@code methods[1].train.epochs}. */
  private static String fieldPath(List<com.fasterxml.jackson.databind.JsonMappingException.Reference> path) {
    StringBuilder b = new StringBuilder();
    for (var r : path) {
      if (r.getFieldName() != null) b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
      else if (r.getIndex() >= 0) b.append('[').append(r.getIndex()).append(']');
    }
    return b.toString();
  }

  private static String fieldPrefix(List<com.fasterxml.jackson.databind.JsonMappingException.Reference> path) {
    String p = fieldPath(path);
    return p.isEmpty() ? "" : "'" + p + "': ";
  }

  private static final java.util.regex.Pattern FROM =
      java.util.regex.Pattern.compile("(?:from|coerce) (String \"[^\"]*\"|[A-Za-z-]+ value(?: \\([^)]*\\))?)");

  /** A value of the wrong type: the field, what it must be, and what the file has. */
  private static String mismatch(com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
    String path = fieldPath(e.getPath());
    Class<?> t = e.getTargetType();
    String msg = String.valueOf(e.getOriginalMessage());
    if (msg.startsWith("No content to map")) return "the file is empty; give at least name, model, datasets and methods";
    String want;
    if (t == null) want = "another type";
    else if (t == Integer.class || t == int.class || t == Long.class || t == long.class) want = "a whole number";
    else if (t == Double.class || t == double.class) want = "a number";
    else if (t == String.class) want = "text";
    else if (t == Boolean.class || t == boolean.class) want = "true or false";
    else if (List.class.isAssignableFrom(t) || java.util.Collection.class.isAssignableFrom(t))
      want = "a list, e.g. " + (path.isEmpty() ? "[...]" : lastField(path) + ": " + example(lastField(path)));
    else if (Map.class.isAssignableFrom(t)) want = "a mapping of key: value";
    else if (t == CampaignFile.class) want = "a mapping of fields (name:, model:, datasets:, methods:, shots:, seeds:)";
    else want = "a mapping such as " + example(t.getSimpleName());
    java.util.regex.Matcher m = FROM.matcher(msg);
    String got = m.find() ? ", got " + m.group(1).replaceAll(" \\(token [^)]*\\)", "").replace("String ", "text ") : "";
    return (path.isEmpty() ? "the document" : "'" + path + "'") + " must be " + want + got;
  }

  private static String lastField(String path) {
    String p = path.replaceAll("\\[\\d+]$", "");
    return p.contains(".") ? p.substring(p.lastIndexOf('.') + 1) : p;
  }

  private static String example(String field) {
    return switch (field) {
      case "shots" -> "[1, 2, 4, 8, 16]";
      case "seeds" -> "[1, 2, 3]";
      case "datasets", "targets", "Dataset" -> "[{name: EuroSAT, root: /data}]";
      case "methods", "Method" -> "[{name: coop}]";
      case "experts" -> "[{name: RN50, weights: /models/RN50.pt}]";
      case "Model" -> "{name: ViT-B/16, weights: /models/ViT-B-16.pt}";
      default -> "[...]";
    };
  }

  private static String firstLine(String s) {
    if (s == null) return "invalid value";
    String t = s.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl).strip();
  }

  /** SnakeYAML's problem without its multi-line context. */
  private static String yamlProblem(com.fasterxml.jackson.core.JacksonException e) {
    Throwable c = e.getCause();
    if (c instanceof org.yaml.snakeyaml.error.MarkedYAMLException y && y.getProblem() != null)
      return y.getProblem() + (y.getContext() != null ? " (" + y.getContext() + ")" : "");
    return firstLine(e.getOriginalMessage());
  }

  /**
   * What planning may do beyond the file: a run limit from the command line ({@code --max-runs};
   * null: the file's {@code maxRuns:}, else {@code PROMPTLINE_MAX_RUNS}, else
   * {@value #DEFAULT_MAX_RUNS}) and {@code --yes} to plan a grid over the limit anyway.
   */
  public record Limits(Integer maxRuns, boolean yes) {
    public static final Limits DEFAULT = new Limits(null, false);
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
    return plan(base, vars, Limits.DEFAULT);
  }

  /**
   * As {@link #plan(Path, java.util.function.Function)}; {@code vars} is also where
   * {@code PROMPTLINE_MAX_RUNS} is read. The grid's size is computed from the lists before anything
   * is expanded or opened, so an absurd grid is refused at once.
   */
  public CampaignSpec plan(Path base, java.util.function.Function<String, String> vars, Limits limits) {
    require(name, "name");
    checkName(name, "name");
    if (experiment != null) checkName(experiment, "experiment");
    require(model, "model");
    List<Integer> shotList = shots == null ? List.of(16) : shots;
    List<Integer> seedList = seeds == null ? List.of(1, 2, 3) : seeds;
    checkGrid(shotList, seedList, vars, limits == null ? Limits.DEFAULT : limits);
    String proto = protocol == null ? RunConfig.BASE2NOVEL : protocol;
    if (!RunConfig.PROTOCOLS.contains(proto))
      throw new IllegalArgumentException("campaign file: protocol must be one of " + RunConfig.PROTOCOLS + ", got '" + proto + "'"
          + DidYouMean.hint(proto, RunConfig.PROTOCOLS));
    boolean cross = proto.equals(RunConfig.CROSS_DATASET);
    if (cross && (targets == null || targets.isEmpty()))
      throw new IllegalArgumentException("campaign file: protocol 'cross-dataset' needs 'targets' (a list like 'datasets': "
          + "[{name: ImageNetV2, root: /data}, ...]) to evaluate the trained prompts on");
    if (!cross && targets != null && !targets.isEmpty())
      throw new IllegalArgumentException("campaign file: 'targets' are only evaluated with 'protocol: cross-dataset' "
          + "(protocol is '" + proto + "'); set protocol: cross-dataset or remove targets");
    Path weights = base.resolve(expand(require(model.weights(), "model.weights"), "model.weights", vars)).normalize();
    if (!Files.isRegularFile(weights) && !Files.isDirectory(weights))
      throw new IllegalArgumentException("model.weights: " + weights + " does not exist; give the path of a CLIP checkpoint");
    checkWeights("model.weights", weights, model.name(), model.sha256());
    String sha = ModelCache.sha256(weights);
    if (model.sha256() != null && !model.sha256().equalsIgnoreCase(sha))
      throw new IllegalArgumentException("model.weights: " + weights + " has sha256 " + sha + ", the campaign file expects " + model.sha256()
          + "; download the file again, point weights at the file the hash was taken from, or update model.sha256");
    List<DatasetRef> ds = new ArrayList<>();
    Map<String, String> sourceNames = new java.util.LinkedHashMap<>(); // reader name -> as written
    List<String> readerNames = new ArrayList<>(); // reader names of sources and targets (for per-dataset method checks)
    List<String> withoutVal = new ArrayList<>();
    List<BenchmarkDataset> sources = new ArrayList<>();
    java.util.Set<String> classNames = new java.util.LinkedHashSet<>(); // every class a prompt will name
    for (int i = 0; i < datasets.size(); i++) {
      Dataset d = datasets.get(i);
      if (d == null) throw new IllegalArgumentException("campaign file: datasets[" + i + "] is empty; give {name: ..., root: ...}");
      Path root = base.resolve(expand(require(d.root(), "datasets[].root"), "datasets[].root", vars)).normalize();
      BenchmarkDataset opened = open(require(d.name(), "datasets[].name"), root, "datasets");
      ds.add(new DatasetRef(d.name(), root.toString(), opened.fingerprint()));
      sourceNames.put(opened.name(), d.name());
      readerNames.add(opened.name());
      sources.add(opened);
      classNames.addAll(opened.classNames());
      if (opened.val().isEmpty()) withoutVal.add(d.name() + " (" + root + ")");
    }
    List<DatasetRef> ts = new ArrayList<>();
    Map<String, String> targetNames = new java.util.LinkedHashMap<>();
    for (Dataset t : targets == null ? List.<Dataset>of() : targets) {
      if (t == null) throw new IllegalArgumentException("campaign file: a 'targets' entry is empty; give {name: ..., root: ...}");
      Path root = base.resolve(expand(require(t.root(), "targets[].root"), "targets[].root", vars)).normalize();
      BenchmarkDataset opened = open(require(t.name(), "targets[].name"), root, "targets");
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
      classNames.addAll(opened.classNames());
    }
    ClipConfig arch = modelConfig(weights);
    List<MethodSpec> ms = new ArrayList<>();
    String sampling = null; // a method that trains on (or fits to) the few-shot images
    for (int i = 0; i < methods.size(); i++) {
      Method m = methods.get(i);
      if (m == null) throw new IllegalArgumentException("campaign file: methods[" + i + "] is empty; give {name: ...}");
      ai.promptline.ml.methods.MethodSpec spec;
      try {
        spec = Methods.spec(require(m.name(), "methods[].name"));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("campaign file: " + e.getMessage() + DidYouMean.hint(m.name(), Methods.names()), e);
      }
      TrainParams train = trainParams(m, spec);
      if (spec.recipe().epochs() > 0 && train.epochs() <= 0)
        throw new IllegalArgumentException("campaign file: methods[" + m.name() + "].train.epochs is " + train.epochs() + ", but '"
            + spec.name() + "' learns by training (its recipe: " + spec.recipe().epochs() + " epochs); give epochs >= 1, or use"
            + " zsclip for a method without training");
      checkTrainValues(m, spec, train);
      if (!spec.name().equals("zsclip") && sampling == null) sampling = spec.name();
      Map<String, String> options = options(m, spec, train);
      checkTemplates(m, spec, options, readerNames);
      checkProtocol(spec, proto, m);
      if (spec.usesValidation() && !withoutVal.isEmpty())
        throw new IllegalArgumentException("campaign file: method '" + spec.name() + "' selects its hyper-parameters on the"
            + " few-shot val split, but " + String.join(", ", withoutVal) + " has no val split; give the dataset one"
            + " (split file 'val' entries) or drop the method");
      checkMethodFits(spec, options, arch, cross, train);
      checkTextContext(m, spec, options, train, arch, List.copyOf(classNames));
      for (int s : shotList) {
        String problem = spec.planCheck().problem(spec.resolve(options), s);
        if (problem != null) throw new IllegalArgumentException("campaign file: " + problem);
      }
      ms.add(new MethodSpec(m.name(), train, options, experts(m, spec, base, arch, vars)));
    }
    if (sampling != null) checkShots(shotList, sources, sampling);
    return new CampaignSpec(name, experiment == null ? "promptline" : experiment, ds,
        new ModelRef(require(model.name(), "model.name"), weights.toString(), sha, model.precision()), ms,
        shotList, seedList, proto, maxParallel == null ? 1 : maxParallel, heartbeatTimeoutSeconds == null ? 0 : heartbeatTimeoutSeconds, ts,
        failurePolicy());
  }

  /** The file's failure policy (at most one of failFast, maxFailures, minSuccessRatio), checked. */
  ai.promptline.workflows.model.FailurePolicy failurePolicy() {
    try {
      return new ai.promptline.workflows.model.FailurePolicy(failFast, maxFailures, minSuccessRatio);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("campaign file: " + e.getMessage(), e);
    }
  }

  /**
   * The grid's lists and scheduling values, and its size against the run limit, from the file alone
   * (nothing expanded, opened or read): every list present and non-empty, no empty entries, shots
   * >= 1 and seeds >= 0 each listed once.
   */
  private void checkGrid(List<Integer> shotList, List<Integer> seedList, java.util.function.Function<String, String> vars, Limits limits) {
    requireList(datasets, "datasets", "datasets: [{name: EuroSAT, root: /data}]");
    requireList(methods, "methods", "methods: [{name: zsclip}, {name: coop}]");
    requireList(shotList, "shots", "shots: [16] (or leave shots out for [16])");
    requireList(seedList, "seeds", "seeds: [1, 2, 3] (or leave seeds out for [1, 2, 3])");
    checkValues(shotList, "shots", 1, "shots are training images per class, e.g. shots: [1, 2, 4, 8, 16]");
    checkValues(seedList, "seeds", 0, "e.g. seeds: [1, 2, 3]");
    if (maxParallel != null && maxParallel < 1)
      throw new IllegalArgumentException("campaign file: maxParallel is " + maxParallel + "; give at least 1 (runs in flight at once)"
          + " or leave it out for 1");
    if (heartbeatTimeoutSeconds != null && heartbeatTimeoutSeconds < 0)
      throw new IllegalArgumentException("campaign file: heartbeatTimeoutSeconds is " + heartbeatTimeoutSeconds + "; give 0 (the"
          + " default, 60 s) or more");
    failurePolicy(); // before anything is opened
    if (maxRuns != null && maxRuns < 1)
      throw new IllegalArgumentException("campaign file: maxRuns is " + maxRuns + "; give at least 1 or leave it out for "
          + DEFAULT_MAX_RUNS);
    long runs = 1;
    for (int n : new int[] {datasets.size(), methods.size(), shotList.size(), seedList.size()}) {
      runs = runs > Long.MAX_VALUE / Math.max(1, n) ? Long.MAX_VALUE : runs * n;
    }
    long limit;
    String from;
    if (limits.maxRuns() != null) {
      limit = limits.maxRuns();
      from = "--max-runs";
    } else if (maxRuns != null) {
      limit = maxRuns;
      from = "maxRuns in the file";
    } else if (vars != null && vars.apply("PROMPTLINE_MAX_RUNS") != null && !vars.apply("PROMPTLINE_MAX_RUNS").isBlank()) {
      String v = vars.apply("PROMPTLINE_MAX_RUNS").trim();
      try {
        limit = Long.parseLong(v);
        if (limit < 1) throw new NumberFormatException();
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("PROMPTLINE_MAX_RUNS is '" + v + "'; set it to a whole number >= 1 (the most runs a"
            + " campaign may have without --yes) or unset it for " + DEFAULT_MAX_RUNS);
      }
      from = "PROMPTLINE_MAX_RUNS";
    } else {
      limit = DEFAULT_MAX_RUNS;
      from = "the default";
    }
    if (runs > limit && !limits.yes())
      throw new IllegalArgumentException("campaign file: the grid has " + runs + " runs (" + datasets.size() + " datasets x "
          + methods.size() + " methods x " + shotList.size() + " shots x " + seedList.size() + " seeds), over the limit of "
          + limit + " (" + from + "); check shots and seeds for a typo, or plan it anyway with --yes (or raise the limit: "
          + "--max-runs N, maxRuns: N in the file, PROMPTLINE_MAX_RUNS)");
  }

  private static void requireList(List<?> list, String field, String example) {
    if (list == null)
      throw new IllegalArgumentException("campaign file: '" + field + "' is required, e.g. " + example);
    if (list.isEmpty())
      throw new IllegalArgumentException("campaign file: '" + field + "' is empty, so the grid datasets x methods x shots x seeds"
          + " has no runs; list at least one, e.g. " + example);
  }

  private static void checkValues(List<Integer> values, String field, int min, String fix) {
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (int i = 0; i < values.size(); i++) {
      Integer v = values.get(i);
      if (v == null) throw new IllegalArgumentException("campaign file: " + field + "[" + i + "] is empty; " + fix);
      if (v < min)
        throw new IllegalArgumentException("campaign file: " + field + "[" + i + "] is " + v + "; " + field + " must be >= " + min
            + " (" + fix + ")");
      if (!seen.add(v))
        throw new IllegalArgumentException("campaign file: " + field + " lists " + v + " twice; list every value once");
    }
  }

  /**
   * Every class of every source dataset has at least the largest shots of training images: Dassl's
   * sampler would silently use fewer (all a small class has), which changes the benchmark.
   */
  private static void checkShots(List<Integer> shotList, List<BenchmarkDataset> sources, String method) {
    int most = java.util.Collections.max(shotList);
    for (BenchmarkDataset d : sources) {
      int[] count = new int[d.classNames().size()];
      for (ai.promptline.ml.data.SplitItem it : d.splits().train()) if (it.label() >= 0 && it.label() < count.length) count[it.label()]++;
      int at = -1;
      for (int c = 0; c < count.length; c++) if (at < 0 || count[c] < count[at]) at = c;
      int fewest = at < 0 ? 0 : count[at];
      if (at >= 0 && fewest < most) {
        List<Integer> ok = shotList.stream().filter(k -> k <= fewest).toList();
        throw new IllegalArgumentException("campaign file: shots " + most + " needs " + most + " training images per class, but class '"
            + d.classNames().get(at) + "' of dataset " + d.name() + " (" + d.root() + ") has " + fewest + " in its train split"
            + " (method '" + method + "' samples from it); use shots of at most " + fewest
            + (ok.isEmpty() ? "" : ", e.g. shots: " + ok) + ", or add images to that class");
      }
    }
  }

  /** Opens and validates a dataset; a problem names the field and how to see every problem. */
  private static BenchmarkDataset open(String name, Path root, String field) {
    try {
      Datasets.spec(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("campaign file: " + field + ": " + e.getMessage() + DidYouMean.hint(name, Datasets.names()), e);
    }
    try {
      return Datasets.open(name, root);
    } catch (ai.promptline.ml.data.DatasetException e) {
      throw new IllegalArgumentException("campaign file: " + e.getMessage() + "; fix the dataset, then check it"
          + " with ./promptline data verify " + name + " --root " + root, e);
    }
  }

  /**
   * The weights' structure ({@link WeightsCheck}: truncated zip or safetensors, an HTML page, a Git
   * LFS pointer, an incomplete HF folder) before their hash is computed and before any run loads them.
   */
  private static void checkWeights(String field, Path weights, String modelName, String sha256) {
    String problem = WeightsCheck.problem(weights);
    if (problem == null) return;
    String expected = sha256 != null ? sha256
        : modelName == null ? null : ClipCheckpoints.byName(modelName).map(ClipCheckpoints.Known::sha256).orElse(null);
    String fix = modelName != null && ClipCheckpoints.byName(modelName).isPresent()
        ? "download it again (./promptline clip download " + modelName + ")" : "download or copy it again";
    throw new IllegalArgumentException(field + ": " + problem + "; " + fix + (expected == null ? "" : "; expected SHA-256 " + expected));
  }

  /** Train values a trained method cannot learn with. */
  private static void checkTrainValues(Method m, ai.promptline.ml.methods.MethodSpec spec, TrainParams t) {
    String at = "campaign file: methods[" + m.name() + "].train.";
    boolean trains = spec.recipe().epochs() > 0;
    if (trains && !(t.lr() > 0) || !Double.isFinite(t.lr()))
      throw new IllegalArgumentException(at + "lr is " + t.lr() + "; a trained method needs a learning rate > 0 (its recipe: "
          + spec.recipe().lr() + ")");
    if (!(t.momentum() >= 0 && t.momentum() < 1))
      throw new IllegalArgumentException(at + "momentum is " + t.momentum() + "; give a value in [0, 1), e.g. 0.9");
    if (!(t.weightDecay() >= 0) || !Double.isFinite(t.weightDecay()))
      throw new IllegalArgumentException(at + "weightDecay is " + t.weightDecay() + "; give a value >= 0, e.g. 5e-4");
    if (t.warmupEpochs() < 0)
      throw new IllegalArgumentException(at + "warmupEpochs is " + t.warmupEpochs() + "; give 0 or more (default 1)");
    if (!(t.warmupLr() >= 0) || !Double.isFinite(t.warmupLr()))
      throw new IllegalArgumentException(at + "warmupLr is " + t.warmupLr() + "; give a value >= 0, e.g. 1e-5");
    if (t.nCtx() < 0) throw new IllegalArgumentException(at + "nCtx is " + t.nCtx() + "; give the number of context tokens, >= 1");
  }

  /**
   * The method's prompts, as it builds them from nCtx / ctxInit, fit the model's text context
   * (77 tokens for OpenAI CLIP) with every class name of the campaign, counted with the CLIP
   * tokenizer (SOT and EOT included).
   */
  private static void checkTextContext(Method m, ai.promptline.ml.methods.MethodSpec spec, Map<String, String> options, TrainParams train,
      ClipConfig arch, List<String> classNames) {
    if (arch == null || spec.name().equals("zsclip") || !spec.defaults().containsKey("ctxInit")) return;
    Map<String, String> resolved = new java.util.LinkedHashMap<>(spec.resolve(options));
    resolved.put("nCtx", String.valueOf(train.nCtx()));
    resolved.put("ctxInit", train.ctxInit());
    String problem = ai.promptline.ml.methods.TextContextFit.problem(spec, resolved, classNames, arch.contextLength(),
        ai.promptline.ml.clip.ClipTokenizer.getDefault());
    if (problem != null) throw new IllegalArgumentException("campaign file: methods[" + m.name() + "]: " + problem);
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
        throw new IllegalArgumentException("campaign file: methods[" + m.name() + "].train: unknown field '" + k + "'"
            + DidYouMean.hint(k, merged.keySet()) + "; known: " + String.join(", ", merged.keySet()));
    merged.putAll(m.train());
    try {
      return YAML.convertValue(merged, TrainParams.class);
    } catch (IllegalArgumentException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException mi)
          throw new IllegalArgumentException("campaign file: methods[" + m.name() + "].train: " + mismatch(mi), e);
        if (t.getCause() == null && t instanceof IllegalArgumentException root) // TrainParams' own refusal
          throw new IllegalArgumentException("campaign file: methods[" + m.name() + "]." + root.getMessage(), e);
      }
      throw new IllegalArgumentException("campaign file: methods[" + m.name() + "].train: " + firstLine(e.getMessage()), e);
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
    for (String k : given.keySet())
      if (!spec.defaults().containsKey(k) && !k.equals("nCtx") && !k.equals("ctxInit"))
        throw new IllegalArgumentException("campaign file: methods[" + m.name() + "].options: method '" + spec.name() + "' has no option '"
            + k + "'" + DidYouMean.hint(k, spec.defaults().keySet()) + "; its options: "
            + (spec.defaults().isEmpty() ? "none" : String.join(", ", spec.defaults().keySet())));
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
      checkWeights(at + "[" + name + "].weights", weights, name, e.sha256());
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
