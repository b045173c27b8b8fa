package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.tracking.MlflowTracker;
import ai.promptline.activities.tracking.Tracker;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * MLflow with its basic-auth app ({@code services restart mlflow --auth}): the Java side logs a
 * whole run (experiment, params, metrics, tags, artifact upload, terminal status) with the
 * credentials file's MLflow user, while requests without or with wrong credentials get 401 and the
 * worker user cannot administer users. Restores the auth mode the services had before.
 */
@Tag("integration")
class MlflowAuthIT {
  static final String SUFFIX = Long.toString(System.currentTimeMillis(), 36);
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static int status(String method, String url, String body, String user, String password) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (user != null)
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  static boolean authOn() throws Exception {
    String line = LocalServices.status().get("mlflow");
    return line != null && line.contains("(basic auth)");
  }

  @Test
  void withBasicAuth_theJavaSideLogsARun_andAnonymousRequestsGet401() throws Exception {
    boolean before = authOn();
    if (!before) {
      LocalServices.Run r = LocalServices.script("restart", "mlflow", "--auth");
      assertEquals(0, r.code(), r.output());
    }
    try {
      assertTrue(authOn(), "status shows MLflow in basic-auth mode");
      Settings settings = LocalServices.settings();
      Settings.Login login = settings.mlflowLogin();
      assertNotNull(login, "the credentials file names the Java side's MLflow user");
      String uri = settings.mlflowUri();

      Tracker tracker = settings.tracker();
      String exp = tracker.experimentId("promptline-auth-" + SUFFIX);
      String run = tracker.createRun(exp, "auth-run", Map.of("promptline.test", "MlflowAuthIT"));
      tracker.log(run, Map.of("shots", "16"), List.of(new Tracker.Metric("loss", 0.25, 1, System.currentTimeMillis())),
          Map.of("promptline.method", "coop"));
      byte[] artifact = ("uploaded with basic auth " + SUFFIX).getBytes(StandardCharsets.UTF_8);
      tracker.uploadArtifact(run, "notes/auth.txt", artifact);
      tracker.setStatus(run, "FINISHED");

      MlflowRest rest = MlflowRest.of(settings);
      JsonNode got = rest.get("/api/2.0/mlflow/runs/get?run_id=" + run).path("run");
      assertEquals("FINISHED", got.path("info").path("status").asText());
      assertEquals("16", MlflowRest.param(got, "shots"));
      assertEquals("coop", MlflowRest.tag(got, "promptline.method"));
      assertEquals(0.25, MlflowRest.metric(got, "loss"), 1e-12);
      assertArrayEquals(artifact, rest.artifact(run, "notes/auth.txt"));

      // without credentials, or with a wrong password: 401 on the REST API, the UI and the artifact proxy
      String search = uri + "/api/2.0/mlflow/experiments/search?max_results=1";
      assertEquals(401, status("GET", search, null, null, null));
      assertEquals(401, status("GET", search, null, login.username(), login.password() + "x"));
      assertEquals(401, status("GET", uri + "/", null, null, null), "the UI");
      assertEquals(401, status("POST", uri + "/api/2.0/mlflow/runs/search", "{\"experiment_ids\":[\"" + exp + "\"]}", null, null));
      assertEquals(401, status("GET", uri + "/get-artifact?run_id=" + run + "&path=notes/auth.txt", null, null, null));
      assertEquals(401, status("PUT", uri + "/api/2.0/mlflow-artifacts/artifacts/" + exp + "/planted.txt", "x", null, null));
      assertEquals(200, status("GET", search, null, login.username(), login.password()));
      // the worker's user is not an admin: it cannot create users
      assertEquals(403, status("POST", uri + "/api/2.0/mlflow/users/create",
          "{\"username\":\"intruder-" + SUFFIX + "\",\"password\":\"intruder-password\"}", login.username(), login.password()));

      // a client without credentials fails with a message naming the server, and no secret
      Tracker anonymous = new MlflowTracker(uri);
      RuntimeException e = assertThrows(RuntimeException.class, () -> anonymous.experimentId("promptline-auth-" + SUFFIX));
      assertTrue(e.getMessage().contains(uri), e.getMessage());
      assertFalse(e.getMessage().contains(login.password()), e.getMessage());
    } finally {
      if (!before) {
        LocalServices.Run r = LocalServices.script("restart", "mlflow", "--no-auth");
        assertEquals(0, r.code(), r.output());
        assertFalse(authOn(), "MLflow back without auth");
        assertEquals(200, status("GET", LocalServices.settings().mlflowUri() + "/api/2.0/mlflow/experiments/search?max_results=1", null, null, null));
      }
    }
  }
}
