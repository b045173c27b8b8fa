package ai.promptline.activities.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.retry.FakeClock;
import ai.promptline.activities.retry.Retrier;
import ai.promptline.activities.retry.Transients;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.activities.tracking.Tracker.TrackerException;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retrying tracker: an MLflow outage within the budget is waited out (and a repeated metric
 * batch stores its rows once), a 4xx and an ambiguous failure of createRun are not repeated, and
 * an artifact upload answered 503 is retried against a real HTTP endpoint.
 */
class RetryingTrackerTest {
  @TempDir Path dir;

  private final FakeClock clock = new FakeClock();

  private RetryingTracker retrying(Tracker inner) {
    return new RetryingTracker(inner, new Retrier(RetryingTracker.serviceName("http://127.0.0.1:5000"), Duration.ofMinutes(5),
        clock, clock, new SplittableRandom(3), Transients::isTransient));
  }

  /** Fails the next {@code failures} calls of {@code log}/{@code createRun} with {@code error}, then delegates. */
  static final class Flaky extends ForwardingTracker {
    final AtomicInteger failures = new AtomicInteger();
    final AtomicInteger logCalls = new AtomicInteger();
    final AtomicInteger createCalls = new AtomicInteger();
    Supplier<RuntimeException> error = () -> new TrackerException("MLflow: failed", new ConnectException("Connection refused"));
    /** Let the call through but fail its answer, as when the connection drops after the server committed. */
    boolean failAfterApplying;

    Flaky(Tracker inner) {
      super(inner);
    }

    @Override
    public void log(String runId, Map<String, String> params, List<Metric> metrics, Map<String, String> tags) {
      logCalls.incrementAndGet();
      if (failAfterApplying) super.log(runId, params, metrics, tags);
      if (failures.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) throw error.get();
      if (!failAfterApplying) super.log(runId, params, metrics, tags);
    }

    @Override
    public String createRun(String experimentId, String runName, Map<String, String> tags) {
      createCalls.incrementAndGet();
      if (failures.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) throw error.get();
      return super.createRun(experimentId, runName, tags);
    }
  }

  @Test
  void aLostAnswer_repeatsTheBatch_andItsRowsAreStoredOnce() {
    FileTracker file = new FileTracker(dir.resolve("mlruns"));
    Flaky flaky = new Flaky(file);
    RetryingTracker t = retrying(flaky);
    String run = t.createRun(t.experimentId("e"), "r", Map.of());
    flaky.failAfterApplying = true;
    flaky.error = () -> new TrackerException("MLflow: failed", new java.net.SocketException("Connection reset"));
    flaky.failures.set(2);
    t.log(run, Map.of(), List.of(new Metric("loss", 0.5, 1, 1234), new Metric("lr", 0.01, 1, 1234)), Map.of());
    assertEquals(3, flaky.logCalls.get());
    assertEquals(List.of(new Metric("loss", 0.5, 1, 1234)), file.metricHistory(run, "loss"));
    assertEquals(1, file.metricHistory(run, "lr").size());
  }

  @Test
  void aClientError_failsAtOnce() {
    Flaky flaky = new Flaky(new FileTracker(dir.resolve("mlruns")));
    RetryingTracker t = retrying(flaky);
    String run = t.createRun(t.experimentId("e"), "r", Map.of());
    flaky.error = () -> new TrackerException("MLflow: log failed",
        new org.mlflow.tracking.MlflowHttpException(400, "Bad Request", "INVALID_PARAMETER_VALUE: metric value"));
    flaky.failures.set(1);
    assertThrows(TrackerException.class, () -> t.log(run, Map.of(), List.of(new Metric("x", 1, 0, 1)), Map.of()));
    assertEquals(1, flaky.logCalls.get());
    assertEquals(0, clock.sleeps.size());
  }

  @Test
  void createRun_repeatsARefusedConnection_butNotAnAmbiguousFailure() {
    Flaky flaky = new Flaky(new FileTracker(dir.resolve("mlruns")));
    RetryingTracker t = retrying(flaky);
    String exp = t.experimentId("e");
    flaky.failures.set(2);
    t.createRun(exp, "r1", Map.of("k", "1"));
    assertEquals(3, flaky.createCalls.get(), "refused: the request never reached the server");

    flaky.createCalls.set(0);
    flaky.error = () -> new TrackerException("MLflow: create failed", new SocketTimeoutException("Read timed out"));
    flaky.failures.set(1);
    assertThrows(TrackerException.class, () -> t.createRun(exp, "r2", Map.of("k", "2")));
    assertEquals(1, flaky.createCalls.get(), "a timeout may have created the run: the activity's find-by-tag decides");
  }

  @Test
  void anArtifactUploadAnswered503_isRetried_andA400IsNot() throws IOException {
    AtomicInteger puts = new AtomicInteger();
    AtomicInteger unavailable = new AtomicInteger(2);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/2.0/mlflow/runs/get", ex -> reply(ex, 200,
        "{\"run\":{\"info\":{\"run_id\":\"r1\",\"experiment_id\":\"1\",\"status\":\"RUNNING\","
            + "\"artifact_uri\":\"mlflow-artifacts:/1/r1/artifacts\"},\"data\":{}}}"));
    server.createContext("/api/2.0/mlflow-artifacts/artifacts/", ex -> {
      puts.incrementAndGet();
      ex.getRequestBody().readAllBytes();
      if (ex.getRequestURI().getPath().endsWith("bad.txt")) reply(ex, 400, "{\"error_code\":\"INVALID_PARAMETER_VALUE\"}");
      else if (unavailable.getAndDecrement() > 0) reply(ex, 503, "MinIO behind MLflow is restarting");
      else reply(ex, 200, "{}");
    });
    server.start();
    try {
      String uri = "http://127.0.0.1:" + server.getAddress().getPort();
      RetryingTracker t = new RetryingTracker(new MlflowTracker(uri), new Retrier(RetryingTracker.serviceName(uri),
          Duration.ofMinutes(5), clock, clock, new SplittableRandom(3), Transients::isTransient));
      t.uploadArtifact("r1", "provenance.json", "{}".getBytes(StandardCharsets.UTF_8));
      assertEquals(3, puts.get());
      puts.set(0);
      TrackerException e = assertThrows(TrackerException.class, () -> t.uploadArtifact("r1", "bad.txt", new byte[1]));
      assertEquals(1, puts.get());
      assertTrue(e.getMessage().contains("HTTP 400"), e.getMessage());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aServerThatStaysDown_failsNamingMlflowAndItsEndpoint() {
    // nothing listens on this port: a real "connection refused" through the MLflow client
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    String uri = "http://127.0.0.1:" + port;
    RetryingTracker t = new RetryingTracker(new MlflowTracker(uri), new Retrier(RetryingTracker.serviceName(uri),
        Duration.ofSeconds(40), clock, clock, new SplittableRandom(3), Transients::isTransient));
    TrackerException e = assertThrows(TrackerException.class, () -> t.metricHistory("r1", "loss"));
    assertTrue(e.getMessage().startsWith("MLflow (tracking server " + uri + ") unreachable for 40s ("), e.getMessage());
    assertTrue(e.getMessage().contains("reading metric 'loss' of run r1: Connection refused"), e.getMessage());
    assertTrue(e.getMessage().endsWith("— check ./promptline services status"), e.getMessage());
  }

  private static void reply(com.sun.net.httpserver.HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
    ex.close();
  }
}
