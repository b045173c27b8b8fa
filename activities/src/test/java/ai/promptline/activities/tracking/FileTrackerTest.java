package ai.promptline.activities.tracking;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.activities.tracking.Tracker.RunInfo;
import ai.promptline.activities.tracking.Tracker.TrackerException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON-file tracker keeps MLflow's semantics: immutable params, appended metrics, tag search, statuses. */
class FileTrackerTest {
  @TempDir Path dir;

  @Test
  void experiments_areCreatedOnce_andPersist() {
    FileTracker t = new FileTracker(dir);
    String a = t.experimentId("promptline");
    String b = t.experimentId("other");
    assertNotEquals(a, b);
    assertEquals(a, t.experimentId("promptline"));
    assertEquals(b, new FileTracker(dir).experimentId("other"), "a second instance on the same folder sees them");
  }

  @Test
  void createRun_isRunning_withNameAndTags() {
    FileTracker t = new FileTracker(dir);
    String exp = t.experimentId("e");
    String id = t.createRun(exp, "coop-synthetic-4s-seed1", Map.of("k", "v"));
    RunInfo r = t.getRun(id);
    assertEquals(id, r.runId());
    assertEquals(exp, r.experimentId());
    assertEquals("RUNNING", r.status());
    assertEquals("v", r.tags().get("k"));
    assertEquals("coop-synthetic-4s-seed1", r.tags().get("mlflow.runName"));
    assertNotEquals(id, t.createRun(exp, "coop-synthetic-4s-seed1", Map.of("k", "v")), "every run has its own id");
    assertThrows(TrackerException.class, () -> t.getRun("nope"));
  }

  @Test
  void params_areImmutable_sameValueIsANoOp_differentValueFailsWithoutPartialWrite() {
    FileTracker t = new FileTracker(dir);
    String id = t.createRun(t.experimentId("e"), "r", Map.of());
    t.log(id, Map.of("train.lr", "0.002", "seed", "1"), List.of(), Map.of());
    t.log(id, Map.of("train.lr", "0.002"), List.of(), Map.of()); // a retried attempt logs the same again
    Map<String, String> conflicting = new LinkedHashMap<>();
    conflicting.put("new.param", "x");
    conflicting.put("train.lr", "0.1");
    TrackerException e = assertThrows(TrackerException.class, () -> t.log(id, conflicting, List.of(), Map.of()));
    assertTrue(e.getMessage().contains("train.lr") && e.getMessage().contains("immutable"), e.getMessage());
    assertEquals(Map.of("train.lr", "0.002", "seed", "1"), t.record(id).params(), "nothing of the failed call was stored");
  }

  @Test
  void metrics_areAppended_andHistoryFiltersByKey_tagsAreMerged() {
    FileTracker t = new FileTracker(dir);
    String id = t.createRun(t.experimentId("e"), "r", Map.of("a", "1"));
    t.log(id, Map.of(), List.of(new Metric("loss", 2.0, 1, 10), new Metric("lr", 1e-5, 1, 10)), Map.of("a", "2"));
    t.log(id, Map.of(), List.of(new Metric("loss", 1.5, 2, 20)), Map.of("b", "3"));
    t.log(id, Map.of(), List.of(new Metric("loss", 1.5, 2, 21)), Map.of()); // MLflow keeps duplicates too
    assertEquals(List.of(new Metric("loss", 2.0, 1, 10), new Metric("loss", 1.5, 2, 20), new Metric("loss", 1.5, 2, 21)),
        t.metricHistory(id, "loss"));
    assertEquals(List.of(new Metric("lr", 1e-5, 1, 10)), t.metricHistory(id, "lr"));
    assertEquals(List.of(), t.metricHistory(id, "acc"));
    Map<String, String> tags = t.getRun(id).tags();
    assertEquals("2", tags.get("a"));
    assertEquals("3", tags.get("b"));
  }

  @Test
  void findRuns_byTagWithinExperiment_oldestFirst() throws Exception {
    FileTracker t = new FileTracker(dir);
    String e1 = t.experimentId("one");
    String e2 = t.experimentId("two");
    String first = t.createRun(e1, "r1", Map.of("promptline.run_key", "K"));
    t.createRun(e1, "r2", Map.of("promptline.run_key", "other"));
    t.createRun(e2, "r3", Map.of("promptline.run_key", "K"));
    String second = t.createRun(e1, "r4", Map.of("promptline.run_key", "K"));
    String third = t.createRun(e1, "r5", Map.of("promptline.run_key", "K"));
    String untagged = t.createRun(e1, "r6", Map.of());
    t.log(untagged, Map.of(), List.of(), Map.of("promptline.run_key", "K")); // a tag set later counts too
    assertEquals(List.of(first, second, third, untagged), t.findRuns(e1, "promptline.run_key", "K").stream().map(RunInfo::runId).toList());
    assertEquals(List.of(), t.findRuns(e1, "promptline.run_key", "missing"));
    java.nio.file.Files.createDirectories(dir.resolve("runs/0000-interrupted")); // a createRun that died before run.json
    assertEquals(4, t.findRuns(e1, "promptline.run_key", "K").size(), "half-created run folders are skipped");
    assertEquals(List.of(), new FileTracker(dir.resolve("empty")).findRuns(e1, "promptline.run_key", "K"));
  }

  @Test
  void setStatus_changesTheStatusOnly() {
    FileTracker t = new FileTracker(dir);
    String id = t.createRun(t.experimentId("e"), "r", Map.of("a", "1"));
    t.log(id, Map.of("p", "1"), List.of(new Metric("m", 1, 0, 0)), Map.of());
    t.setStatus(id, "FAILED");
    assertEquals("FAILED", t.getRun(id).status());
    t.setStatus(id, "RUNNING");
    t.setStatus(id, "FINISHED");
    FileTracker.RunRecord r = new FileTracker(dir).record(id);
    assertEquals("FINISHED", r.status());
    assertEquals(Map.of("p", "1"), r.params());
    assertEquals(1, r.metrics().size());
    assertEquals("1", r.tags().get("a"));
  }

  @Test
  void artifacts_areStoredUnderTheRun_andCannotEscapeIt() throws Exception {
    FileTracker t = new FileTracker(dir);
    String id = t.createRun(t.experimentId("e"), "r", Map.of());
    t.uploadArtifact(id, "prompt/prompt.safetensors", "abc".getBytes(StandardCharsets.UTF_8));
    assertArrayEquals("abc".getBytes(StandardCharsets.UTF_8), t.artifact(id, "prompt/prompt.safetensors"));
    assertThrows(TrackerException.class, () -> t.uploadArtifact(id, "../../x", new byte[1]));
    assertTrue(t.runUrl("1", id).startsWith("file:"));
  }
}
