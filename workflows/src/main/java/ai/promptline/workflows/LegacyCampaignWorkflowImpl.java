package ai.promptline.workflows;

import ai.promptline.workflows.RunWorkflow.RunRequest;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.api.TrackingActivities;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.ChildWorkflowFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.List;

/**
 * Release 0.1's campaign (see {@link LegacyCampaignWorkflow}); frozen. Runs the grid as child workflows, at most {@code maxParallel} at a time. A failed run does not
 * stop the others; the parent MLflow run ends FINISHED only when every run finished.
 */
public final class LegacyCampaignWorkflowImpl implements LegacyCampaignWorkflow {
  private final TrackingActivities tracking = ActivityStubs.tracking();

  private int total;
  private int running;
  private int finished;
  private int reused;
  private int failed;

  @Override
  public CampaignResult run(CampaignSpec spec) {
    String campaignKey = ContentKeys.campaignKey(spec);
    String parentRunId = tracking.startCampaign(campaignKey, spec, Workflow.getInfo().getWorkflowId());
    List<RunConfig> configs = spec.expand();
    total = configs.size();
    List<Promise<RunResult>> results = new ArrayList<>(total);
    boolean cancelled = false;
    try {
      for (RunConfig config : configs) {
        Workflow.await(() -> running < spec.maxParallel());
        running++;
        results.add(Async.function(() -> runOne(config, parentRunId, spec.heartbeatTimeoutSeconds())));
      }
    } catch (CanceledFailure e) {
      cancelled = true; // no new runs; the started ones are cancelled with this scope
    }
    List<RunResult> done = new ArrayList<>(results.size());
    for (Promise<RunResult> p : results) done.add(p.get());
    cancelled |= CancellationScope.current().isCancelRequested();
    String status = cancelled ? Stages.KILLED : failed == 0 ? Stages.FINISHED : Stages.FAILED;
    // Outside the (possibly cancelled) scope, so the parent run never stays RUNNING.
    Workflow.newDetachedCancellationScope(() -> tracking.finishCampaign(campaignKey, parentRunId, status, done)).run();
    if (cancelled) throw new CanceledFailure("campaign cancelled");
    return new CampaignResult(campaignKey, parentRunId, status, done);
  }

  /** Runs one child to completion and turns its failure into a FAILED result row. */
  private RunResult runOne(RunConfig config, String parentRunId, int heartbeatTimeoutSeconds) {
    String runKey = ContentKeys.runKey(config);
    RunWorkflow child =
        Workflow.newChildWorkflowStub(
            RunWorkflow.class,
            ChildWorkflowOptions.newBuilder()
                .setWorkflowId(RunWorkflow.workflowId(runKey))
                .setTaskQueue(TaskQueues.CPU)
                .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL)
                .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
                .build());
    try {
      RunResult r = child.run(new RunRequest(runKey, config, parentRunId, heartbeatTimeoutSeconds));
      if (r.reused()) reused++;
      else finished++;
      return r;
    } catch (ChildWorkflowFailure e) {
      failed++;
      String message = RunWorkflowImpl.rootMessage(e);
      String status = e.getCause() instanceof CanceledFailure ? Stages.KILLED : Stages.FAILED;
      Workflow.newDetachedCancellationScope(() -> tracking.closeIfRunning(runKey, status, message)).run();
      return new RunResult(runKey, config, null, Stages.FAILED, null, false, message);
    } finally {
      running--;
    }
  }

  @Override
  public CampaignWorkflow.Progress progress() {
    int pending = total - running - finished - reused - failed;
    return new CampaignWorkflow.Progress(total, pending, running, finished, reused, failed);
  }
}
