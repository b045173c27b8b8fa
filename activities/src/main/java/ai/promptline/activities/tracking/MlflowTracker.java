package ai.promptline.activities.tracking;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mlflow.api.proto.Service;
import org.mlflow.api.proto.Service.CreateRun;
import org.mlflow.api.proto.Service.RunStatus;
import org.mlflow.api.proto.Service.RunTag;
import org.mlflow.api.proto.Service.ViewType;
import org.mlflow.tracking.MlflowClient;
import org.mlflow.tracking.creds.BasicMlflowHostCreds;

/**
 * MLflow through {@code org.mlflow:mlflow-client} for tracking. The Java client's artifact calls
 * fork the Python CLI, so artifacts go over HTTP to the server's proxied artifact route
 * ({@code /api/2.0/mlflow-artifacts/artifacts/...}); the server stores them in MinIO.
 */
public final class MlflowTracker implements Tracker {
  static final int MAX_PARAMS_TAGS_PER_BATCH = 100;
  static final int MAX_METRICS_PER_BATCH = 1000;
  static final int MAX_PARAM_LENGTH = 6000;
  static final int MAX_TAG_LENGTH = 5000;

  private final String uri;
  private final MlflowClient client;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  /** {@code Basic ...} for the raw artifact uploads when the server runs MLflow's basic-auth app; else null. */
  private final String authorization;

  public MlflowTracker(String trackingUri) {
    this(trackingUri, null, null);
  }

  /**
   * A server with MLflow's basic-auth app ({@code mlflow server --app-name basic-auth}): every
   * request (the Java client's and the artifact uploads) carries the user's credentials. With a
   * null username the requests carry none. The password is never put in a message.
   */
  public MlflowTracker(String trackingUri, String username, String password) {
    this.uri = trackingUri.endsWith("/") ? trackingUri.substring(0, trackingUri.length() - 1) : trackingUri;
    if (username == null) {
      this.client = new MlflowClient(this.uri);
      this.authorization = null;
    } else {
      if (password == null) throw new IllegalArgumentException("MLflow user '" + username + "' has no password");
      this.client = new MlflowClient(new BasicMlflowHostCreds(this.uri, username, password));
      this.authorization = "Basic " + Base64.getEncoder().encodeToString(
          (username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
  }

  @Override
  public String experimentId(String name) {
    // search, not get-by-name: a missing experiment is an empty page instead of a 404 that the
    // client logs as "Rate limit exceeded" and retries twice before the experiment is created
    String filter = "name = '" + name.replace("'", "\\'") + "'";
    return call("experiment '" + name + "'", () -> {
      java.util.Optional<Service.Experiment> found =
          client.searchExperiments(filter, ViewType.ACTIVE_ONLY, 1, List.of()).getItems().stream().findFirst();
      String id = found.map(Service.Experiment::getExperimentId).orElseGet(() -> client.createExperiment(name));
      boolean marked = found.isPresent() && found.get().getTagsList().stream()
          .anyMatch(t -> t.getKey().equals(EXPERIMENT_KIND) && t.getValue().equals(MODEL_TRAINING));
      if (!marked) client.setExperimentTag(id, EXPERIMENT_KIND, MODEL_TRAINING);
      return id;
    });
  }

  /**
   * MLflow 3 shows an experiment without this tag in its GenAI layout (a traces overview); marked
   * as model development it opens on the training-runs table.
   */
  static final String EXPERIMENT_KIND = "mlflow.experimentKind";

  static final String MODEL_TRAINING = "custom_model_development";

  @Override
  public List<RunInfo> findRuns(String experimentId, String tag, String value) {
    String filter = "tags.`" + tag + "` = '" + value.replace("'", "\\'") + "'";
    return call("search runs", () -> {
      // oldest first (the interface's promise; callers reuse the first): run ids are random UUIDs,
      // so order by start time, the id only breaking ties
      List<Service.Run> found = new ArrayList<>(
          client.searchRuns(List.of(experimentId), filter, ViewType.ACTIVE_ONLY, 1000).getItems());
      found.sort(Comparator.comparingLong((Service.Run r) -> r.getInfo().getStartTime())
          .thenComparing(r -> r.getInfo().getRunId()));
      List<RunInfo> out = new ArrayList<>();
      for (Service.Run run : found) out.add(getRun(run.getInfo().getRunId()));
      return out;
    });
  }

  @Override
  public String createRun(String experimentId, String runName, Map<String, String> tags) {
    CreateRun.Builder req =
        CreateRun.newBuilder().setExperimentId(experimentId).setRunName(runName).setStartTime(System.currentTimeMillis());
    tags.forEach((k, v) -> req.addTags(RunTag.newBuilder().setKey(k).setValue(clip(v, MAX_TAG_LENGTH))));
    req.addTags(RunTag.newBuilder().setKey("mlflow.runName").setValue(runName));
    return call("create run", () -> client.createRun(req.build()).getRunId());
  }

  @Override
  public RunInfo getRun(String runId) {
    return call("get run " + runId, () -> {
      Service.Run run = client.getRun(runId);
      Map<String, String> tags = new LinkedHashMap<>();
      run.getData().getTagsList().forEach(t -> tags.put(t.getKey(), t.getValue()));
      return new RunInfo(runId, run.getInfo().getExperimentId(), run.getInfo().getStatus().name(), tags);
    });
  }

  @Override
  public void setStatus(String runId, String status) {
    RunStatus s = RunStatus.valueOf(status);
    call("set status of " + runId, () -> {
      if (s == RunStatus.RUNNING) {
        // runs/update with RUNNING re-opens a run (a resumed attempt) without an end time.
        client.sendPost("runs/update", "{\"run_id\":\"" + runId + "\",\"status\":\"RUNNING\"}");
      } else {
        client.setTerminated(runId, s, System.currentTimeMillis());
      }
      return null;
    });
  }

  @Override
  public void log(String runId, Map<String, String> params, List<Metric> metrics, Map<String, String> tags) {
    List<Service.Param> ps = new ArrayList<>();
    params.forEach((k, v) -> ps.add(Service.Param.newBuilder().setKey(k).setValue(clip(v, MAX_PARAM_LENGTH)).build()));
    List<RunTag> ts = new ArrayList<>();
    tags.forEach((k, v) -> ts.add(RunTag.newBuilder().setKey(k).setValue(clip(v, MAX_TAG_LENGTH)).build()));
    List<Service.Metric> ms = new ArrayList<>();
    for (Metric m : metrics)
      ms.add(Service.Metric.newBuilder().setKey(m.key()).setValue(m.value()).setStep(m.step()).setTimestamp(m.timestamp()).build());
    call("log to " + runId, () -> {
      for (int i = 0; i < ps.size(); i += MAX_PARAMS_TAGS_PER_BATCH)
        client.logBatch(runId, List.of(), ps.subList(i, Math.min(ps.size(), i + MAX_PARAMS_TAGS_PER_BATCH)), List.of());
      for (int i = 0; i < ts.size(); i += MAX_PARAMS_TAGS_PER_BATCH)
        client.logBatch(runId, List.of(), List.of(), ts.subList(i, Math.min(ts.size(), i + MAX_PARAMS_TAGS_PER_BATCH)));
      for (int i = 0; i < ms.size(); i += MAX_METRICS_PER_BATCH)
        client.logBatch(runId, ms.subList(i, Math.min(ms.size(), i + MAX_METRICS_PER_BATCH)), List.of(), List.of());
      return null;
    });
  }

  @Override
  public void deleteTag(String runId, String key) {
    call("delete tag " + key + " of " + runId, () -> {
      try {
        client.deleteTag(runId, key);
      } catch (org.mlflow.tracking.MlflowHttpException e) {
        // 404 "no tag with name": already gone (e.g. a repeated call whose first answer was lost)
        if (e.getStatusCode() != 404) throw e;
      }
      return null;
    });
  }

  @Override
  public List<Metric> metricHistory(String runId, String key) {
    return call("metric history " + key, () -> client.getMetricHistory(runId, key).stream()
        .map(m -> new Metric(m.getKey(), m.getValue(), m.getStep(), m.getTimestamp()))
        .toList());
  }

  @Override
  public void uploadArtifact(String runId, String path, byte[] data) {
    String root = call("get run " + runId, () -> client.getRun(runId).getInfo().getArtifactUri());
    String prefix = "mlflow-artifacts:";
    if (!root.startsWith(prefix))
      throw new TrackerException(
          "run " + runId + " has artifact root '" + root + "'; Promptline needs a server that proxies artifacts"
              + " (mlflow server --artifacts-destination s3://...), as ./promptline services up starts");
    String rel = root.substring(prefix.length()).replaceFirst("^/+", "");
    StringBuilder target = new StringBuilder(uri).append("/api/2.0/mlflow-artifacts/artifacts/");
    for (String part : (rel + "/" + path).split("/"))
      if (!part.isEmpty()) target.append(URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20")).append('/');
    target.setLength(target.length() - 1);
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(target.toString()))
        .timeout(Duration.ofMinutes(5))
        .header("Content-Type", "application/octet-stream")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(data));
    if (authorization != null) builder.header("Authorization", authorization);
    HttpRequest req = builder.build();
    try {
      HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() / 100 != 2) // the status travels as the cause, so callers can tell a 503 from a 400
        throw new TrackerException("artifact upload of '" + path + "' to " + uri + " answered HTTP " + resp.statusCode()
            + ": " + resp.body(), new org.mlflow.tracking.MlflowHttpException(resp.statusCode(), "", resp.body()));
    } catch (IOException e) {
      throw new TrackerException("cannot upload artifact '" + path + "' to " + uri + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TrackerException("interrupted uploading '" + path + "'", e);
    }
  }

  @Override
  public String runUrl(String experimentId, String runId) {
    return uri + "/#/experiments/" + experimentId + "/runs/" + runId + "?workflowType=machine_learning";
  }

  private static String clip(String v, int max) {
    return v.length() <= max ? v : v.substring(0, max - 3) + "...";
  }

  private <T> T call(String what, java.util.concurrent.Callable<T> body) {
    try {
      return body.call();
    } catch (TrackerException e) {
      throw e;
    } catch (Exception e) {
      throw new TrackerException("MLflow at " + uri + ": " + what + " failed: " + e.getMessage()
          + " (is it up? ./promptline services status)", e);
    }
  }
}
