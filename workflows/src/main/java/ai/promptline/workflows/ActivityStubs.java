package ai.promptline.workflows;

import ai.promptline.workflows.api.ComputeActivities;
import ai.promptline.workflows.api.DataActivities;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.api.TrackingActivities;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;

/**
 * Activity options in one place: bookkeeping on the CPU queue with quick bounded retries; compute
 * on the GPU queue with a heartbeat timeout (a dead worker is noticed in seconds, not hours) and
 * a few slower retries. Failures that retrying cannot fix are never retried.
 */
final class ActivityStubs {
  /** Failure types that retrying cannot fix (bad config, missing data): fail the run at once. */
  static final String[] NON_RETRYABLE = {"InvalidInput", "DatasetError", "CheckpointError"};

  private static final RetryOptions BOOKKEEPING_RETRY =
      RetryOptions.newBuilder()
          .setInitialInterval(Duration.ofSeconds(1))
          .setMaximumInterval(Duration.ofSeconds(30))
          .setMaximumAttempts(10)
          .setDoNotRetry(NON_RETRYABLE)
          .build();

  private ActivityStubs() {}

  static TrackingActivities tracking() {
    return Workflow.newActivityStub(TrackingActivities.class, cpu(Duration.ofMinutes(5)));
  }

  static DataActivities data() {
    return Workflow.newActivityStub(DataActivities.class, cpu(Duration.ofHours(1)));
  }

  /** @param heartbeatTimeoutSeconds 0 = 60 s */
  static ComputeActivities compute(int heartbeatTimeoutSeconds) {
    int hb = heartbeatTimeoutSeconds > 0 ? heartbeatTimeoutSeconds : 60;
    return Workflow.newActivityStub(
        ComputeActivities.class,
        ActivityOptions.newBuilder()
            .setTaskQueue(TaskQueues.GPU)
            .setStartToCloseTimeout(Duration.ofHours(12))
            .setHeartbeatTimeout(Duration.ofSeconds(hb))
            .setRetryOptions(
                RetryOptions.newBuilder()
                    .setInitialInterval(Duration.ofSeconds(2))
                    .setMaximumInterval(Duration.ofMinutes(2))
                    .setMaximumAttempts(5)
                    .setDoNotRetry(NON_RETRYABLE)
                    .build())
            .build());
  }

  private static ActivityOptions cpu(Duration startToClose) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.CPU)
        .setStartToCloseTimeout(startToClose)
        .setRetryOptions(BOOKKEEPING_RETRY)
        .build();
  }
}
