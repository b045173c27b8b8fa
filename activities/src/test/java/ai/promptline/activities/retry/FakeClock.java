package ai.promptline.activities.retry;

import java.util.ArrayList;
import java.util.List;

/** A clock that only moves when the retrier sleeps (or a test says so): retry budgets without real waiting. */
public final class FakeClock implements Retrier.Clock, Retrier.Sleeper {
  public long nanos;
  /** Every wait the retrier asked for, in milliseconds. */
  public final List<Long> sleeps = new ArrayList<>();

  public FakeClock() {
    this(0);
  }

  public FakeClock(long startNanos) {
    this.nanos = startNanos;
  }

  @Override
  public long nanos() {
    return nanos;
  }

  @Override
  public long millis() {
    return nanos / 1_000_000L;
  }

  @Override
  public void sleep(long millis) {
    sleeps.add(millis);
    nanos += millis * 1_000_000L;
  }

  public long sleptMillis() {
    return sleeps.stream().mapToLong(Long::longValue).sum();
  }
}
