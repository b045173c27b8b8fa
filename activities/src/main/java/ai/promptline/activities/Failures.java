package ai.promptline.activities;

import io.temporal.failure.ApplicationFailure;

/**
 * Failure types the workflows treat as non-retryable (see {@code RunWorkflowImpl.NON_RETRYABLE}):
 * retrying a bad config or a broken dataset only wastes GPU time.
 */
public final class Failures {
  private Failures() {}

  public static ApplicationFailure invalidInput(String message, Throwable cause) {
    return ApplicationFailure.newNonRetryableFailureWithCause(message, "InvalidInput", cause);
  }

  public static ApplicationFailure datasetError(String message, Throwable cause) {
    return ApplicationFailure.newNonRetryableFailureWithCause(message, "DatasetError", cause);
  }

  /**
   * A stored record this activity cannot rebuild is corrupt (re-reading it will not help): the run
   * fails with the object named; {@code fix} says what rewrites it.
   */
  public static ApplicationFailure corruptObject(ai.promptline.activities.store.CorruptObjectException e, String fix) {
    return ApplicationFailure.newNonRetryableFailureWithCause(e.getMessage() + "; " + fix, "CorruptObject", e);
  }
}
