package ai.promptline.activities;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.time.Duration;

/**
 * Records how long each activity attempt waited in its task queue: from the time Temporal scheduled
 * the current attempt to the time this worker started it ({@link ActivityInfo}), as
 * {@code promptline.activity.queue.wait{activity,queue}}. Install it on the worker factory; it
 * covers every activity of every queue the factory's workers poll.
 */
public final class QueueWaitInterceptor extends WorkerInterceptorBase {
  private final PromptlineMetrics metrics;

  public QueueWaitInterceptor(PromptlineMetrics metrics) {
    this.metrics = metrics;
  }

  /** The wait of the attempt {@code info} describes, or null when Temporal did not give both times. */
  static Duration queueWait(ActivityInfo info) {
    long scheduled = info.getCurrentAttemptScheduledTimestamp();
    long started = info.getStartedTimestamp();
    if (scheduled <= 0 || started <= 0) return null;
    return Duration.ofMillis(Math.max(0, started - scheduled));
  }

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new ActivityInboundCallsInterceptorBase(next) {
      @Override
      public void init(ActivityExecutionContext context) {
        ActivityInfo info = context.getInfo();
        Duration wait = info.isLocal() ? null : queueWait(info);
        if (wait != null) metrics.queueWait(info.getActivityType(), info.getActivityTaskQueue(), wait);
        super.init(context);
      }
    };
  }
}
