package ai.promptline.workers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** What the integration tests ask MLflow's REST API directly (not through our client code). */
final class MlflowRest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String uri;
  private final HttpClient http = HttpClient.newHttpClient();
  /** {@code Basic ...} when the server runs MLflow's basic-auth app; null = no credentials sent. */
  private final String authorization;

  MlflowRest(String uri) {
    this(uri, null);
  }

  MlflowRest(String uri, Settings.Login login) {
    this.uri = uri;
    this.authorization = login == null ? null : "Basic " + java.util.Base64.getEncoder().encodeToString(
        (login.username() + ":" + login.password()).getBytes(StandardCharsets.UTF_8));
  }

  /** As the Java side's MLflow user when the settings have one (servers with or without basic auth). */
  static MlflowRest of(Settings settings) {
    return new MlflowRest(settings.mlflowUri(), settings.mlflowLogin());
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(uri + path));
    return authorization == null ? b : b.header("Authorization", authorization);
  }

  JsonNode get(String path) throws Exception {
    HttpResponse<String> r = http.send(request(path).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) throw new AssertionError("GET " + path + " -> " + r.statusCode() + " " + r.body());
    return JSON.readTree(r.body());
  }

  byte[] getBytes(String path) throws Exception {
    HttpResponse<byte[]> r = http.send(request(path).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) throw new AssertionError("GET " + path + " -> " + r.statusCode());
    return r.body();
  }

  JsonNode post(String path, String body) throws Exception {
    HttpResponse<String> r = http.send(request(path)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) throw new AssertionError("POST " + path + " -> " + r.statusCode() + " " + r.body());
    return JSON.readTree(r.body());
  }

  String experimentId(String name) throws Exception {
    return get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=" + enc(name)).path("experiment").path("experiment_id").asText();
  }

  /** All live runs of an experiment. */
  List<JsonNode> runs(String experimentId) throws Exception {
    JsonNode r = post("/api/2.0/mlflow/runs/search", "{\"experiment_ids\":[\"" + experimentId + "\"],\"max_results\":1000}");
    List<JsonNode> out = new ArrayList<>();
    r.path("runs").forEach(out::add);
    return out;
  }

  static String tag(JsonNode run, String key) {
    for (JsonNode t : run.path("data").path("tags")) if (t.path("key").asText().equals(key)) return t.path("value").asText();
    return null;
  }

  static Double metric(JsonNode run, String key) {
    for (JsonNode m : run.path("data").path("metrics")) if (m.path("key").asText().equals(key)) return m.path("value").asDouble();
    return null;
  }

  static String param(JsonNode run, String key) {
    for (JsonNode m : run.path("data").path("params")) if (m.path("key").asText().equals(key)) return m.path("value").asText();
    return null;
  }

  List<Long> metricSteps(String runId, String key) throws Exception {
    List<Long> steps = new ArrayList<>();
    get("/api/2.0/mlflow/metrics/get-history?run_id=" + runId + "&metric_key=" + enc(key)).path("metrics")
        .forEach(m -> steps.add(m.path("step").asLong()));
    steps.sort(null);
    return steps;
  }

  List<String> artifacts(String runId, String path) throws Exception {
    List<String> out = new ArrayList<>();
    get("/api/2.0/mlflow/artifacts/list?run_id=" + runId + (path == null ? "" : "&path=" + enc(path))).path("files")
        .forEach(f -> out.add(f.path("path").asText()));
    return out;
  }

  byte[] artifact(String runId, String path) throws Exception {
    return getBytes("/get-artifact?run_id=" + runId + "&path=" + enc(path));
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
