package ai.promptline.activities.tracking;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The experiment tracker as Promptline uses it, in MLflow's terms (experiments, runs, params,
 * metrics, tags, artifacts, terminal statuses). {@link MlflowTracker} is the real one;
 * {@link FileTracker} keeps the same records in local JSON files for offline use and tests.
 */
public interface Tracker {
  /** Id of the experiment with this name, created when missing. */
  String experimentId(String name);

  /** Live (not deleted) runs of an experiment carrying {@code tag = value}, oldest first. */
  List<RunInfo> findRuns(String experimentId, String tag, String value);

  /** A new RUNNING run. */
  String createRun(String experimentId, String runName, Map<String, String> tags);

  RunInfo getRun(String runId);

  /** Sets the run's status (RUNNING, FINISHED, FAILED, KILLED); terminal ones set the end time. */
  void setStatus(String runId, String status);

  /**
   * Logs in batches within the server's limits. Params are immutable: same value = no-op. A metric
   * row identical to one already stored (key, step, timestamp, value) is stored once, so a repeated
   * call does not double points (MLflow 3.17.2 measured; {@link FileTracker} does the same).
   */
  void log(String runId, Map<String, String> params, List<Metric> metrics, Map<String, String> tags);

  /** Removes a tag from a run; a tag that is not there is no error. */
  void deleteTag(String runId, String key);

  /** Steps already logged for a metric (to avoid duplicating points on a retried attempt). */
  List<Metric> metricHistory(String runId, String key);

  /** Stores an artifact file under the run's artifact root. */
  void uploadArtifact(String runId, String path, byte[] data);

  /** Link to the run in the tracker's UI, or a file path. */
  String runUrl(String experimentId, String runId);

  record RunInfo(String runId, String experimentId, String status, Map<String, String> tags) {}

  record Metric(String key, double value, long step, long timestamp) {}

  /** Any tracker failure, with the server's words. */
  final class TrackerException extends RuntimeException {
    public TrackerException(String message, Throwable cause) {
      super(message, cause);
    }

    public TrackerException(String message) {
      super(message);
    }
  }
}
