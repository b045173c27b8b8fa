package ai.promptline.activities.retry;

import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retries calls to one remote service through transient faults ({@link Transients}) for a time
 * budget, with exponential backoff and jitter (capped), keeping the activity alive while it waits
 * ({@link KeepAlive}). Any other failure goes through at once. When the budget is spent, the error
 * names the service, its endpoint, how long and how often it was tried, and the fix; it is an
 * ordinary (retryable) exception, so the activity's own retry policy decides what comes next.
 *
 * <p>Inside an activity the budget never runs past the attempt's start-to-close timeout (less a
 * margin), so the attempt fails with this message rather than a bare timeout.
 */
public final class Retrier {
  /** Long enough to outlast an ordinary restart of a local service. */
  public static final Duration DEFAULT_BUDGET = Duration.ofMinutes(5);

  static final Duration INITIAL_BACKOFF = Duration.ofMillis(500);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
  /** Kept free at the end of an activity attempt to report the failure. */
  static final long ATTEMPT_MARGIN_MILLIS = 15_000;

  private static final Logger LOG = LoggerFactory.getLogger(Retrier.class);

  /** Sleeps; injectable so tests run on a fake clock. */
  public interface Sleeper {
    void sleep(long millis) throws InterruptedException;
  }

  /** Where the time comes from (monotonic nanos for the budget, wall millis for activity deadlines). */
  public interface Clock {
    long nanos();

    long millis();

    Clock SYSTEM = new Clock() {
      @Override
      public long nanos() {
        return System.nanoTime();
      }

      @Override
      public long millis() {
        return System.currentTimeMillis();
      }
    };
  }

  private final String service;
  private final Duration budget;
  private final Clock clock;
  private final Sleeper sleeper;
  private final SplittableRandom random;
  private final Predicate<Throwable> isTransient;

  /**
   * @param service the service and its endpoint as the user knows them, e.g.
   *     {@code MinIO (object store s3://promptline at http://127.0.0.1:9000)}
   */
  public Retrier(String service, Duration budget) {
    this(service, budget, Clock.SYSTEM, Thread::sleep, new SplittableRandom(), Transients::isTransient);
  }

  public Retrier(String service, Duration budget, Clock clock, Sleeper sleeper, SplittableRandom random,
      Predicate<Throwable> isTransient) {
    if (budget.isNegative()) throw new IllegalArgumentException("retry budget must not be negative: " + budget);
    this.service = service;
    this.budget = budget;
    this.clock = clock;
    this.sleeper = sleeper;
    this.random = random;
    this.isTransient = isTransient;
  }

  public String service() {
    return service;
  }

  public Duration budget() {
    return budget;
  }

  /** {@link #call(String, Callable, Predicate, BiFunction)} retrying every transient fault. */
  public <T> T call(String what, Callable<T> body, BiFunction<String, Throwable, RuntimeException> exhausted) {
    return call(what, body, e -> true, exhausted);
  }

  /**
   * Runs {@code body}, retrying transient faults for which {@code mayRepeat} holds (a call that is
   * not idempotent repeats only failures that surely never reached the service).
   *
   * @param what what the call does, for messages: {@code writing 'runs/…/epoch-00003.safetensors'}
   * @param exhausted builds the exception thrown when the budget is spent (message, last failure)
   */
  public <T> T call(String what, Callable<T> body, Predicate<Throwable> mayRepeat,
      BiFunction<String, Throwable, RuntimeException> exhausted) {
    long start = clock.nanos();
    long budgetNanos = Math.min(budget.toNanos(),
        saturatedMillisToNanos(KeepAlive.attemptMillisLeft(clock.millis()) - ATTEMPT_MARGIN_MILLIS));
    long backoff = INITIAL_BACKOFF.toMillis();
    for (int tries = 1; ; tries++) {
      try {
        T result = body.call();
        if (tries > 1)
          LOG.warn("{} reachable again after {} ({} tries) {}", service, format(clock.nanos() - start), tries, what);
        return result;
      } catch (Exception e) {
        if (!isTransient.test(e) || !mayRepeat.test(e)) throw rethrow(e);
        long elapsed = clock.nanos() - start;
        long left = budgetNanos - elapsed;
        if (left <= 0) {
          String message = service + " " + (Transients.httpStatus(rootStatus(e)) != null ? "unavailable" : "unreachable")
              + " for " + format(elapsed) + " (" + tries + (tries == 1 ? " try" : " tries") + ") " + what + ": "
              + rootMessage(e) + " — check ./promptline services status";
          throw exhausted.apply(message, e);
        }
        // equal jitter; the last wait ends at the budget, so the final try happens as the budget runs out
        long sleep = Math.max(1, backoff / 2 + random.nextLong(backoff / 2 + 1));
        sleep = Math.min(sleep, Math.max(1, (left + 999_999L) / 1_000_000L));
        backoff = Math.min(MAX_BACKOFF.toMillis(), backoff * 2);
        if (tries == 1)
          LOG.warn("{} unreachable {} ({}); retrying for up to {}", service, what, rootMessage(e), format(budgetNanos));
        KeepAlive.beat();
        try {
          sleeper.sleep(sleep);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw exhausted.apply(service + ": interrupted while waiting to retry " + what + " (" + rootMessage(e) + ")", e);
        }
      }
    }
  }

  private static long saturatedMillisToNanos(long millis) {
    if (millis <= 0) return 0;
    return millis >= Long.MAX_VALUE / 1_000_000L ? Long.MAX_VALUE : millis * 1_000_000L;
  }

  private static RuntimeException rethrow(Exception e) {
    if (e instanceof RuntimeException r) return r;
    return new IllegalStateException(e.getMessage(), e);
  }

  /** The failure that carries an HTTP status, if any (for wording). */
  private static Throwable rootStatus(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause())
      if (Transients.httpStatus(t) != null) return t;
    return e;
  }

  /**
   * What the service (or the network) said, without the wrapping: the innermost message, or the
   * HTTP status and body of a failed call.
   */
  public static String rootMessage(Throwable e) {
    String last = null;
    String refused = null;
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      // the network's words where they are plain (the innermost "Connection refused"); okio's EOF
      // text ("\n not found: limit=0 …") is not
      if (t instanceof java.net.ConnectException && t.getMessage() != null) refused = t.getMessage();
      if (t instanceof java.io.EOFException) return "connection closed by the server mid-response";
      if (t instanceof org.mlflow.tracking.MlflowHttpException h)
        return "HTTP " + h.getStatusCode() + (h.getBodyMessage() == null || h.getBodyMessage().isBlank() ? ""
            : " " + abbreviate(h.getBodyMessage()));
      if (t instanceof io.minio.errors.ErrorResponseException r && r.errorResponse() != null)
        return r.errorResponse().code() + (r.errorResponse().message() == null ? "" : ": " + r.errorResponse().message());
      if (t.getMessage() != null && !t.getMessage().isBlank()) last = t.getMessage();
      else if (last == null) last = t.getClass().getSimpleName();
    }
    return abbreviate(refused != null ? refused : last);
  }

  private static String abbreviate(String s) {
    String one = s.replaceAll("\\s+", " ").strip();
    return one.length() <= 300 ? one : one.substring(0, 297) + "...";
  }

  /** {@code 5m0s}, {@code 42s}, {@code 850ms}. */
  public static String format(long nanos) {
    long ms = Math.max(0, nanos / 1_000_000L);
    if (ms < 1000) return ms + "ms";
    long s = ms / 1000;
    if (s < 60) return s + "s";
    if (s < 3600) return String.format(Locale.ROOT, "%dm%ds", s / 60, s % 60);
    return String.format(Locale.ROOT, "%dh%dm%ds", s / 3600, s / 60 % 60, s % 60);
  }

  /** Parses {@code 300s}, {@code 5m}, {@code 1m30s}, {@code 2h}, {@code 500ms} or plain seconds ({@code 300}). */
  public static Duration parseDuration(String text) {
    String s = text.strip().toLowerCase(Locale.ROOT);
    if (s.matches("\\d+")) return Duration.ofSeconds(Long.parseLong(s));
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|h|m|s)").matcher(s);
    Duration d = Duration.ZERO;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) break;
      long n = Long.parseLong(m.group(1));
      d = d.plus(switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      });
      end = m.end();
    }
    if (end == 0 || end != s.length())
      throw new IllegalArgumentException("'" + text + "' is not a duration; write e.g. 300s, 5m, 1m30s or 300 (seconds)");
    return d;
  }
}
