package ai.promptline.cli;

import ai.promptline.workers.ServiceChecks;
import ai.promptline.workers.Settings;

/** Turns an exception into the single line a user sees. */
final class Errors {
  private Errors() {}

  static String describe(Throwable ex) {
    String temporal = temporal(ex);
    if (temporal != null) return temporal;
    Throwable t = ex;
    while ((t.getMessage() == null || t.getMessage().isBlank()) && t.getCause() != null) t = t.getCause();
    String msg = t.getMessage();
    return msg == null ? t.getClass().getSimpleName() : msg.replace('\n', ' ');
  }

  /**
   * A failed Temporal call: the SDK's exception says only {@code workflowId='…', runId=''}; the
   * gRPC status under it says what happened, and the fix is to reach the server.
   */
  private static String temporal(Throwable ex) {
    if (!(ex instanceof io.temporal.client.WorkflowException || ex instanceof io.temporal.client.WorkflowServiceException
        || ex instanceof io.grpc.StatusRuntimeException)) return null;
    io.grpc.StatusRuntimeException status = null;
    for (Throwable t = ex; t != null && status == null; t = t.getCause())
      if (t instanceof io.grpc.StatusRuntimeException s) status = s;
    if (status == null) return null;
    String target;
    try {
      Settings s = Settings.fromEnv();
      target = s.temporalTarget() + " (namespace " + s.namespace() + ")";
    } catch (RuntimeException e) {
      target = "its address";
    }
    String what = ex instanceof io.temporal.client.WorkflowException w ? "for workflow " + w.getExecution().getWorkflowId() + " " : "";
    io.grpc.Status.Code code = status.getStatus().getCode();
    if (code == io.grpc.Status.Code.UNAVAILABLE || code == io.grpc.Status.Code.DEADLINE_EXCEEDED)
      return "a Temporal call " + what + "failed: cannot reach Temporal at " + target + " (" + ServiceChecks.reason(status)
          + "); start it: ./promptline services up (or set PROMPTLINE_TEMPORAL_TARGET), then run the command again";
    return "a Temporal call " + what + "failed at " + target + ": " + ServiceChecks.reason(status);
  }
}
