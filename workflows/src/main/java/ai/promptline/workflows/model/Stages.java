package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

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

  /**
   * Frozen image features, content-keyed so later runs with the same key reuse them. {@code val}: the
   * few-shot validation features (test transform) of methods that select hyper-parameters on them,
   * null otherwise (and in results written before it existed; left out of the JSON when null).
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record FeatureResult(
      String featureKey, BlobRef train, BlobRef baseTest, BlobRef novelTest, int dim, int views, boolean cacheHit,
      @JsonInclude(JsonInclude.Include.NON_NULL) BlobRef val) {
    public FeatureResult(String featureKey, BlobRef train, BlobRef baseTest, BlobRef novelTest, int dim, int views, boolean cacheHit) {
      this(featureKey, train, baseTest, novelTest, dim, views, cacheHit, null);
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TrainInput(StageInput run, SplitResult split, FeatureResult features) {}

  /** Learned tensors (null for methods without training) and how training went. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TrainResult(
      BlobRef prompt, int epochs, int resumedFromEpoch, double finalLoss, long trainableParams, long millis,
      long recomputedSteps, Map<String, String> environment) {
    public TrainResult {
      environment = environment == null ? Map.of() : Map.copyOf(environment);
    }

    public TrainResult(BlobRef prompt, int epochs, int resumedFromEpoch, double finalLoss, long trainableParams, long millis) {
      this(prompt, epochs, resumedFromEpoch, finalLoss, trainableParams, millis, 0, Map.of());
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record EvalInput(StageInput run, SplitResult split, FeatureResult features, TrainResult trained) {}

  /**
   * Accuracies in percent; {@code hm} = 2·base·novel/(base+novel), 0 when both are 0. With
   * protocols {@code all} and {@code cross-dataset}, {@code accBase} is the accuracy on all classes
   * of the source. {@code targets}: cross-dataset results in target order, empty otherwise (and for
   * result records written before targets existed; left out of the JSON when empty).
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record EvalResult(double accBase, double accNovel, double hm, int baseTotal, int novelTotal,
      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<TargetResult> targets) {
    public EvalResult {
      targets = targets == null ? List.of() : List.copyOf(targets);
    }

    public EvalResult(double accBase, double accNovel, double hm, int baseTotal, int novelTotal) {
      this(accBase, accNovel, hm, baseTotal, novelTotal, List.of());
    }

    public static double harmonicMean(double base, double novel) {
      return base + novel == 0 ? 0 : 2 * base * novel / (base + novel);
    }

    public EvalResult withTargets(List<TargetResult> results) {
      return new EvalResult(accBase, accNovel, hm, baseTotal, novelTotal, results);
    }

    /** Mean of the target accuracies (each target weighs the same, as in the papers' tables); NaN without targets. */
    public double targetMean() {
      return targets.stream().mapToDouble(TargetResult::accuracy).average().orElse(Double.NaN);
    }
  }

  /**
   * A cross-dataset target's full test split, stored as an index blob
   * ({@code runs/<key>/targets/<dataset>.json}: class names in label order, template, items).
   *
   * @param dataset the dataset's canonical name (as the reader reports it)
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TargetSplit(String dataset, BlobRef index, String fingerprint, String template, int classes, int testItems) {}

  /** What the target evaluation needs: the run, the target as configured, its split and the trained prompt. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TargetInput(StageInput run, DatasetRef target, TargetSplit split, TrainResult trained) {}

  /** The trained prompt's accuracy (percent) on a target's full test split over the target's own classes. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TargetResult(String dataset, String fingerprint, double accuracy, int total) {}

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
