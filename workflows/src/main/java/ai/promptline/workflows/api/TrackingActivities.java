package ai.promptline.workflows.api;

import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages.LogInput;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.RunConfig;
import io.temporal.activity.ActivityInterface;
import java.util.List;

/**
 * MLflow and result records. Every call is idempotent: runs are found by their content-key tag
 * before one is created, so a retried activity or a re-submitted campaign never duplicates.
 */
@ActivityInterface
public interface TrackingActivities {
  /** The committed result of an earlier successful run with this key, or null. */
  RunResult lookupFinished(String runKey);

  /** Find-or-create the campaign's parent run; returns its MLflow run id. */
  String startCampaign(String campaignKey, CampaignSpec spec, String workflowId);

  /** Find-or-create the run's child run (status RUNNING); returns its MLflow run id. */
  String startRun(String runKey, RunConfig config, String parentRunId, String workflowId);

  /** Final metrics, prompt artifact, provenance; then commits the result record. */
  RunResult logRun(LogInput input);

  /** Sets a terminal status (FINISHED, FAILED, KILLED) with an optional message. */
  void finishRun(String mlflowRunId, String status, String message);

  /**
   * Safety net for runs whose workflow ended without finishing its MLflow run (e.g. terminated):
   * sets {@code status} on the run with this key only if it is still RUNNING.
   */
  void closeIfRunning(String runKey, String status, String message);

  /** Aggregates (mean ± std over seeds), summary table artifact, terminal status of the parent. */
  void finishCampaign(String campaignKey, String mlflowRunId, String status, List<RunResult> runs);
}
