package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workers.Settings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.WorkflowServiceException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The user's line for a failed Temporal call names the server and the fix, not {@code workflowId='…', runId=''}. */
class ErrorsTest {
  @Test
  void temporalUnavailable_namesTheTargetAndTheFix() {
    var cause = new StatusRuntimeException(Status.UNAVAILABLE.withDescription("io exception")
        .withCause(new java.net.ConnectException("Connection refused: /127.0.0.1:7999")));
    var e = new WorkflowServiceException(WorkflowExecution.newBuilder().setWorkflowId("campaign-abc").build(), "CampaignWorkflow", cause);
    String line = Settings.withEnvironment(Map.of("PROMPTLINE_TEMPORAL_TARGET", "127.0.0.1:7999"), () -> Errors.describe(e));
    assertTrue(line.contains("workflow campaign-abc") && line.contains("cannot reach Temporal at 127.0.0.1:7999 (namespace default)")
        && line.contains("(connection refused)") && line.contains("./promptline services up"), line);
    assertTrue(!line.contains("runId=''"), line);
  }

  @Test
  void otherStatus_isShownWithItsCode_andPlainErrorsKeepTheirMessage() {
    var e = new WorkflowServiceException(WorkflowExecution.newBuilder().setWorkflowId("w").build(), "T",
        new StatusRuntimeException(Status.PERMISSION_DENIED.withDescription("not allowed")));
    assertTrue(Errors.describe(e).contains("PERMISSION_DENIED: not allowed"), Errors.describe(e));
    assertEquals("plain message", Errors.describe(new IllegalStateException("plain\nmessage".replace("\n", " "))));
  }
}
