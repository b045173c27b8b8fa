package ai.promptline.activities.tracking;

import ai.promptline.activities.retry.Retrier;
import ai.promptline.activities.retry.Transients;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * A tracker that waits out transient faults of the one it wraps (the MLflow server restarting or
 * overloaded) for the retrier's budget, keeping the activity alive meanwhile; a 4xx fails at once.
 *
 * <p>Repeating a call is safe for all but {@link #createRun}: params are immutable (same value =
 * no-op), tags and statuses are overwritten, a repeated metric batch carries the same
 * (key, step, timestamp, value) rows, which MLflow stores once, and artifact uploads are PUTs.
 * {@code createRun} is repeated only when the failed request surely never reached the server
 * (connection refused, 503); otherwise the run may exist, and the activity's retry finds it by tag.
 */
public final class RetryingTracker implements Tracker {
  private final Tracker inner;
  private final Retrier retrier;

  public RetryingTracker(Tracker inner, Retrier retrier) {
    this.inner = inner;
    this.retrier = retrier;
  }

  /** {@code MLflow (tracking server http://host:port)}: how errors name the service. */
  public static String serviceName(String uri) {
    return "MLflow (tracking server " + uri + ")";
  }

  public Tracker inner() {
    return inner;
  }

  private <T> T call(String what, Callable<T> body) {
    return retrier.call(what, body, TrackerException::new);
  }

  @Override
  public String experimentId(String name) {
    return call("looking up experiment '" + name + "'", () -> inner.experimentId(name));
  }

  @Override
  public List<RunInfo> findRuns(String experimentId, String tag, String value) {
    return call("searching runs", () -> inner.findRuns(experimentId, tag, value));
  }

  @Override
  public String createRun(String experimentId, String runName, Map<String, String> tags) {
    return retrier.call("creating run '" + runName + "'", () -> inner.createRun(experimentId, runName, tags),
        Transients::neverSent, TrackerException::new);
  }

  @Override
  public RunInfo getRun(String runId) {
    return call("reading run " + runId, () -> inner.getRun(runId));
  }

  @Override
  public void setStatus(String runId, String status) {
    call("setting run " + runId + " " + status, () -> {
      inner.setStatus(runId, status);
      return null;
    });
  }

  @Override
  public void log(String runId, Map<String, String> params, List<Metric> metrics, Map<String, String> tags) {
    call("logging to run " + runId, () -> {
      inner.log(runId, params, metrics, tags);
      return null;
    });
  }

  @Override
  public void deleteTag(String runId, String key) {
    call("deleting tag '" + key + "' of run " + runId, () -> {
      inner.deleteTag(runId, key);
      return null;
    });
  }

  @Override
  public List<Metric> metricHistory(String runId, String key) {
    return call("reading metric '" + key + "' of run " + runId, () -> inner.metricHistory(runId, key));
  }

  @Override
  public void uploadArtifact(String runId, String path, byte[] data) {
    call("uploading '" + path + "' to run " + runId, () -> {
      inner.uploadArtifact(runId, path, data);
      return null;
    });
  }

  @Override
  public String runUrl(String experimentId, String runId) {
    return inner.runUrl(experimentId, runId);
  }
}
