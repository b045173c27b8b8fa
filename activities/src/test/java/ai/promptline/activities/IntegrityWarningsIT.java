package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.promptline.activities.store.CorruptObjectException;
import ai.promptline.activities.tracking.MlflowTracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Integrity warnings on a run in a real MLflow server ({@code PROMPTLINE_IT=1}): one line per distinct event, counted. */
@Tag("integration")
class IntegrityWarningsIT {
  @Test
  void warningsAccumulateOnTheRun_once_each() {
    Assumptions.assumeTrue("1".equals(System.getenv("PROMPTLINE_IT")), "PROMPTLINE_IT=1 runs the tests against real MLflow");
    String uri = System.getenv().getOrDefault("PROMPTLINE_MLFLOW_URI",
        "http://127.0.0.1:" + System.getenv().getOrDefault("PROMPTLINE_MLFLOW_PORT", "5000"));
    MlflowTracker tracker = new MlflowTracker(uri);
    String run = tracker.createRun(tracker.experimentId("it-integrity-" + System.currentTimeMillis()), "r", Map.of());
    String a = Integrity.line("feature blob", new CorruptObjectException("features/x", "s3://b", "a".repeat(64), "b".repeat(64)),
        "cache miss, recomputed and re-published");
    String b = Integrity.line("checkpoint", new CorruptObjectException("runs/k/ckpt/epoch-00003.safetensors", "s3://b",
        "c".repeat(64), "d".repeat(64)), "resuming from epoch-00002.safetensors");
    Integrity.record(tracker, "k", run, a);
    Integrity.record(tracker, "k", run, a); // a retried attempt meeting the same object
    Integrity.record(tracker, "k", run, b);
    assertEquals(a + "\n" + b, tracker.getRun(run).tags().get(Integrity.TAG));
    assertEquals(List.of(1.0, 2.0), tracker.metricHistory(run, Integrity.METRIC).stream().map(Metric::value).toList());
  }
}
