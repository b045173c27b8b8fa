package ai.promptline.activities.retry;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;

/**
 * Keeps the current activity alive while a retry loop waits for a service: it heartbeats without
 * clobbering the activity's own heartbeat details (a retried train attempt resumes from them).
 *
 * <p>An activity whose details are typed installs a hook that re-sends its latest details
 * ({@link #install}); without one, the details the activity last sent (or, before its first
 * heartbeat, those of the previous attempt) are sent again unchanged. Outside an activity nothing
 * happens. A heartbeat that finds the activity cancelled or timed out throws, which ends the wait.
 */
public final class KeepAlive {
  private static final ThreadLocal<Runnable> HOOK = new ThreadLocal<>();

  private KeepAlive() {}

  /** Closing it restores the previous hook. */
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  /** While the scope is open, waits on this thread call {@code beat} instead of the default. */
  public static Scope install(Runnable beat) {
    Runnable previous = HOOK.get();
    HOOK.set(beat);
    return () -> {
      if (previous == null) HOOK.remove();
      else HOOK.set(previous);
    };
  }

  /** One keep-alive, called by retry loops before each wait. */
  public static void beat() {
    Runnable hook = HOOK.get();
    if (hook != null) {
      hook.run();
      return;
    }
    ActivityExecutionContext ctx = context();
    if (ctx != null) ctx.heartbeat(ctx.getHeartbeatDetails(Object.class).orElse(null));
  }

  /**
   * Milliseconds left in this activity attempt's start-to-close timeout, or {@code Long.MAX_VALUE}
   * outside an activity or without such a timeout.
   */
  static long attemptMillisLeft(long nowMillis) {
    ActivityExecutionContext ctx = context();
    if (ctx == null) return Long.MAX_VALUE;
    ActivityInfo info = ctx.getInfo();
    java.time.Duration stc = info.getStartToCloseTimeout();
    long started = info.getStartedTimestamp();
    if (stc == null || stc.isZero() || stc.isNegative() || started <= 0) return Long.MAX_VALUE;
    long left = started + stc.toMillis() - nowMillis;
    return left > stc.toMillis() ? Long.MAX_VALUE : Math.max(0, left); // a start time ahead of our clock: do not trust it
  }

  private static ActivityExecutionContext context() {
    try {
      return Activity.getExecutionContext();
    } catch (IllegalStateException notInAnActivity) {
      return null;
    }
  }
}
