package ai.promptline.activities.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.tracking.Tracker.TrackerException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The retry loop on a fake clock (no real waiting): transient faults are retried with capped,
 * growing waits until the budget, the keep-alive runs before every wait, anything else fails at
 * once, and the final error names the service, the time, the tries and the fix.
 */
class RetrierTest {
  static final String SERVICE = "MLflow (tracking server http://127.0.0.1:5000)";

  static Retrier retrier(FakeClock clock, Duration budget) {
    return new Retrier(SERVICE, budget, clock, clock, new SplittableRandom(7), Transients::isTransient);
  }

  static TrackerException refused() {
    return new TrackerException("MLflow at http://127.0.0.1:5000: log failed",
        new IOException("Connect to 127.0.0.1:5000 failed", new ConnectException("Connection refused")));
  }

  @Test
  void connectionRefusedNTimes_thenWorks_returnsTheResult_andKeptTheActivityAliveBeforeEachWait() {
    FakeClock clock = new FakeClock(1_000_000_000L);
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger beats = new AtomicInteger();
    String result;
    try (KeepAlive.Scope s = KeepAlive.install(beats::incrementAndGet)) {
      result = retrier(clock, Duration.ofMinutes(5)).call("logging", () -> {
        if (calls.incrementAndGet() <= 4) throw refused();
        return "ok";
      }, TrackerException::new);
    }
    assertEquals("ok", result);
    assertEquals(5, calls.get());
    assertEquals(4, beats.get(), "one keep-alive before each of the 4 waits");
    assertEquals(4, clock.sleeps.size());
    for (int i = 0; i < 4; i++) {
      long base = 500L << i; // 500 ms doubling, equal jitter: in [base/2, base]
      assertTrue(clock.sleeps.get(i) >= base / 2 && clock.sleeps.get(i) <= base, clock.sleeps.toString());
    }
  }

  @Test
  void aClientError_isNotRetried() {
    FakeClock clock = new FakeClock(1_000_000_000L);
    AtomicInteger calls = new AtomicInteger();
    TrackerException badRequest = new TrackerException("MLflow: log failed",
        new org.mlflow.tracking.MlflowHttpException(400, "Bad Request", "INVALID_PARAMETER_VALUE"));
    TrackerException thrown = assertThrows(TrackerException.class, () -> retrier(clock, Duration.ofMinutes(5))
        .call("logging", () -> {
          calls.incrementAndGet();
          throw badRequest;
        }, TrackerException::new));
    assertTrue(thrown == badRequest, "the original error, unchanged");
    assertEquals(1, calls.get());
    assertTrue(clock.sleeps.isEmpty());
  }

  @Test
  void theBudgetIsRespected_andTheErrorNamesServiceTimeTriesAndFix() {
    FakeClock clock = new FakeClock(1_000_000_000L);
    AtomicInteger calls = new AtomicInteger();
    TrackerException e = assertThrows(TrackerException.class, () -> retrier(clock, Duration.ofMinutes(5))
        .call("logging to run r1", () -> {
          calls.incrementAndGet();
          throw refused();
        }, TrackerException::new));
    assertEquals(300_000, clock.sleptMillis(), "waited exactly the budget, not more");
    assertTrue(clock.sleeps.stream().allMatch(ms -> ms <= 10_000), "waits are capped at 10 s: " + clock.sleeps);
    assertEquals(calls.get(), clock.sleeps.size() + 1, "one try after every wait, the last as the budget ran out");
    assertEquals(SERVICE + " unreachable for 5m0s (" + calls.get() + " tries) logging to run r1: Connection refused"
        + " — check ./promptline services status", e.getMessage());
    assertTrue(e.getCause() instanceof TrackerException, "the last failure is the cause");
  }

  @Test
  void aZeroBudget_failsAtTheFirstTransientFault() {
    FakeClock clock = new FakeClock(1_000_000_000L);
    TrackerException e = assertThrows(TrackerException.class,
        () -> retrier(clock, Duration.ZERO).call("x", () -> { throw refused(); }, TrackerException::new));
    assertTrue(e.getMessage().contains("(1 try)"), e.getMessage());
  }

  @Test
  void classification_transientVersusNot() {
    assertTrue(Transients.isTransient(refused()));
    assertTrue(Transients.isTransient(new RuntimeException(new SocketTimeoutException("Read timed out"))));
    assertTrue(Transients.isTransient(new RuntimeException(new java.net.SocketException("Connection reset"))));
    assertTrue(Transients.isTransient(new RuntimeException(new IOException("unexpected end of stream on http://x"))));
    assertTrue(Transients.isTransient(new RuntimeException(new org.mlflow.tracking.MlflowHttpException(503, "Service Unavailable"))));
    assertTrue(Transients.isTransient(new RuntimeException(new org.mlflow.tracking.MlflowHttpException(500, "Internal"))));
    assertTrue(Transients.isTransient(new RuntimeException(new org.mlflow.tracking.MlflowHttpException(429, "Too many"))));
    assertTrue(Transients.isTransient(new RuntimeException(new io.minio.errors.ServerException("busy", 503, ""))));
    assertTrue(Transients.isTransient(new RuntimeException(new io.minio.errors.InvalidResponseException(503, "text/html",
        "<html>starting</html>", ""))), "non-XML 503 from a restarting server");

    assertFalse(Transients.isTransient(new RuntimeException(new org.mlflow.tracking.MlflowHttpException(404, "Not Found"))));
    assertFalse(Transients.isTransient(new RuntimeException(new org.mlflow.tracking.MlflowHttpException(403, "Forbidden"))));
    assertFalse(Transients.isTransient(new RuntimeException(new io.minio.errors.ServerException("denied", 403, ""))));
    assertFalse(Transients.isTransient(new RuntimeException(new UnknownHostException("mlfow.example"))), "a typo, not an outage");
    assertFalse(Transients.isTransient(new IllegalStateException("object 'k' is missing")));
    assertFalse(Transients.isTransient(new RuntimeException(new com.fasterxml.jackson.core.JsonParseException(null, "bad json"))));
    RuntimeException corrupt = new ai.promptline.activities.store.CorruptObjectException("k", "s3://b", "aa", "bb");
    corrupt.initCause(new IOException("read"));
    assertFalse(Transients.isTransient(corrupt), "corrupt data is never retried, whatever its cause");
  }

  @Test
  void neverSent_onlyForFailuresThatCannotHaveReachedTheServer() {
    assertTrue(Transients.neverSent(refused()));
    assertTrue(Transients.neverSent(new RuntimeException(new org.mlflow.tracking.MlflowHttpException(503, "x"))));
    assertFalse(Transients.neverSent(new RuntimeException(new SocketTimeoutException("Read timed out"))));
    assertFalse(Transients.neverSent(new RuntimeException(new org.mlflow.tracking.MlflowHttpException(500, "x"))));
  }

  @Test
  void aNonIdempotentCall_isRepeatedOnlyWhenTheRequestNeverLeft() {
    FakeClock clock = new FakeClock(1_000_000_000L);
    AtomicInteger calls = new AtomicInteger();
    TrackerException timeout = new TrackerException("create failed", new SocketTimeoutException("Read timed out"));
    assertThrows(TrackerException.class, () -> retrier(clock, Duration.ofMinutes(5)).call("creating run", () -> {
      calls.incrementAndGet();
      throw timeout;
    }, Transients::neverSent, TrackerException::new));
    assertEquals(1, calls.get(), "the run may exist now: the activity's retry finds it by tag instead");
  }

  @Test
  void rootMessages_sayWhatTheNetworkSaid() {
    assertEquals("Connection refused", Retrier.rootMessage(refused()));
    assertEquals("connection closed by the server mid-response", Retrier.rootMessage(new RuntimeException("cannot write",
        new IOException("unexpected end of stream", new java.io.EOFException("\n not found: limit=0 content=…")))));
    assertEquals("HTTP 503 server not initialized", Retrier.rootMessage(new RuntimeException(
        new org.mlflow.tracking.MlflowHttpException(503, "Service Unavailable", "server\n not initialized"))));
  }

  @Test
  void durations_parseAndFormat() {
    assertEquals(Duration.ofSeconds(300), Retrier.parseDuration("300s"));
    assertEquals(Duration.ofSeconds(300), Retrier.parseDuration("300"));
    assertEquals(Duration.ofMinutes(10), Retrier.parseDuration("10m"));
    assertEquals(Duration.ofSeconds(90), Retrier.parseDuration("1m30s"));
    assertEquals(Duration.ofMillis(500), Retrier.parseDuration("500ms"));
    assertEquals(Duration.ofHours(2), Retrier.parseDuration("2h"));
    assertThrows(IllegalArgumentException.class, () -> Retrier.parseDuration("five minutes"));
    assertThrows(IllegalArgumentException.class, () -> Retrier.parseDuration("5m junk"));
    assertEquals("5m0s", Retrier.format(Duration.ofMinutes(5).toNanos()));
    assertEquals("42s", Retrier.format(Duration.ofSeconds(42).toNanos()));
    assertEquals("850ms", Retrier.format(Duration.ofMillis(850).toNanos()));
  }
}
