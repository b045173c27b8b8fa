package ai.promptline.workflows;

import ai.promptline.workflows.api.ComputeActivities;
import ai.promptline.workflows.api.DataActivities;
import ai.promptline.workflows.api.SearchAttrs;
import ai.promptline.workflows.api.TrackingActivities;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalInput;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.FeatureResult;
import ai.promptline.workflows.model.Stages.LogInput;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.Stages.SplitResult;
import ai.promptline.workflows.model.Stages.StageInput;
import ai.promptline.workflows.model.Stages.TargetInput;
import ai.promptline.workflows.model.Stages.TargetResult;
import ai.promptline.workflows.model.Stages.TargetSplit;
import ai.promptline.workflows.model.Stages.TrainInput;
import ai.promptline.workflows.model.Stages.TrainResult;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.List;

/**
 * Sequences the stages of one run. Whatever happens, the MLflow run ends in a terminal status set
 * here (FINISHED, FAILED or KILLED): the orchestrator, not the training process, owns it.
 */
public final class RunWorkflowImpl implements RunWorkflow {
  /** Failure types that retrying cannot fix (bad config, missing data): fail the run at once. */
  public static final String[] NON_RETRYABLE = ActivityStubs.NON_RETRYABLE;

  private final TrackingActivities tracking = ActivityStubs.tracking();
  private final DataActivities data = ActivityStubs.data();

  /** Change id of the search-attribute updates: histories of release 0.1 have no marker and no upserts. */
  static final String SEARCH_ATTRIBUTES_CHANGE = "search-attributes";

  private String phase = "lookup";
  private boolean index;

  /** Sets the phase and, for an indexed run, its {@code Phase} search attribute (and {@code RunStatus} when given). */
  private void phase(String p, String runStatus) {
    phase = p;
    if (!index) return;
    if (runStatus == null) Workflow.upsertTypedSearchAttributes(SearchAttrs.PHASE.valueSet(p));
    else Workflow.upsertTypedSearchAttributes(SearchAttrs.PHASE.valueSet(p), SearchAttrs.RUN_STATUS.valueSet(runStatus));
  }

  private void phase(String p) {
    phase(p, null);
  }

  @Override
  public RunResult run(RunRequest request) {
    int version = Workflow.getVersion(SEARCH_ATTRIBUTES_CHANGE, Workflow.DEFAULT_VERSION, 1);
    index = version >= 1 && request.indexed();
    String key = request.runKey();
    RunResult prior = tracking.lookupFinished(key);
    if (prior != null) {
      phase("reused", Stages.FINISHED);
      phase = "done";
      return prior.asReused();
    }
    phase("start");
    String mlflowRunId =
        tracking.startRun(key, request.config(), request.parentMlflowRunId(), Workflow.getInfo().getWorkflowId());
    ComputeActivities compute = ActivityStubs.compute(request.heartbeatTimeoutSeconds());
    StageInput in = new StageInput(key, request.config(), mlflowRunId);
    try {
      phase("split");
      SplitResult split = data.split(in);
      phase("features");
      FeatureResult features = compute.cacheFeatures(in, split);
      phase("train");
      TrainResult trained = compute.train(new TrainInput(in, split, features));
      phase("evaluate");
      EvalResult eval = compute.evaluate(new EvalInput(in, split, features, trained));
      List<DatasetRef> targets = request.config().targets();
      if (!targets.isEmpty()) { // no targets: exactly the commands of runs before cross-dataset existed
        phase("targets");
        List<TargetResult> results = new ArrayList<>(targets.size());
        for (DatasetRef target : targets) {
          TargetSplit ts = data.targetSplit(in, target);
          results.add(compute.evaluateTarget(new TargetInput(in, target, ts, trained)));
        }
        eval = eval.withTargets(results);
      }
      phase("log");
      RunResult result = tracking.logRun(new LogInput(in, split, features, trained, eval));
      tracking.finishRun(mlflowRunId, Stages.FINISHED, null);
      phase("done", Stages.FINISHED);
      return result;
    } catch (TemporalFailure e) {
      // Cancellation arrives as CanceledFailure or as an activity failure caused by it.
      boolean cancelled = e instanceof CanceledFailure || CancellationScope.current().isCancelRequested();
      String message = cancelled ? "cancelled" : rootMessage(e);
      String status = cancelled ? Stages.KILLED : Stages.FAILED;
      if (cancelled) phase = "cancelled"; // an upsert in a cancelled scope is still a command; set it below
      else phase("failed", status);
      // A detached scope: the terminal status is written even when this workflow is being cancelled.
      Workflow.newDetachedCancellationScope(() -> {
        tracking.finishRun(mlflowRunId, status, message);
        if (cancelled) phase("cancelled", status);
      }).run();
      if (cancelled) throw e instanceof CanceledFailure ? e : new CanceledFailure("run cancelled");
      throw ApplicationFailure.newNonRetryableFailureWithCause(
          "run " + request.config().displayName() + " failed: " + message, "RunFailed", e);
    }
  }

  @Override
  public String phase() {
    return phase;
  }

  /** The innermost failure message: what the activity said, not Temporal's wrapping. */
  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    if (t instanceof ApplicationFailure af && af.getOriginalMessage() != null) return af.getOriginalMessage();
    if (t instanceof ActivityFailure) return "activity failed";
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
