package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** Payload records passed between the run workflow and its activities. All small by design. */
public final class Stages {
  private Stages() {}

  /** An object in the store: key plus the SHA-256 and size of its bytes. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record BlobRef(String key, String sha256, long bytes) {}

  /** Identity of the run a stage works for. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record StageInput(String runKey, RunConfig config, String mlflowRunId) {}

  /** Few-shot sample + base/novel partition, stored as an index blob. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record SplitResult(
      BlobRef index,
      String datasetFingerprint,
      String template,
      List<String> baseClasses,
      List<String> novelClasses,
      int trainItems,
      int baseTestItems,
      int novelTestItems) {}

  /** Frozen image features, content-keyed so later runs with the same key reuse them. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record FeatureResult(
      String featureKey, BlobRef train, BlobRef baseTest, BlobRef novelTest, int dim, int views, boolean cacheHit) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TrainInput(StageInput run, SplitResult split, FeatureResult features) {}

  /** Learned tensors (null for methods without training) and how training went. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TrainResult(
      BlobRef prompt, int epochs, int resumedFromEpoch, double finalLoss, long trainableParams, long millis) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record EvalInput(StageInput run, SplitResult split, FeatureResult features, TrainResult trained) {}

  /** Accuracies in percent; {@code hm} = 2·base·novel/(base+novel), 0 when both are 0. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record EvalResult(double accBase, double accNovel, double hm, int baseTotal, int novelTotal) {
    public static double harmonicMean(double base, double novel) {
      return base + novel == 0 ? 0 : 2 * base * novel / (base + novel);
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record LogInput(
      StageInput run, SplitResult split, FeatureResult features, TrainResult trained, EvalResult eval) {}

  /** What a finished run leaves behind; also the committed {@code runs/<key>/result.json}. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record RunResult(
      String runKey, RunConfig config, String mlflowRunId, String status, EvalResult eval, boolean reused, String error) {
    public RunResult asReused() {
      return new RunResult(runKey, config, mlflowRunId, status, eval, true, error);
    }
  }

  /** Terminal statuses as MLflow spells them. */
  public static final String FINISHED = "FINISHED";
  public static final String FAILED = "FAILED";
  public static final String KILLED = "KILLED";
}
