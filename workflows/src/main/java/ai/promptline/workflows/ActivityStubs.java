package ai.promptline.workflows;

import ai.promptline.workflows.api.CampaignActivities;
import ai.promptline.workflows.api.ComputeActivities;
import ai.promptline.workflows.api.DataActivities;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.api.TrackingActivities;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;

/**
 * Activity options in one place: bookkeeping on the CPU queue, compute on the GPU queue with a
 * heartbeat timeout (a dead worker is noticed in seconds, not hours). Failures that retrying
 * cannot fix are never retried; everything else is retried long enough to outlast a restart of
 * a service or a worker: inside an attempt, each MinIO/MLflow call waits out a fault for the
 * worker's retry budget (5 min by default); across attempts, these policies keep retrying for
 * about 15 minutes of backoff alone (2 s doubling to 60 s, 20 attempts) before the run fails.
 *
 * <p>Changing these options does not affect replay: they are not part of what replay compares
 * ({@code ActivityOptionsReplayTest} replays histories recorded with the old ones).
 */
final class ActivityStubs {
  /** Failure types that retrying cannot fix (bad config, missing data): fail the run at once. */
  static final String[] NON_RETRYABLE = {"InvalidInput", "DatasetError", "CheckpointError"};

  /** Attempts of any activity: with the backoff below, about 15 minutes of waiting between them. */
  static final int MAX_ATTEMPTS = 20;

  static final Duration MAX_RETRY_INTERVAL = Duration.ofMinutes(1);

  private static final RetryOptions BOOKKEEPING_RETRY =
      RetryOptions.newBuilder()
          .setInitialInterval(Duration.ofSeconds(1))
          .setBackoffCoefficient(2)
          .setMaximumInterval(MAX_RETRY_INTERVAL)
          .setMaximumAttempts(MAX_ATTEMPTS)
          .setDoNotRetry(NON_RETRYABLE)
          .build();

  /** A tracking attempt may wait out an MLflow restart (5 min budget per call) and still report. */
  static final Duration TRACKING_START_TO_CLOSE = Duration.ofMinutes(15);

  private ActivityStubs() {}

  static TrackingActivities tracking() {
    return Workflow.newActivityStub(TrackingActivities.class, cpu(TRACKING_START_TO_CLOSE));
  }

  /** Plan slices and the campaign's close (which reads every result of a large campaign): up to an hour. */
  static CampaignActivities campaign() {
    return Workflow.newActivityStub(CampaignActivities.class, cpu(Duration.ofHours(1)));
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
                    .setBackoffCoefficient(2)
                    .setMaximumInterval(MAX_RETRY_INTERVAL)
                    .setMaximumAttempts(MAX_ATTEMPTS)
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
