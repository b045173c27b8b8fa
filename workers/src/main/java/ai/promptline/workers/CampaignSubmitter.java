package ai.promptline.workers;

import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Submits a campaign under its content key. Submitting a spec whose campaign is running attaches
 * to it; submitting one that ended starts it again, and its finished runs are reused, not redone.
 */
public final class CampaignSubmitter {
  private CampaignSubmitter() {}

  public static String workflowId(CampaignSpec spec) {
    return CampaignWorkflow.workflowId(ContentKeys.campaignKey(spec));
  }

  /** Starts (or attaches to) the campaign and returns its workflow id without waiting. */
  public static WorkflowStub start(WorkflowClient client, CampaignSpec spec) {
    String id = workflowId(spec);
    CampaignWorkflow wf = client.newWorkflowStub(CampaignWorkflow.class, WorkflowOptions.newBuilder()
        .setTaskQueue(TaskQueues.CPU)
        .setWorkflowId(id)
        .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
        .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
        .build());
    retryBusy(() -> WorkflowClient.start(wf::run, spec));
    return WorkflowStub.fromTyped(wf);
  }

  /**
   * The server answers RESOURCE_EXHAUSTED ("Workflow is busy") while a workflow's history is being
   * written by its worker; the SDK does not retry that for these calls, so retry briefly here.
   */
  static <T> T retryBusy(java.util.function.Supplier<T> call) {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.get();
      } catch (io.temporal.client.WorkflowServiceException e) {
        if (!isBusy(e) || attempt == 10) throw e;
        sleep(200L * attempt);
      }
    }
  }

  static boolean isBusy(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause())
      if (t instanceof io.grpc.StatusRuntimeException s && s.getStatus().getCode() == io.grpc.Status.Code.RESOURCE_EXHAUSTED)
        return true;
    return false;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", ie);
    }
  }

  /** Waits for the result, reporting progress every {@code everySeconds}. */
  public static CampaignResult await(WorkflowStub stub, int everySeconds, Consumer<CampaignWorkflow.Progress> onProgress) {
    while (true) {
      try {
        return stub.getResult(everySeconds, TimeUnit.SECONDS, CampaignResult.class);
      } catch (io.temporal.client.WorkflowServiceException e) {
        if (!isBusy(e)) throw e;
        sleep(500);
      } catch (TimeoutException e) {
        if (onProgress != null) {
          try {
            onProgress.accept(stub.query("progress", CampaignWorkflow.Progress.class));
          } catch (RuntimeException queryFailed) {
            // no worker has picked the workflow up yet; keep waiting
          }
        }
      }
    }
  }
}
