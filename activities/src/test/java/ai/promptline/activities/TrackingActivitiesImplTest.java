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
class TrackingActivitiesImplTest {
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
}
