package ai.promptline.activities.tracking;

import java.util.List;
import java.util.Map;

/** Delegates everything; tests override what they break. */
public class ForwardingTracker implements Tracker {
  protected final Tracker inner;

  public ForwardingTracker(Tracker inner) {
    this.inner = inner;
  }

  public String experimentId(String name) {
    return inner.experimentId(name);
  }

  public List<RunInfo> findRuns(String experimentId, String tag, String value) {
    return inner.findRuns(experimentId, tag, value);
  }

  public String createRun(String experimentId, String runName, Map<String, String> tags) {
    return inner.createRun(experimentId, runName, tags);
  }

  public RunInfo getRun(String runId) {
    return inner.getRun(runId);
  }

  public void setStatus(String runId, String status) {
    inner.setStatus(runId, status);
  }

  public void log(String runId, Map<String, String> params, List<Metric> metrics, Map<String, String> tags) {
    inner.log(runId, params, metrics, tags);
  }

  public void deleteTag(String runId, String key) {
    inner.deleteTag(runId, key);
  }

  public List<Metric> metricHistory(String runId, String key) {
    return inner.metricHistory(runId, key);
  }

  public void uploadArtifact(String runId, String path, byte[] data) {
    inner.uploadArtifact(runId, path, data);
  }

  public String runUrl(String experimentId, String runId) {
    return inner.runUrl(experimentId, runId);
  }
}
