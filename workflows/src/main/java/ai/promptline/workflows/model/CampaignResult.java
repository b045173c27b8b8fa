package ai.promptline.workflows.model;

import ai.promptline.workflows.model.Stages.RunResult;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** Outcome of a campaign: every run's result in grid order and the MLflow parent run. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CampaignResult(String campaignKey, String mlflowRunId, String status, List<RunResult> runs) {
  public long failed() {
    return runs.stream().filter(r -> !Stages.FINISHED.equals(r.status())).count();
  }
}
