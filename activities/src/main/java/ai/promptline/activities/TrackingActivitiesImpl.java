package ai.promptline.activities;

import ai.promptline.activities.tracking.Tracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.activities.tracking.Tracker.RunInfo;
import ai.promptline.workflows.api.TrackingActivities;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.LogInput;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.Stages.TargetResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * MLflow bookkeeping and result records. Find-before-create on content-key tags makes every call
 * idempotent, so activity retries and campaign re-submissions never duplicate runs.
 */
public final class TrackingActivitiesImpl implements TrackingActivities {
  public static final String TAG_CAMPAIGN = "promptline.campaign";
  public static final String TAG_CAMPAIGN_KEY = "promptline.campaign_key";
  public static final String TAG_RUN_KEY = "promptline.run_key";
  public static final String TAG_METHOD = "promptline.method";
  public static final String TAG_DATASET = "promptline.dataset";
  public static final String TAG_SHOTS = "promptline.shots";
  public static final String TAG_SEED = "promptline.seed";
  public static final String TAG_MODEL = "promptline.model";
  public static final String TAG_PROTOCOL = "promptline.protocol";
  public static final String TAG_ERROR = "promptline.error";
  public static final String TAG_PARENT = "mlflow.parentRunId";
  public static final String TAG_NOTE = "mlflow.note.content";
  public static final String TAG_WORKFLOW = "temporal.workflowId";
  /** Cross-dataset runs: the targets evaluated, comma-separated, in order. */
  public static final String TAG_TARGETS = "promptline.targets";
  /** Cross-dataset accuracy on one target: {@code acc_target/<dataset>}. */
  public static final String METRIC_TARGET_PREFIX = "acc_target/";
  /** Mean of the per-target accuracies of a run. */
  public static final String METRIC_TARGET_AVG = "acc_target_avg";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Where a run key's MLflow run lives, so the safety net can find it without a search. */
  record RunLocation(String experimentId, String runId) {}

  private final Backends backends;

  public TrackingActivitiesImpl(Backends backends) {
    this.backends = backends;
  }

  private Tracker tracker() {
    return backends.tracker();
  }

  /**
   * The run's commit marker, trusted only when it verifies and parses as this run's FINISHED result;
   * a corrupt or unreadable one means "not finished" (the run is run again, deterministically).
   */
  @Override
  public RunResult lookupFinished(String runKey) {
    return Integrity.finishedResult(backends.store(), resultKey(runKey), runKey);
  }

  @Override
  public String startCampaign(String campaignKey, CampaignSpec spec, String workflowId) {
    String exp = tracker().experimentId(spec.experiment());
    List<RunInfo> found = tracker().findRuns(exp, TAG_CAMPAIGN_KEY, campaignKey);
    if (!found.isEmpty()) {
      String id = found.get(0).runId();
      tracker().setStatus(id, "RUNNING");
      tracker().log(id, Map.of(), List.of(), Map.of(TAG_WORKFLOW, workflowId));
      return id;
    }
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(TAG_CAMPAIGN, spec.name());
    tags.put(TAG_CAMPAIGN_KEY, campaignKey);
    tags.put(TAG_WORKFLOW, workflowId);
    tags.put("mlflow.source.git.commit", Provenance.codeVersion());
    tags.put(TAG_NOTE, campaignNote(spec, campaignKey));
    String id = tracker().createRun(exp, "campaign:" + spec.name(), tags);
    Map<String, String> params = new LinkedHashMap<>();
    params.put("campaign.name", spec.name());
    params.put("campaign.datasets", String.join(",", spec.datasets().stream().map(DatasetRef::name).toList()));
    params.put("campaign.methods", String.join(",", spec.methods().stream().map(CampaignSpec.MethodSpec::name).toList()));
    params.put("campaign.shots", spec.shots().toString());
    params.put("campaign.seeds", spec.seeds().toString());
    params.put("campaign.protocol", spec.protocol());
    if (!spec.targets().isEmpty())
      params.put("campaign.targets", String.join(",", spec.targets().stream().map(DatasetRef::name).toList()));
    params.put("campaign.runs", String.valueOf(spec.expand().size()));
    params.put("model.name", spec.model().name());
    params.put("model.sha256", String.valueOf(spec.model().sha256()));
    params.put("model.precision", spec.model().precision());
    tracker().log(id, params, List.of(), Map.of());
    return id;
  }

  @Override
  public String startRun(String runKey, RunConfig config, String parentRunId, String workflowId) {
    String exp = tracker().getRun(parentRunId).experimentId();
    List<RunInfo> found = tracker().findRuns(exp, TAG_RUN_KEY, runKey);
    String id;
    if (!found.isEmpty()) {
      id = found.get(0).runId();
      if (!"RUNNING".equals(found.get(0).status())) tracker().setStatus(id, "RUNNING");
      tracker().log(id, Map.of(), List.of(), Map.of(TAG_WORKFLOW, workflowId));
    } else {
      Map<String, String> tags = new LinkedHashMap<>();
      tags.put(TAG_PARENT, parentRunId);
      tags.put(TAG_RUN_KEY, runKey);
      tags.put(TAG_METHOD, config.method());
      tags.put(TAG_DATASET, config.dataset().name());
      tags.put(TAG_SHOTS, String.valueOf(config.shots()));
      tags.put(TAG_SEED, String.valueOf(config.seed()));
      tags.put(TAG_MODEL, config.model().name());
      tags.put(TAG_PROTOCOL, config.protocol());
      if (!config.targets().isEmpty())
        tags.put(TAG_TARGETS, String.join(",", config.targets().stream().map(DatasetRef::name).toList()));
      tags.put(TAG_WORKFLOW, workflowId);
      tags.put("mlflow.source.git.commit", Provenance.codeVersion());
      String campaign = tracker().getRun(parentRunId).tags().get(TAG_CAMPAIGN);
      if (campaign != null) tags.put(TAG_CAMPAIGN, campaign);
      id = tracker().createRun(exp, config.displayName(), tags);
      tracker().log(id, params(config), List.of(), Map.of());
    }
    backends.store().put(locationKey(runKey), write(new RunLocation(exp, id)));
    return id;
  }

  /**
   * The run config flattened into MLflow params (the full config, so runs can be filtered by any of
   * it). Cross-dataset targets become {@code targets} (names in order) and
   * {@code target.<name>.fingerprint}; their roots, like the dataset's, are machine-local. Experts
   * become {@code experts} (names in order) and {@code expert.<name>.sha256} (and {@code .precision});
   * their paths are machine-local too.
   */
  static Map<String, String> params(RunConfig c) {
    Map<String, Object> tree = JSON.convertValue(c, Map.class);
    tree.remove("targets");
    tree.remove("experts");
    Map<String, String> out = new TreeMap<>();
    flatten("", tree, out);
    out.remove("dataset.root");
    out.remove("model.weights");
    if (!c.targets().isEmpty()) {
      out.put("targets", String.join(",", c.targets().stream().map(DatasetRef::name).toList()));
      for (DatasetRef t : c.targets()) out.put("target." + t.name() + ".fingerprint", String.valueOf(t.fingerprint()));
    }
    if (!c.experts().isEmpty()) {
      out.put("experts", String.join(",", c.experts().stream().map(ai.promptline.workflows.model.ModelRef::name).toList()));
      for (var e : c.experts()) {
        out.put("expert." + e.name() + ".sha256", String.valueOf(e.sha256()));
        out.put("expert." + e.name() + ".precision", e.precision());
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static void flatten(String prefix, Map<String, Object> tree, Map<String, String> out) {
    tree.forEach((k, v) -> {
      String key = prefix.isEmpty() ? k : prefix + "." + k;
      if (v instanceof Map<?, ?> m) flatten(key, (Map<String, Object>) m, out);
      else out.put(key, String.valueOf(v));
    });
  }

  @Override
  public RunResult logRun(LogInput in) {
    StageMeter meter = StageMeter.start();
    String runId = in.run().mlflowRunId();
    String runKey = in.run().runKey();
    List<Metric> metrics = new ArrayList<>();
    long now = metricTimestamp(); // the same in every attempt: a retried logRun sends identical rows
    metrics.add(new Metric("acc_base", in.eval().accBase(), 0, now));
    metrics.add(new Metric("acc_novel", in.eval().accNovel(), 0, now));
    metrics.add(new Metric("hm", in.eval().hm(), 0, now));
    metrics.addAll(targetMetrics(in.eval(), now));
    Map<String, Double> cost = RunCost.of(in);
    Map<String, Double> stageCost = new LinkedHashMap<>(cost);
    stageCost.remove(RunCost.WALL_S); // logged with the log stage's time, below: one row per metric
    metrics.addAll(RunCost.metrics(stageCost, now));
    String device = RunCost.device(in);
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("promptline.features_cache", in.features().cacheHit() ? "hit" : "miss");
    if (device != null) tags.put(RunCost.TAG_DEVICE, device);
    if (in.trained() != null) {
      tags.put("promptline.resumed_from_epoch", String.valueOf(in.trained().resumedFromEpoch()));
      tags.put("promptline.trainable_params", String.valueOf(in.trained().trainableParams()));
      in.trained().environment().forEach((k, v) -> tags.put("promptline.train." + k, v));
    }
    tracker().log(runId, Map.of(), metrics, tags);
    if (in.trained() != null && in.trained().prompt() != null)
      tracker().uploadArtifact(runId, "prompt/prompt.safetensors", Integrity.prompt(backends.store(), in.trained().prompt(), runKey));
    tracker().uploadArtifact(runId, "provenance.json", write(provenance(in)));
    cost = RunCost.withLog(cost, logSeconds(runId, meter));
    tracker().log(runId, Map.of(), RunCost.metrics(Map.of(RunCost.LOG_S, cost.get(RunCost.LOG_S),
        RunCost.WALL_S, cost.get(RunCost.WALL_S)), now), Map.of());
    RunResult result = new RunResult(runKey, in.run().config(), runId, Stages.FINISHED, in.eval(), false, null, cost, device);
    backends.store().put(resultKey(runKey), write(result)); // commit marker: the run is done
    return result;
  }

  /**
   * The log stage's seconds: this attempt's time so far, or, for a retried attempt whose first one
   * logged it already, that value (the metric rows share one timestamp, so a retry sends identical rows).
   */
  private double logSeconds(String runId, StageMeter meter) {
    int attempt;
    try {
      attempt = io.temporal.activity.Activity.getExecutionContext().getInfo().getAttempt();
    } catch (IllegalStateException notInAnActivity) {
      attempt = 1;
    }
    if (attempt > 1) {
      List<Metric> logged = tracker().metricHistory(runId, RunCost.PREFIX + RunCost.LOG_S);
      if (!logged.isEmpty()) return logged.get(0).value();
    }
    return meter.elapsedMillis() / 1000.0;
  }

  /**
   * Cross-dataset metrics of a run: {@code acc_target/<dataset>} per target and
   * {@code acc_target_avg}, their mean (the "average" column of the papers' tables); none without targets.
   */
  static List<Metric> targetMetrics(EvalResult eval, long timestamp) {
    List<Metric> m = new ArrayList<>();
    if (eval.targets().isEmpty()) return m;
    for (TargetResult t : eval.targets()) m.add(new Metric(METRIC_TARGET_PREFIX + t.dataset(), t.accuracy(), 0, timestamp));
    m.add(new Metric(METRIC_TARGET_AVG, eval.targetMean(), 0, timestamp));
    return m;
  }

  private static Map<String, Object> provenance(LogInput in) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("runKey", in.run().runKey());
    p.put("config", in.run().config());
    p.put("datasetFingerprint", in.split().datasetFingerprint());
    p.put("splitIndex", in.split().index());
    p.put("features", in.features());
    p.put("prompt", in.trained() == null ? null : in.trained().prompt());
    p.put("modelSha256", in.run().config().model().sha256());
    p.put("frozenModels", Provenance.frozenModels(in.run().config())); // the main model and every expert
    p.put("eval", in.eval());
    p.put("codeVersion", Provenance.codeVersion());
    p.put("pipelineVersion", ContentKeys.PIPELINE_VERSION);
    p.put("libraries", Provenance.libraries());
    // where training ran (the GPU worker), as its train activity recorded it
    p.put("trainEnvironment", in.trained() == null ? Map.of() : in.trained().environment());
    return p;
  }

  @Override
  public void finishRun(String mlflowRunId, String status, String message) {
    if (message != null && !message.isBlank())
      tracker().log(mlflowRunId, Map.of(), List.of(), Map.of(TAG_ERROR, message, TAG_NOTE, errorNote(status, message)));
    if (Stages.FINISHED.equals(status)) clearErrorTags(mlflowRunId);
    tracker().setStatus(mlflowRunId, status);
    backends.metrics().runFinished(status);
  }

  @Override
  public void closeIfRunning(String runKey, String status, String message) {
    Optional<RunLocation> found = Integrity.record(backends.store(), locationKey(runKey), RunLocation.class);
    if (found.isEmpty()) return; // the run never reached MLflow, or its record is unreadable (logged)
    RunLocation l = found.get();
    if ("RUNNING".equals(tracker().getRun(l.runId()).status())) finishRun(l.runId(), status, message);
  }

  @Override
  public void finishCampaign(String campaignKey, String mlflowRunId, String status, List<RunResult> runs) {
    CampaignSummary summary = CampaignSummary.of(runs);
    tracker().log(mlflowRunId, Map.of(), summary.metrics(metricTimestamp()), Map.of());
    tracker().uploadArtifact(mlflowRunId, "summary.csv", summary.csv().getBytes(StandardCharsets.UTF_8));
    tracker().uploadArtifact(mlflowRunId, "summary.md", summary.markdown().getBytes(StandardCharsets.UTF_8));
    if (Stages.FINISHED.equals(status)) clearErrorTags(mlflowRunId);
    tracker().setStatus(mlflowRunId, status);
  }

  /** Tag on a campaign's parent run: why it stopped early or did not finish. */
  public static final String TAG_CAMPAIGN_REASON = "promptline.campaign_reason";

  /**
   * The close of a campaign of the current workflow: the summary over every row of the full plan,
   * the run counts as metrics ({@code campaign/finished} …), why it did not finish, its status.
   */
  void closeCampaign(ai.promptline.workflows.api.CampaignActivities.CampaignClose close, List<RunResult> rows) {
    String id = close.parentRunId();
    var c = close.counts();
    long ts = metricTimestamp();
    List<Metric> counts = List.of(new Metric("campaign/total", c.total(), 0, ts), new Metric("campaign/finished", c.finished(), 0, ts),
        new Metric("campaign/reused", c.reused(), 0, ts), new Metric("campaign/failed", c.failed(), 0, ts),
        new Metric("campaign/killed", c.killed(), 0, ts), new Metric("campaign/not_started", c.notStarted(), 0, ts));
    tracker().log(id, Map.of(), counts, close.reason() == null ? Map.of() : Map.of(TAG_CAMPAIGN_REASON, close.reason()));
    if (close.reason() == null && tracker().getRun(id).tags().containsKey(TAG_CAMPAIGN_REASON)) tracker().deleteTag(id, TAG_CAMPAIGN_REASON);
    finishCampaign(close.campaignKey(), id, close.status(), rows);
  }

  /** The note {@link #finishRun} leaves on a run that did not finish. */
  static String errorNote(String status, String message) {
    return "**" + status + "**: " + message;
  }

  /**
   * Success clears what a failed earlier attempt left: the {@code promptline.error} tag and its
   * note (a note that is not an error note, such as a campaign's description, stays).
   */
  void clearErrorTags(String runId) {
    Map<String, String> tags = tracker().getRun(runId).tags();
    if (tags.containsKey(TAG_ERROR)) tracker().deleteTag(runId, TAG_ERROR);
    String note = tags.get(TAG_NOTE);
    if (note != null && (note.startsWith(errorNote(Stages.FAILED, "")) || note.startsWith(errorNote(Stages.KILLED, ""))))
      tracker().deleteTag(runId, TAG_NOTE);
  }

  /**
   * Timestamp of metrics logged by an activity: when the activity was first scheduled, which every
   * retried attempt shares, so a repeated log call sends rows identical to the first (MLflow keeps
   * one of identical rows; the file tracker does the same). Outside an activity: now.
   */
  static long metricTimestamp() {
    try {
      long scheduled = io.temporal.activity.Activity.getExecutionContext().getInfo().getScheduledTimestamp();
      return scheduled > 0 ? scheduled : System.currentTimeMillis();
    } catch (IllegalStateException notInAnActivity) {
      return System.currentTimeMillis();
    }
  }

  private static String campaignNote(CampaignSpec spec, String key) {
    return "### Campaign " + spec.name() + "\n\n"
        + "* datasets: " + spec.datasets().stream().map(DatasetRef::name).toList() + "\n"
        + "* methods: " + spec.methods().stream().map(CampaignSpec.MethodSpec::name).toList() + "\n"
        + "* shots: " + spec.shots() + ", seeds: " + spec.seeds() + ", protocol: " + spec.protocol() + "\n"
        + (spec.targets().isEmpty() ? "" : "* targets: " + spec.targets().stream().map(DatasetRef::name).toList() + "\n")
        + "* model: " + spec.model().name() + "\n* campaign key: `" + key + "`\n\n"
        + "Per-configuration mean ± std over seeds are the parent's metrics; see summary.md.";
  }

  static String resultKey(String runKey) {
    return "runs/" + runKey + "/result.json";
  }

  static String locationKey(String runKey) {
    return "runs/" + runKey + "/mlflow.json";
  }

  static byte[] write(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A JSON record of this module's types (plans, results), for the CLI. */
  public static <T> T readJson(byte[] data, Class<T> type) {
    return read(data, type);
  }

  static <T> T read(byte[] data, Class<T> type) {
    try {
      return JSON.readValue(data, type);
    } catch (IOException e) {
      throw new UncheckedIOException("corrupt record: " + e.getMessage(), e);
    }
  }
}
