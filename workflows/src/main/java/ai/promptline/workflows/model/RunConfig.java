package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Everything that determines the result of one run. Its canonical JSON (minus machine-local
 * paths) hashes to the run key, see {@link ContentKeys#runKey(RunConfig)}.
 *
 * @param protocol {@code base2novel} (train on base classes, test base and novel) or {@code all}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RunConfig(
    DatasetRef dataset,
    ModelRef model,
    String method,
    int shots,
    int seed,
    String protocol,
    TrainParams train) {

  public RunConfig {
    ContentKeys.require(method, "method");
    ContentKeys.require(protocol, "protocol");
    if (dataset == null) throw new IllegalArgumentException("dataset is required");
    if (model == null) throw new IllegalArgumentException("model is required");
    if (train == null) throw new IllegalArgumentException("train is required");
    if (shots < 0) throw new IllegalArgumentException("shots must be >= 0 (0 = all images), got " + shots);
    if (!protocol.equals("base2novel") && !protocol.equals("all"))
      throw new IllegalArgumentException("protocol must be 'base2novel' or 'all', got '" + protocol + "'");
  }

  /** Human-readable MLflow run name, e.g. {@code coop-synthetic-4s-seed1}. */
  public String displayName() {
    return method + "-" + dataset.name() + "-" + shots + "s-seed" + seed;
  }
}
