package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/**
 * A benchmark campaign: the grid datasets × methods × shots × seeds over one model, expanded into
 * run configs in a fixed order (dataset, method, shots, seed).
 *
 * @param experiment MLflow experiment (campaign family) the parent run goes to
 * @param maxParallel how many run workflows may be in flight at once (scheduling, not content)
 * @param heartbeatTimeoutSeconds how long a silent training activity is trusted before Temporal
 *     retries it on another worker (0 = default 60 s; scheduling, not content)
 * @param failurePolicy when the campaign stops early and whether failed runs fail it (null = every
 *     run is tried, FINISHED only if all finish; scheduling, not content)
 * @param targets datasets every run of a {@code cross-dataset} campaign is evaluated on after
 *     training on its source dataset; empty otherwise (and then absent from the campaign key)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CampaignSpec(
    String name,
    String experiment,
    List<DatasetRef> datasets,
    ModelRef model,
    List<MethodSpec> methods,
    List<Integer> shots,
    List<Integer> seeds,
    String protocol,
    int maxParallel,
    int heartbeatTimeoutSeconds,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<DatasetRef> targets,
    @JsonInclude(JsonInclude.Include.NON_NULL) FailurePolicy failurePolicy) {

  public CampaignSpec {
    ContentKeys.require(name, "campaign.name");
    ContentKeys.require(experiment, "campaign.experiment");
    if (datasets == null || datasets.isEmpty()) throw new IllegalArgumentException("campaign needs at least one dataset");
    if (methods == null || methods.isEmpty()) throw new IllegalArgumentException("campaign needs at least one method");
    if (shots == null || shots.isEmpty()) throw new IllegalArgumentException("campaign needs at least one shots value");
    if (seeds == null || seeds.isEmpty()) throw new IllegalArgumentException("campaign needs at least one seed");
    if (model == null) throw new IllegalArgumentException("campaign needs a model");
    if (maxParallel < 1) throw new IllegalArgumentException("maxParallel must be >= 1, got " + maxParallel);
    if (heartbeatTimeoutSeconds < 0)
      throw new IllegalArgumentException("heartbeatTimeoutSeconds must be >= 0, got " + heartbeatTimeoutSeconds);
    if (protocol == null || protocol.isBlank()) protocol = RunConfig.BASE2NOVEL;
    if (!RunConfig.PROTOCOLS.contains(protocol))
      throw new IllegalArgumentException("protocol must be one of " + RunConfig.PROTOCOLS + ", got '" + protocol + "'");
    targets = RunConfig.checkTargets(protocol, null, targets);
    for (DatasetRef d : datasets) RunConfig.checkTargets(protocol, d, targets); // no target is a source
    datasets = List.copyOf(datasets);
    methods = List.copyOf(methods);
    shots = List.copyOf(shots);
    seeds = List.copyOf(seeds);
    if (failurePolicy != null && failurePolicy.equals(FailurePolicy.NONE)) failurePolicy = null;
  }

  /** A campaign with the default failure policy (every run is tried). */
  public CampaignSpec(String name, String experiment, List<DatasetRef> datasets, ModelRef model,
      List<MethodSpec> methods, List<Integer> shots, List<Integer> seeds, String protocol, int maxParallel,
      int heartbeatTimeoutSeconds, List<DatasetRef> targets) {
    this(name, experiment, datasets, model, methods, shots, seeds, protocol, maxParallel, heartbeatTimeoutSeconds, targets,
        null);
  }

  /** This campaign with another failure policy (null = the default). */
  public CampaignSpec withFailurePolicy(FailurePolicy policy) {
    return new CampaignSpec(name, experiment, datasets, model, methods, shots, seeds, protocol, maxParallel,
        heartbeatTimeoutSeconds, targets, policy);
  }

  /** This campaign with another {@code maxParallel}. */
  public CampaignSpec withMaxParallel(int n) {
    return new CampaignSpec(name, experiment, datasets, model, methods, shots, seeds, protocol, n, heartbeatTimeoutSeconds,
        targets, failurePolicy);
  }

  /** A campaign without cross-dataset targets. */
  public CampaignSpec(String name, String experiment, List<DatasetRef> datasets, ModelRef model,
      List<MethodSpec> methods, List<Integer> shots, List<Integer> seeds, String protocol, int maxParallel,
      int heartbeatTimeoutSeconds) {
    this(name, experiment, datasets, model, methods, shots, seeds, protocol, maxParallel, heartbeatTimeoutSeconds,
        List.of());
  }

  /**
   * One method of the grid with its training settings and the expert models it reads (empty for
   * every method but {@code prismer}; absent from the campaign key when empty).
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record MethodSpec(String name, TrainParams train,
      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
      java.util.Map<String, String> options,
      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
      List<ModelRef> experts) {
    public MethodSpec {
      ContentKeys.require(name, "method.name");
      if (train == null) throw new IllegalArgumentException("method '" + name + "' needs train params");
      options = options == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(options));
      experts = RunConfig.checkExperts(experts);
    }

    /** A method with options and no experts. */
    public MethodSpec(String name, TrainParams train, java.util.Map<String, String> options) {
      this(name, train, options, List.of());
    }

    /** A method with its default options. */
    public MethodSpec(String name, TrainParams train) {
      this(name, train, java.util.Map.of());
    }
  }

  /** The grid in its canonical order, without duplicate configs. */
  public List<RunConfig> expand() {
    java.util.LinkedHashSet<RunConfig> runs = new java.util.LinkedHashSet<>();
    for (DatasetRef d : datasets)
      for (MethodSpec m : methods)
        for (int k : shots)
          for (int s : seeds) runs.add(new RunConfig(d, model, m.name(), k, s, protocol, m.train(), targets, m.options(), m.experts()));
    return new ArrayList<>(runs);
  }
}
