package ai.promptline.activities.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.activities.tracking.Tracker.RunInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The MLflow tracker against a scripted fake of the REST API (no MLflow needed): batches within the
 * server's limits, long values clipped, and run search ordered oldest first.
 */
class MlflowTrackerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private HttpServer server;
  private final List<JsonNode> batches = Collections.synchronizedList(new ArrayList<>());
  /** run id → start time, in the (random) order the fake search answers. */
  private final Map<String, Long> runs = new LinkedHashMap<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/2.0/mlflow/runs/log-batch", ex -> {
      batches.add(JSON.readTree(ex.getRequestBody()));
      reply(ex, "{}");
    });
    server.createContext("/api/2.0/mlflow/runs/search", ex -> {
      StringBuilder sb = new StringBuilder("{\"runs\":[");
      runs.forEach((id, t) -> sb.append(info(id, t)).append(','));
      if (!runs.isEmpty()) sb.setLength(sb.length() - 1);
      reply(ex, sb.append("]}").toString());
    });
    server.createContext("/api/2.0/mlflow/runs/get", ex -> {
      String id = ex.getRequestURI().getQuery().replaceAll(".*run_id=([^&]*).*", "$1");
      reply(ex, "{\"run\":{\"info\":" + info(id, runs.get(id)).replaceFirst("^\\{\"info\":", "").replaceFirst("}$", "")
          + ",\"data\":{\"tags\":[{\"key\":\"promptline.run_key\",\"value\":\"K\"}]}}}");
    });
    server.createContext("/api/2.0/mlflow/experiments/search", ex -> {
      experimentSearches.add(JSON.readTree(ex.getRequestBody()));
      reply(ex, "{}"); // no experiment of that name yet
    });
    server.createContext("/api/2.0/mlflow/experiments/create", ex -> {
      created.add(JSON.readTree(ex.getRequestBody()).get("name").asText());
      reply(ex, "{\"experiment_id\":\"7\"}");
    });
    server.createContext("/api/2.0/mlflow/experiments/set-experiment-tag", ex -> {
      experimentTags.add(JSON.readTree(ex.getRequestBody()));
      reply(ex, "{}");
    });
    server.createContext("/api/2.0/mlflow/experiments/get-by-name", ex -> {
      getByName.incrementAndGet();
      reply(ex, "{}");
    });
    server.start();
  }

  private final List<JsonNode> experimentSearches = Collections.synchronizedList(new ArrayList<>());
  private final List<String> created = Collections.synchronizedList(new ArrayList<>());
  private final List<JsonNode> experimentTags = Collections.synchronizedList(new ArrayList<>());
  private final java.util.concurrent.atomic.AtomicInteger getByName = new java.util.concurrent.atomic.AtomicInteger();

  /** A missing experiment is searched for (an empty page, no 404 and no client retry warnings) and then created. */
  @Test
  void experimentId_searchesByName_thenCreates_withoutGetByName() {
    assertEquals("7", tracker().experimentId("promptline-demo"));
    assertEquals(1, experimentSearches.size());
    assertEquals("name = 'promptline-demo'", experimentSearches.get(0).get("filter").asText());
    assertEquals(List.of("promptline-demo"), created);
    assertEquals(0, getByName.get(), "get-by-name answers 404 for a new experiment, which the client logs as a warning");
    assertEquals(1, experimentTags.size());
    assertEquals("mlflow.experimentKind", experimentTags.get(0).get("key").asText());
    assertEquals("custom_model_development", experimentTags.get(0).get("value").asText(), "a training experiment, not GenAI");
    assertEquals("7", experimentTags.get(0).get("experiment_id").asText());
  }

  private static String info(String id, long start) {
    return "{\"info\":{\"run_id\":\"" + id + "\",\"run_uuid\":\"" + id + "\",\"experiment_id\":\"3\",\"status\":\"RUNNING\","
        + "\"start_time\":" + start + "}}";
  }

  private static void reply(HttpExchange ex, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(200, b.length);
    ex.getResponseBody().write(b);
    ex.close();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private MlflowTracker tracker() {
    return new MlflowTracker("http://127.0.0.1:" + server.getAddress().getPort() + "/");
  }

  @Test
  void log_splitsIntoBatchesWithinMlflowLimits_andClipsLongValues() {
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 0; i < 250; i++) params.put("p" + i, "v" + i);
    params.put("long", "x".repeat(7000));
    Map<String, String> tags = new LinkedHashMap<>();
    for (int i = 0; i < 101; i++) tags.put("t" + i, "v");
    tags.put("note", "y".repeat(6000));
    List<Metric> metrics = new ArrayList<>();
    for (int i = 0; i < 2500; i++) metrics.add(new Metric("loss", i, i, 1000L + i));
    tracker().log("r1", params, metrics, tags);

    List<Integer> p = new ArrayList<>();
    List<Integer> t = new ArrayList<>();
    List<Integer> m = new ArrayList<>();
    int clippedParam = -1;
    int clippedTag = -1;
    for (JsonNode b : batches) {
      assertEquals("r1", b.get("run_id").asText());
      int np = b.has("params") ? b.get("params").size() : 0;
      int nt = b.has("tags") ? b.get("tags").size() : 0;
      int nm = b.has("metrics") ? b.get("metrics").size() : 0;
      assertEquals(1, (np > 0 ? 1 : 0) + (nt > 0 ? 1 : 0) + (nm > 0 ? 1 : 0), "one kind per request: " + b.toString().length());
      if (np > 0) p.add(np);
      if (nt > 0) t.add(nt);
      if (nm > 0) m.add(nm);
      for (JsonNode x : b.path("params")) if (x.get("key").asText().equals("long")) clippedParam = x.get("value").asText().length();
      for (JsonNode x : b.path("tags")) if (x.get("key").asText().equals("note")) clippedTag = x.get("value").asText().length();
    }
    assertEquals(List.of(100, 100, 51), p, "params in batches of at most 100");
    assertEquals(List.of(100, 2), t, "tags in batches of at most 100");
    assertEquals(List.of(1000, 1000, 500), m, "metrics in batches of at most 1000");
    assertEquals(MlflowTracker.MAX_PARAM_LENGTH, clippedParam);
    assertEquals(MlflowTracker.MAX_TAG_LENGTH, clippedTag);
    // every metric point arrives once, in order
    List<Double> values = new ArrayList<>();
    for (JsonNode b : batches) for (JsonNode x : b.path("metrics")) values.add(x.get("value").asDouble());
    assertEquals(2500, values.size());
    for (int i = 0; i < 2500; i++) assertEquals(i, values.get(i), 0);
  }

  @Test
  void log_withNothingToLog_sendsNothing() {
    tracker().log("r1", Map.of(), List.of(), Map.of());
    assertTrue(batches.isEmpty());
  }

  @Test
  void findRuns_listsOldestFirst_notByRandomRunId() {
    runs.put("ccc", 100L);
    runs.put("aaa", 300L);
    runs.put("bbb", 200L);
    List<RunInfo> found = tracker().findRuns("3", "promptline.run_key", "K");
    assertEquals(List.of("ccc", "bbb", "aaa"), found.stream().map(RunInfo::runId).toList());
    assertEquals("K", found.get(0).tags().get("promptline.run_key"));
    assertEquals("3", found.get(0).experimentId());
    assertEquals("RUNNING", found.get(0).status());
  }
}
