package ai.promptline.activities;

import ai.promptline.activities.store.CorruptObjectException;
import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.store.ObjectStore.Blob;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.RunResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the activities do about objects that fail verification.
 *
 * <p>Integrity events of a run (a corrupt object detected and worked around) are a warning in the
 * worker's log and, on the run in MLflow, the tag {@value #TAG} (one short line per distinct event,
 * newest last) and the metric {@value #METRIC} (how many distinct events; step = that count).
 * Recording is idempotent: a retried attempt that meets the same corrupt object adds nothing.
 *
 * <p>Small JSON records ({@code result.json}, {@code mlflow.json}) are read through
 * {@link #record}: a corrupt or unparsable one is treated as absent, with a warning.
 */
public final class Integrity {
  private static final Logger LOG = LoggerFactory.getLogger(Integrity.class);
  public static final String TAG = "promptline.warnings";
  public static final String METRIC = "integrity.corrupt_objects";
  /** MLflow tag values are limited (5000 characters on current servers); older lines are dropped first. */
  static final int MAX_TAG_CHARS = 4000;

  private Integrity() {}

  /** One line for a corrupt object: what it is, its key, both digests (shortened), what was done. */
  static String line(String what, CorruptObjectException e, String action) {
    return what + " " + e.key() + " corrupt (sha256 " + shortSha(e.expected()) + " recorded, " + shortSha(e.actual())
        + " read): " + action;
  }

  /**
   * Logs {@code line} for the run and records it on its MLflow run (when it has one). Tracker
   * failures propagate: the activity is retried, meets the corrupt object again and records it then.
   */
  static void record(Tracker tracker, String runKey, String mlflowRunId, String line) {
    if (mlflowRunId == null || tracker == null) {
      LOG.warn("run {}: {}", runKey, line);
      return;
    }
    String existing;
    try {
      existing = tracker.getRun(mlflowRunId).tags().getOrDefault(TAG, "");
    } catch (RuntimeException e) {
      LOG.warn("run {}: {} (not recorded in the tracker yet: {})", runKey, line, e.getMessage());
      throw e;
    }
    List<String> lines = new ArrayList<>(existing.isEmpty() ? List.of() : List.of(existing.split("\n")));
    if (lines.contains(line)) {
      LOG.debug("run {}: {} (recorded already)", runKey, line);
      return;
    }
    LOG.warn("run {}: {}", runKey, line);
    lines.add(line);
    String joined = String.join("\n", lines);
    while (joined.length() > MAX_TAG_CHARS && lines.size() > 1) {
      lines.remove(0);
      joined = String.join("\n", lines);
    }
    if (joined.length() > MAX_TAG_CHARS) joined = joined.substring(0, MAX_TAG_CHARS);
    long count = tracker.metricHistory(mlflowRunId, METRIC).size() + 1L;
    tracker.log(mlflowRunId, Map.of(), List.of(new Metric(METRIC, count, count, System.currentTimeMillis())), Map.of(TAG, joined));
  }

  private static String shortSha(String sha) {
    return sha == null || sha.length() <= 12 ? String.valueOf(sha) : sha.substring(0, 12);
  }

  /**
   * A JSON record, or empty when there is none or it cannot be trusted: it fails verification or
   * does not parse (logged as a warning). One written before digests were recorded is used when it
   * parses: these records are small, and a torn one does not parse.
   */
  static <T> Optional<T> record(ObjectStore store, String key, Class<T> type) {
    Optional<Blob> blob;
    try {
      blob = store.read(key);
    } catch (CorruptObjectException e) {
      LOG.warn("{}; treated as absent", e.getMessage());
      return Optional.empty();
    }
    if (blob.isEmpty()) return Optional.empty();
    try {
      return Optional.of(TrackingActivitiesImpl.read(blob.get().data(), type));
    } catch (RuntimeException e) {
      String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
      LOG.warn("record '{}' in {} does not parse ({}); treated as absent", key, store.describe(), why);
      return Optional.empty();
    }
  }

  /**
   * The commit marker of a finished run: trusted only when it verifies, parses, and is this run
   * key's FINISHED result; otherwise null (the run is not done and runs again, deterministically).
   */
  static RunResult finishedResult(ObjectStore store, String key, String runKey) {
    RunResult r = record(store, key, RunResult.class).orElse(null);
    if (r == null) return null;
    if (!runKey.equals(r.runKey()) || !Stages.FINISHED.equals(r.status()) || r.eval() == null) {
      LOG.warn("record '{}' in {} is not run {}'s finished result (run key {}, status {}); treated as absent", key,
          store.describe(), runKey, r.runKey(), r.status());
      return null;
    }
    return r;
  }

  /** The trained prompt for logging; a corrupt one fails the run (non-retryable) naming it. */
  static byte[] prompt(ObjectStore store, BlobRef ref, String runKey) {
    try {
      return store.get(ref);
    } catch (CorruptObjectException e) {
      throw Failures.corruptObject(e, "submit the campaign again: run " + runKey
          + " resumes training from its last checkpoint and rewrites the prompt");
    }
  }
}
