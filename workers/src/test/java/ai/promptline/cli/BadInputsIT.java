package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workers.Settings;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.temporal.api.workflowservice.v1.ListWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListWorkflowExecutionsResponse;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every row of the bad-input table ({@link BadInputs}) against a real service set (the one the
 * {@code PROMPTLINE_*} variables point at): each gives one clear error line and a non-zero exit,
 * and afterwards Temporal holds the same workflows, MLflow the same experiments and runs, and MinIO
 * the same buckets and objects as before. Prints the table with pass/fail per row.
 */
@Tag("integration")
class BadInputsIT {
  @TempDir Path dir;

  /** What the services hold: workflows in the namespace, MLflow experiments and runs, objects per bucket. */
  record State(long workflows, int experiments, int runs, Map<String, Long> objects) {
    @Override
    public String toString() {
      return workflows + " Temporal workflows, " + experiments + " MLflow experiments, " + runs + " MLflow runs, MinIO objects per bucket "
          + objects;
    }
  }

  static State snapshot(Settings s) throws Exception {
    long workflows = 0;
    WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget(s.temporalTarget()).build());
    try {
      com.google.protobuf.ByteString token = com.google.protobuf.ByteString.EMPTY;
      do {
        ListWorkflowExecutionsResponse r = service.blockingStub().listWorkflowExecutions(ListWorkflowExecutionsRequest.newBuilder()
            .setNamespace(s.namespace()).setPageSize(1000).setNextPageToken(token).build());
        workflows += r.getExecutionsCount();
        token = r.getNextPageToken();
      } while (!token.isEmpty());
    } finally {
      service.shutdownNow();
    }
    HttpClient http = HttpClient.newHttpClient();
    ObjectMapper json = new ObjectMapper();
    List<String> experimentIds = new ArrayList<>();
    String page = null;
    do {
      JsonNode r = post(http, json, s.mlflowUri() + "/api/2.0/mlflow/experiments/search",
          "{\"max_results\": 1000, \"view_type\": \"ALL\"" + (page == null ? "" : ", \"page_token\": \"" + page + "\"") + "}");
      r.path("experiments").forEach(e -> experimentIds.add(e.path("experiment_id").asText()));
      page = r.path("next_page_token").asText(null);
    } while (page != null && !page.isEmpty());
    int runs = 0;
    for (String id : experimentIds) {
      String p = null;
      do {
        JsonNode r = post(http, json, s.mlflowUri() + "/api/2.0/mlflow/runs/search", "{\"experiment_ids\": [\"" + id
            + "\"], \"max_results\": 1000, \"run_view_type\": \"ALL\"" + (p == null ? "" : ", \"page_token\": \"" + p + "\"") + "}");
        runs += r.path("runs").size();
        p = r.path("next_page_token").asText(null);
      } while (p != null && !p.isEmpty());
    }
    Map<String, String> creds = credentials(s);
    MinioClient minio = MinioClient.builder().endpoint(s.storeEndpoint()).credentials(creds.get("access"), creds.get("secret")).build();
    Map<String, Long> objects = new TreeMap<>();
    for (var b : minio.listBuckets()) {
      long n = 0;
      for (var item : minio.listObjects(ListObjectsArgs.builder().bucket(b.name()).recursive(true).build())) {
        item.get();
        n++;
      }
      objects.put(b.name(), n);
    }
    return new State(workflows, experimentIds.size(), runs, objects);
  }

  private static JsonNode post(HttpClient http, ObjectMapper json, String url, String body) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) throw new AssertionError("POST " + url + " -> " + r.statusCode() + " " + r.body());
    return json.readTree(r.body());
  }

  /** The services' MinIO keys, as the worker reads them (environment, else the credentials file). */
  private static Map<String, String> credentials(Settings s) throws Exception {
    Map<String, String> env = Settings.environment();
    if (env.get("PROMPTLINE_MINIO_ACCESS_KEY") != null && env.get("PROMPTLINE_MINIO_SECRET_KEY") != null)
      return Map.of("access", env.get("PROMPTLINE_MINIO_ACCESS_KEY"), "secret", env.get("PROMPTLINE_MINIO_SECRET_KEY"));
    Map<String, String> file = new TreeMap<>();
    for (String line : Files.readAllLines(s.credentialsFile())) {
      String l = line.strip().replaceFirst("^export ", "");
      int eq = l.indexOf('=');
      if (eq > 0 && !l.startsWith("#")) file.put(l.substring(0, eq), l.substring(eq + 1).replaceAll("^[\"']|[\"']$", ""));
    }
    String a = file.getOrDefault("PROMPTLINE_MINIO_ACCESS_KEY", file.get("MINIO_ROOT_USER"));
    String k = file.getOrDefault("PROMPTLINE_MINIO_SECRET_KEY", file.get("MINIO_ROOT_PASSWORD"));
    return Map.of("access", a, "secret", k);
  }

  @Test
  void everyBadInput_oneClearLine_nonZeroExit_andNothingCreatedInTemporalMlflowOrMinio() throws Exception {
    Settings settings = Settings.fromEnv();
    State before = snapshot(settings);
    BadInputs.Fixture f = new BadInputs.Fixture(dir);
    List<BadInputs.Outcome> outcomes = new ArrayList<>();
    long t0 = System.nanoTime();
    for (BadInputs.Case c : BadInputs.cases()) outcomes.add(BadInputs.run(c, f, Map.of()));
    long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
    State after = snapshot(settings);
    String table = BadInputs.table(outcomes);
    System.out.println(table);
    System.out.println("services before: " + before);
    System.out.println("services after:  " + after + (before.equals(after) ? "  (unchanged)" : "  (CHANGED)"));
    System.out.println("table time: " + seconds + " s");
    assertTrue(outcomes.size() >= 50, "cases: " + outcomes.size());
    assertEquals(List.of(), outcomes.stream().filter(o -> !o.passed()).map(o -> o.c().id() + ": " + o.failure()).toList(), table);
    assertEquals(before, after, "the bad inputs left something in the services");

    // the control: the same checks let the good campaign through, and the snapshot sees its workflow
    Path good = f.file(BadInputs.GOOD.replace("bad-inputs-good", "bad-inputs-control-" + Long.toString(System.currentTimeMillis(), 36)));
    CliRun plan = CliRun.of("campaign", "plan", good.toString());
    assertEquals(0, plan.code(), plan.err());
    CliRun run = CliRun.of("campaign", "run", "--detach", good.toString());
    assertEquals(0, run.code(), run.err());
    String id = ai.promptline.workers.CampaignSubmitter.workflowId(CampaignCommand.load(good));
    try {
      State submitted = snapshot(settings);
      assertEquals(after.workflows() + 1, submitted.workflows(), "a submitted campaign shows in the snapshot: " + submitted);
    } finally {
      stop(settings, id);
    }
  }

  /** Cancels the control campaign (a worker, if any, then closes its MLflow run), else terminates it. */
  private static void stop(Settings settings, String workflowId) throws Exception {
    try (ai.promptline.workers.Connections conn = new ai.promptline.workers.Connections(settings,
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry())) {
      var stub = conn.client().newUntypedWorkflowStub(workflowId);
      stub.cancel();
      try {
        stub.getResult(5, java.util.concurrent.TimeUnit.SECONDS, Object.class);
      } catch (java.util.concurrent.TimeoutException e) {
        stub.terminate("BadInputsIT control: no worker picked it up");
      } catch (RuntimeException e) {
        // cancelled, as asked
      }
    }
  }
}
