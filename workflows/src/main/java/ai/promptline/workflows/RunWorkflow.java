package ai.promptline.workflows;

import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages.RunResult;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** One (dataset, method, shots, seed) run; its workflow id is {@code run-<runKey>}. */
@WorkflowInterface
public interface RunWorkflow {
  /**
   * @param indexed the run was started with Promptline's search attributes (see {@code SearchAttrs}),
   *     so it keeps {@code Phase} and {@code RunStatus} up to date
   * @param heartbeatTimeoutSeconds how long a silent compute activity is trusted before it is
   *     retried (on any worker of the GPU queue)
   */
  record RunRequest(String runKey, RunConfig config, String parentMlflowRunId, int heartbeatTimeoutSeconds, boolean indexed) {
    /** A run without search attributes (the server does not have them, or release 0.1's campaign). */
    public RunRequest(String runKey, RunConfig config, String parentMlflowRunId, int heartbeatTimeoutSeconds) {
      this(runKey, config, parentMlflowRunId, heartbeatTimeoutSeconds, false);
    }
  }

  @WorkflowMethod
  RunResult run(RunRequest request);

  /** The stage the run is in: lookup, start, split, features, train, evaluate, targets, log, done, failed. */
  @QueryMethod
  String phase();

  static String workflowId(String runKey) {
    return "run-" + runKey;
  }
}
