package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.TrainParams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Run params, and the find-before-create idempotency of the tracking activities on the file backends. */
public class TrackingActivitiesImplTest {
  @TempDir Path dir;

  private static RunConfig config() {
    return new RunConfig(new DatasetRef("synthetic", "/mnt/data/synthetic", "fp123"),
        new ModelRef("ViT-B/16", "/home/me/weights/ViT-B-16.pt", "sha-abc"), "coop", 4, 2, "base2novel",
        TrainParams.coopDefaults(10));
  }

  @Test
  void params_flattenTheWholeConfig_withoutMachineLocalPaths() {
    Map<String, String> p = TrackingActivitiesImpl.params(config());
    assertFalse(p.containsKey("dataset.root"), "paths are machine-local");
    assertFalse(p.containsKey("model.weights"));
    assertFalse(p.values().stream().anyMatch(v -> v.contains("/mnt/data") || v.contains("/home/me")), p.toString());
    assertEquals("synthetic", p.get("dataset.name"));
    assertEquals("fp123", p.get("dataset.fingerprint"));
    assertEquals("ViT-B/16", p.get("model.name"));
    assertEquals("sha-abc", p.get("model.sha256"));
    assertEquals("coop", p.get("method"));
    assertEquals("4", p.get("shots"));
    assertEquals("2", p.get("seed"));
    assertEquals("base2novel", p.get("protocol"));
    assertEquals("10", p.get("train.epochs"));
    assertEquals("32", p.get("train.batchSize"));
    assertEquals("0.002", p.get("train.lr"));
    assertEquals("0.9", p.get("train.momentum"));
    assertEquals("5.0E-4", p.get("train.weightDecay"));
    assertEquals("a photo of a", p.get("train.ctxInit"));
    assertEquals("4", p.get("train.augViews"));
    assertFalse(p.keySet().stream().anyMatch(k -> k.equals("dataset") || k.equals("train") || k.equals("model")),
        "nested objects are flattened, not stringified");
    assertEquals(p.keySet().stream().sorted().toList(), List.copyOf(p.keySet()), "sorted keys");
    assertEquals("fp32", p.get("model.precision"));
    assertEquals(2 + 3 + 4 + 10, p.size(), "dataset 2, model 3, run 4, train 10: " + p.keySet());
  }

  @Test
  void startRun_twice_reusesTheRun_andLogRunCommitsTheResult() {
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    TrackingActivitiesImpl a = new TrackingActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry()));
    String exp = tracker.experimentId("promptline");
    String parent = tracker.createRun(exp, "campaign:c", Map.of(TrackingActivitiesImpl.TAG_CAMPAIGN, "c"));

    String id = a.startRun("RK", config(), parent, "wf-1");
    assertEquals(id, a.startRun("RK", config(), parent, "wf-2"), "a retried activity finds the run");
    assertEquals(1, tracker.findRuns(exp, TrackingActivitiesImpl.TAG_RUN_KEY, "RK").size());
    FileTracker.RunRecord r = tracker.record(id);
    assertEquals(TrackingActivitiesImpl.params(config()), r.params());
    assertEquals(parent, r.tags().get(TrackingActivitiesImpl.TAG_PARENT));
    assertEquals("c", r.tags().get(TrackingActivitiesImpl.TAG_CAMPAIGN));
    assertEquals("wf-2", r.tags().get(TrackingActivitiesImpl.TAG_WORKFLOW));
    assertEquals("coop-synthetic-4s-seed2", r.runName());

    assertNull(a.lookupFinished("RK"));
    BlobRef index = store.put("splits/i.json", "{}".getBytes(StandardCharsets.UTF_8));
    BlobRef prompt = store.put("runs/RK/prompt.safetensors", new byte[] {1, 2, 3});
    EvalResult eval = new EvalResult(80, 60, EvalResult.harmonicMean(80, 60), 10, 10);
    RunResult done = a.logRun(new Stages.LogInput(new Stages.StageInput("RK", config(), id),
        new Stages.SplitResult(index, "fp123", "a photo of a {}.", List.of("a"), List.of("b"), 4, 10, 10),
        new Stages.FeatureResult("fk", index, index, index, 32, 1, true),
        new Stages.TrainResult(prompt, 10, 3, 0.5, 256, 1000), eval));
    assertEquals(Stages.FINISHED, done.status());
    assertEquals(done, a.lookupFinished("RK"), "result.json is the commit marker");
    assertEquals(List.of(80.0), tracker.metricHistory(id, "acc_base").stream().map(Metric::value).toList());
    assertEquals("3", tracker.getRun(id).tags().get("promptline.resumed_from_epoch"));
    assertEquals("hit", tracker.getRun(id).tags().get("promptline.features_cache"));
    try {
      assertArrayEquals(new byte[] {1, 2, 3}, tracker.artifact(id, "prompt/prompt.safetensors"));
      assertTrue(new String(tracker.artifact(id, "provenance.json"), StandardCharsets.UTF_8).contains("\"runKey\" : \"RK\""));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }

    a.finishRun(id, Stages.FINISHED, null);
    assertEquals(Stages.FINISHED, tracker.getRun(id).status());
    a.closeIfRunning("RK", Stages.KILLED, "late cancel"); // a finished run stays finished
    assertEquals(Stages.FINISHED, tracker.getRun(id).status());
    a.closeIfRunning("never-started", Stages.KILLED, "x"); // no run: nothing to do
  }

  private static RunConfig crossDatasetConfig() {
    return new RunConfig(new DatasetRef("ImageNet", "/mnt/data", "fp-in"),
        new ModelRef("ViT-B/16", "/home/me/weights/ViT-B-16.pt", "sha-abc"), "coop", 16, 1, "cross-dataset",
        TrainParams.coopDefaults(10), List.of(new DatasetRef("ImageNetV2", "/mnt/data", "fp-v2"),
            new DatasetRef("ImageNetSketch", "/mnt/other", "fp-sk")));
  }

  @Test
  void params_listCrossDatasetTargets_withFingerprints_withoutRoots() {
    Map<String, String> p = TrackingActivitiesImpl.params(crossDatasetConfig());
    assertEquals("ImageNetV2,ImageNetSketch", p.get("targets"));
    assertEquals("fp-v2", p.get("target.ImageNetV2.fingerprint"));
    assertEquals("fp-sk", p.get("target.ImageNetSketch.fingerprint"));
    assertEquals("cross-dataset", p.get("protocol"));
    assertFalse(p.values().stream().anyMatch(v -> v.contains("/mnt/") || v.contains("/home/me")), p.toString());
    assertEquals(2 + 3 + 4 + 10 + 3, p.size(), p.keySet().toString()); // model: name, sha256, precision
    assertFalse(TrackingActivitiesImpl.params(config()).keySet().stream().anyMatch(k -> k.startsWith("target")));
  }

  @Test
  void crossDatasetRun_logsOneAccuracyPerTargetAndTheirAverage_andTagsTheTargets() {
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    TrackingActivitiesImpl a = new TrackingActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry()));
    String parent = tracker.createRun(tracker.experimentId("promptline"), "campaign:c", Map.of());
    String id = a.startRun("XD", crossDatasetConfig(), parent, "wf-1");
    assertEquals("ImageNetV2,ImageNetSketch", tracker.getRun(id).tags().get(TrackingActivitiesImpl.TAG_TARGETS));
    BlobRef index = store.put("runs/XD/split.json", "{}".getBytes(StandardCharsets.UTF_8));
    EvalResult eval = new EvalResult(70, 0, 0, 50, 0).withTargets(List.of(
        new Stages.TargetResult("ImageNetV2", "fp-v2", 64, 100), new Stages.TargetResult("ImageNetSketch", "fp-sk", 47, 50)));
    RunResult done = a.logRun(new Stages.LogInput(new Stages.StageInput("XD", crossDatasetConfig(), id),
        new Stages.SplitResult(index, "fp-in", "a photo of a {}.", List.of("a"), List.of(), 16, 50, 0),
        new Stages.FeatureResult("fk", index, index, null, 32, 1, false), new Stages.TrainResult(null, 0, 0, 0, 0, 0), eval));
    assertEquals(List.of(64.0), tracker.metricHistory(id, "acc_target/ImageNetV2").stream().map(Metric::value).toList());
    assertEquals(List.of(47.0), tracker.metricHistory(id, "acc_target/ImageNetSketch").stream().map(Metric::value).toList());
    assertEquals(List.of(55.5), tracker.metricHistory(id, "acc_target_avg").stream().map(Metric::value).toList());
    assertEquals(List.of(70.0), tracker.metricHistory(id, "acc_base").stream().map(Metric::value).toList());
    RunResult read = a.lookupFinished("XD");
    assertEquals(done, read);
    assertEquals(eval.targets(), read.eval().targets(), "the committed result keeps the target results");
    try {
      String provenance = new String(tracker.artifact(id, "provenance.json"), StandardCharsets.UTF_8);
      assertTrue(provenance.contains("ImageNetSketch") && provenance.contains("fp-sk"), provenance);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static RunConfig prismerConfig() {
    return new RunConfig(new DatasetRef("synthetic", "/mnt/data", "fp-s"), new ModelRef("ViT-B/16", "/home/me/w/ViT-B-16.pt", "sha-main"),
        "prismer", 4, 1, "base2novel", TrainParams.coopDefaults(2), List.of(), Map.of(),
        List.of(new ModelRef("RN50", "/home/me/w/RN50.pt", "sha-rn50"), new ModelRef("ViT-L/14", "/home/me/w/L14.pt", "sha-l14", "fp16")));
  }

  /** Every frozen model of a run is in its MLflow params and its provenance.json, by name and hash, never by path. */
  @Test
  void expertsAreListedInParamsAndProvenance_withoutTheirPaths() throws Exception {
    Map<String, String> p = TrackingActivitiesImpl.params(prismerConfig());
    assertEquals("RN50,ViT-L/14", p.get("experts"));
    assertEquals("sha-rn50", p.get("expert.RN50.sha256"));
    assertEquals("fp16", p.get("expert.ViT-L/14.precision"));
    assertFalse(p.values().stream().anyMatch(v -> v.contains("/home/me")), p.toString());
    assertFalse(TrackingActivitiesImpl.params(config()).containsKey("experts"));
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    TrackingActivitiesImpl a = new TrackingActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry()));
    String parent = tracker.createRun(tracker.experimentId("promptline"), "campaign:c", Map.of());
    String id = a.startRun("PR", prismerConfig(), parent, "wf-1");
    BlobRef index = store.put("runs/PR/split.json", "{}".getBytes(StandardCharsets.UTF_8));
    a.logRun(new Stages.LogInput(new Stages.StageInput("PR", prismerConfig(), id),
        new Stages.SplitResult(index, "fp-s", "a photo of a {}.", List.of("a"), List.of("b"), 4, 10, 10),
        new Stages.FeatureResult("fk", null, null, null, 32, 1, true), new Stages.TrainResult(null, 0, 0, 0, 0, 0),
        new EvalResult(80, 60, EvalResult.harmonicMean(80, 60), 10, 10)));
    com.fasterxml.jackson.databind.JsonNode prov = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(tracker.artifact(id, "provenance.json")).get("frozenModels");
    assertEquals(3, prov.size(), prov.toString());
    assertEquals("model", prov.get(0).get("role").asText());
    assertEquals("sha-main", prov.get(0).get("sha256").asText());
    assertEquals("expert", prov.get(1).get("role").asText());
    assertEquals("RN50", prov.get(1).get("name").asText());
    assertEquals("sha-l14", prov.get(2).get("sha256").asText());
    assertEquals("fp16", prov.get(2).get("precision").asText());
  }

  @Test
  void resultRecordsWrittenBeforeTargetsExisted_readWithoutTargets() {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    TrackingActivitiesImpl a = new TrackingActivitiesImpl(new Backends(store, new FileTracker(dir.resolve("m")),
        new SimpleMeterRegistry()));
    String old = "{\"runKey\":\"OLD\",\"config\":{\"dataset\":{\"name\":\"EuroSAT\",\"root\":\"/d\",\"fingerprint\":\"f\"},"
        + "\"model\":{\"name\":\"m\",\"weights\":\"/w\",\"sha256\":\"s\"},\"method\":\"coop\",\"shots\":4,\"seed\":1,"
        + "\"protocol\":\"base2novel\",\"train\":{\"epochs\":2,\"batchSize\":4,\"lr\":0.1}},\"mlflowRunId\":\"r\","
        + "\"status\":\"FINISHED\",\"eval\":{\"accBase\":80,\"accNovel\":60,\"hm\":68.5,\"baseTotal\":10,\"novelTotal\":10},"
        + "\"reused\":false,\"error\":null}";
    store.put(TrackingActivitiesImpl.resultKey("OLD"), old.getBytes(StandardCharsets.UTF_8));
    RunResult r = a.lookupFinished("OLD");
    assertEquals(List.of(), r.eval().targets());
    assertEquals(List.of(), r.config().targets());
    assertTrue(Double.isNaN(r.eval().targetMean()));
    assertFalse(new String(TrackingActivitiesImpl.write(r), StandardCharsets.UTF_8).contains("targets"),
        "records without targets are written as before");
  }

  /**
   * A run that failed once (MLflow down) and then finished: the FINISHED run carries no stale
   * {@code promptline.error} tag or error note; a campaign parent keeps its description note.
   */
  @Test
  void success_clearsTheErrorTagAndNoteThatAFailedAttemptLeft() {
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    TrackingActivitiesImpl a = new TrackingActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry()));
    String exp = tracker.experimentId("promptline");
    String parent = tracker.createRun(exp, "campaign:c", Map.of(TrackingActivitiesImpl.TAG_CAMPAIGN, "c",
        TrackingActivitiesImpl.TAG_NOTE, "### Campaign c", TrackingActivitiesImpl.TAG_ERROR, "1 run failed"));
    String id = a.startRun("RK", config(), parent, "wf-1");
    a.finishRun(id, Stages.FAILED, "Connection refused");
    assertEquals("Connection refused", tracker.getRun(id).tags().get(TrackingActivitiesImpl.TAG_ERROR));
    assertEquals("**FAILED**: Connection refused", tracker.getRun(id).tags().get(TrackingActivitiesImpl.TAG_NOTE));

    assertEquals(id, a.startRun("RK", config(), parent, "wf-2"), "the re-run resumes the same MLflow run");
    a.finishRun(id, Stages.FINISHED, null);
    Map<String, String> tags = tracker.getRun(id).tags();
    assertEquals(Stages.FINISHED, tracker.getRun(id).status());
    assertFalse(tags.containsKey(TrackingActivitiesImpl.TAG_ERROR), tags.toString());
    assertFalse(tags.containsKey(TrackingActivitiesImpl.TAG_NOTE), tags.toString());

    a.finishCampaign("CK", parent, Stages.FINISHED, List.of());
    Map<String, String> p = tracker.getRun(parent).tags();
    assertFalse(p.containsKey(TrackingActivitiesImpl.TAG_ERROR), p.toString());
    assertEquals("### Campaign c", p.get(TrackingActivitiesImpl.TAG_NOTE), "the campaign's own note stays");

    String failedParent = tracker.createRun(exp, "campaign:d", Map.of(TrackingActivitiesImpl.TAG_ERROR, "x"));
    a.finishCampaign("CK2", failedParent, Stages.FAILED, List.of());
    assertEquals("x", tracker.getRun(failedParent).tags().get(TrackingActivitiesImpl.TAG_ERROR), "only success clears");
  }

  /**
   * logRun retried by Temporal after its first attempt logged the metrics (the commit marker's write
   * failed): both attempts send the same timestamp, so the run has each final metric once.
   */
  @Test
  void aRetriedLogRun_logsEachFinalMetricOnce() {
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    LocalObjectStore local = new LocalObjectStore(dir.resolve("store"));
    java.util.concurrent.atomic.AtomicInteger resultWrites = new java.util.concurrent.atomic.AtomicInteger();
    ai.promptline.activities.store.ObjectStore store = new ai.promptline.activities.store.ObjectStore() {
      public BlobRef put(String key, byte[] data) {
        if (key.endsWith("/result.json") && resultWrites.incrementAndGet() == 1)
          throw new IllegalStateException("the store went away writing " + key);
        return local.put(key, data);
      }

      public java.util.Optional<Blob> read(String key) {
        return local.read(key);
      }

      public java.util.Optional<Stat> stat(String key) {
        return local.stat(key);
      }

      public List<String> list(String prefix) {
        return local.list(prefix);
      }

      public void delete(String key) {
        local.delete(key);
      }

      public String describe() {
        return local.describe();
      }
    };
    TrackingActivitiesImpl impl = new TrackingActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry()));
    String parent = tracker.createRun(tracker.experimentId("promptline"), "campaign:c", Map.of());
    String id = impl.startRun("RK", config(), parent, "wf-1");
    BlobRef index = local.put("splits/i.json", "{}".getBytes(StandardCharsets.UTF_8));
    Stages.LogInput input = new Stages.LogInput(new Stages.StageInput("RK", config(), id),
        new Stages.SplitResult(index, "fp123", "a photo of a {}.", List.of("a"), List.of("b"), 4, 10, 10),
        new Stages.FeatureResult("fk", index, index, index, 32, 1, true), null,
        new EvalResult(80, 60, EvalResult.harmonicMean(80, 60), 10, 10));
    // a real (test) server, so that Temporal itself retries the activity
    try (io.temporal.testing.TestWorkflowEnvironment env = io.temporal.testing.TestWorkflowEnvironment.newInstance()) {
      io.temporal.worker.Worker w = env.newWorker("q");
      w.registerWorkflowImplementationTypes(LogOnceImpl.class);
      w.registerActivitiesImplementations(impl);
      env.start();
      env.getWorkflowClient().newWorkflowStub(LogOnce.class,
          io.temporal.client.WorkflowOptions.newBuilder().setTaskQueue("q").build()).log(input);
    }
    assertEquals(2, resultWrites.get(), "the first attempt failed after logging");
    for (String m : List.of("acc_base", "acc_novel", "hm"))
      assertEquals(1, tracker.metricHistory(id, m).size(), m + ": " + tracker.metricHistory(id, m));
  }

  @io.temporal.workflow.WorkflowInterface
  public interface LogOnce {
    @io.temporal.workflow.WorkflowMethod
    RunResult log(Stages.LogInput input);
  }

  public static final class LogOnceImpl implements LogOnce {
    @Override
    public RunResult log(Stages.LogInput input) {
      return io.temporal.workflow.Workflow.newActivityStub(ai.promptline.workflows.api.TrackingActivities.class,
          io.temporal.activity.ActivityOptions.newBuilder().setStartToCloseTimeout(java.time.Duration.ofMinutes(1))
              .setRetryOptions(io.temporal.common.RetryOptions.newBuilder().setInitialInterval(java.time.Duration.ofMillis(10))
                  .setMaximumAttempts(3).build()).build()).logRun(input);
    }
  }
}
