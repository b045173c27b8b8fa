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

  /**
   * What a stage cost, measured by the activity itself (its last, successful attempt). Every field
   * but {@code millis} is optional (null = not measured, left out of the JSON); the records that
   * carry one leave it out when null, so payloads and histories written before cost existed still
   * deserialize, to null.
   *
   * @param millis wall time of the activity attempt
   * @param images images (or cached feature rows) the stage processed: encoded, trained on or evaluated
   * @param steps optimizer steps run (train)
   * @param stepMillis mean wall time of one optimizer step, ms, excluding checkpoint and metric writes (train)
   * @param rssPeakBytes the worker process's peak resident set ({@code VmHWM} of /proc/self/status):
   *     a high-water mark since the worker started, so it covers this stage and every earlier one on that worker
   * @param heapPeakBytes the JVM's heap high-water mark (sum of the heap memory pools' peak usage), same scope
   * @param deviceMemBytes on a GPU: device memory in use when the stage ended (cudaMemGetInfo, whole
   *     device); DJL exposes no peak-allocated figure, and PyTorch's caching allocator keeps what it
   *     reserved, so this approximates the process's reserved peak. Null on CPU.
   * @param device the DJL device the stage computed on ({@code cpu()}, {@code gpu(0)}); null for non-compute stages
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record StageCost(long millis, Long images, Long steps, Double stepMillis, Long rssPeakBytes, Long heapPeakBytes,
      Long deviceMemBytes, String device) {
    public StageCost withImages(long n) {
      return new StageCost(millis, n, steps, stepMillis, rssPeakBytes, heapPeakBytes, deviceMemBytes, device);
    }

    /** Images per second of wall time; null when no images were counted or no time passed. */
    public Double imagesPerSecond() {
      return images == null || images == 0 || millis <= 0 ? null : images * 1000.0 / millis;
    }
  }

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
      int novelTestItems,
      @JsonInclude(JsonInclude.Include.NON_NULL) StageCost cost) {
    public SplitResult(BlobRef index, String datasetFingerprint, String template, List<String> baseClasses,
        List<String> novelClasses, int trainItems, int baseTestItems, int novelTestItems) {
      this(index, datasetFingerprint, template, baseClasses, novelClasses, trainItems, baseTestItems, novelTestItems, null);
    }

    public SplitResult withCost(StageCost c) {
      return new SplitResult(index, datasetFingerprint, template, baseClasses, novelClasses, trainItems, baseTestItems,
          novelTestItems, c);
    }
  }

  /**
   * Frozen image features, content-keyed so later runs with the same key reuse them. {@code val}: the
   * few-shot validation features (test transform) of methods that select hyper-parameters on them,
   * null otherwise (and in results written before it existed; left out of the JSON when null).
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record FeatureResult(
      String featureKey, BlobRef train, BlobRef baseTest, BlobRef novelTest, int dim, int views, boolean cacheHit,
      @JsonInclude(JsonInclude.Include.NON_NULL) BlobRef val,
      @JsonInclude(JsonInclude.Include.NON_NULL) StageCost cost) {
    public FeatureResult(String featureKey, BlobRef train, BlobRef baseTest, BlobRef novelTest, int dim, int views, boolean cacheHit) {
      this(featureKey, train, baseTest, novelTest, dim, views, cacheHit, null, null);
    }

    public FeatureResult(String featureKey, BlobRef train, BlobRef baseTest, BlobRef novelTest, int dim, int views, boolean cacheHit,
        BlobRef val) {
      this(featureKey, train, baseTest, novelTest, dim, views, cacheHit, val, null);
    }

    public FeatureResult withCost(StageCost c) {
      return new FeatureResult(featureKey, train, baseTest, novelTest, dim, views, cacheHit, val, c);
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TrainInput(StageInput run, SplitResult split, FeatureResult features) {}

  /** Learned tensors (null for methods without training) and how training went. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TrainResult(
      BlobRef prompt, int epochs, int resumedFromEpoch, double finalLoss, long trainableParams, long millis,
      long recomputedSteps, Map<String, String> environment,
      @JsonInclude(JsonInclude.Include.NON_NULL) StageCost cost) {
    public TrainResult {
      environment = environment == null ? Map.of() : Map.copyOf(environment);
    }

    public TrainResult(BlobRef prompt, int epochs, int resumedFromEpoch, double finalLoss, long trainableParams, long millis,
        long recomputedSteps, Map<String, String> environment) {
      this(prompt, epochs, resumedFromEpoch, finalLoss, trainableParams, millis, recomputedSteps, environment, null);
    }

    public TrainResult(BlobRef prompt, int epochs, int resumedFromEpoch, double finalLoss, long trainableParams, long millis) {
      this(prompt, epochs, resumedFromEpoch, finalLoss, trainableParams, millis, 0, Map.of());
    }

    public TrainResult withCost(StageCost c) {
      return new TrainResult(prompt, epochs, resumedFromEpoch, finalLoss, trainableParams, millis, recomputedSteps, environment, c);
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
      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<TargetResult> targets,
      @JsonInclude(JsonInclude.Include.NON_NULL) StageCost cost) {
    public EvalResult {
      targets = targets == null ? List.of() : List.copyOf(targets);
    }

    public EvalResult(double accBase, double accNovel, double hm, int baseTotal, int novelTotal, List<TargetResult> targets) {
      this(accBase, accNovel, hm, baseTotal, novelTotal, targets, null);
    }

    public EvalResult(double accBase, double accNovel, double hm, int baseTotal, int novelTotal) {
      this(accBase, accNovel, hm, baseTotal, novelTotal, List.of());
    }

    /** The evaluate stage's cost; the targets' costs stay with each {@link TargetResult}. */
    public EvalResult withCost(StageCost c) {
      return new EvalResult(accBase, accNovel, hm, baseTotal, novelTotal, targets, c);
    }

    public static double harmonicMean(double base, double novel) {
      return base + novel == 0 ? 0 : 2 * base * novel / (base + novel);
    }

    public EvalResult withTargets(List<TargetResult> results) {
      return new EvalResult(accBase, accNovel, hm, baseTotal, novelTotal, results, cost);
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
  public record TargetResult(String dataset, String fingerprint, double accuracy, int total,
      @JsonInclude(JsonInclude.Include.NON_NULL) StageCost cost) {
    public TargetResult(String dataset, String fingerprint, double accuracy, int total) {
      this(dataset, fingerprint, accuracy, total, null);
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record LogInput(
      StageInput run, SplitResult split, FeatureResult features, TrainResult trained, EvalResult eval) {}

  /**
   * What a finished run leaves behind; also the committed {@code runs/<key>/result.json}.
   * {@code cost}: the run's cost as logged to MLflow (the {@code cost.*} metrics without the prefix,
   * e.g. {@code wall_s}, {@code train_s}, {@code train_step_ms}); {@code device}: where it trained.
   * Both are absent in results written before cost existed (and left out of the JSON then).
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record RunResult(
      String runKey, RunConfig config, String mlflowRunId, String status, EvalResult eval, boolean reused, String error,
      @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Double> cost,
      @JsonInclude(JsonInclude.Include.NON_NULL) String device) {
    public RunResult {
      cost = cost == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(cost));
    }

    public RunResult(String runKey, RunConfig config, String mlflowRunId, String status, EvalResult eval, boolean reused, String error) {
      this(runKey, config, mlflowRunId, status, eval, reused, error, Map.of(), null);
    }

    public RunResult asReused() {
      return new RunResult(runKey, config, mlflowRunId, status, eval, true, error, cost, device);
    }
  }

  /** Terminal statuses as MLflow spells them. */
  public static final String FINISHED = "FINISHED";
  public static final String FAILED = "FAILED";
  public static final String KILLED = "KILLED";
}
