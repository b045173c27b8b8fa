package ai.promptline.workflows.api;

import ai.promptline.workflows.model.CampaignPlan.PlannedRun;
import ai.promptline.workflows.model.CampaignRequest.RunFailure;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.Stages.BlobRef;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.temporal.activity.ActivityInterface;
import java.util.List;

/** The campaign workflow's own activities (CPU queue): it reads its plan a slice at a time and closes itself. */
@ActivityInterface
public interface CampaignActivities {
  /** Runs {@code from} … {@code from + count - 1} of the plan blob (verified by its SHA-256). */
  List<PlannedRun> planSlice(BlobRef plan, int from, int count);

  /**
   * Reads every run's result of the campaign's full plan from the store, writes them as one blob,
   * logs the summary (mean ± std over seeds, cost sums, plots) to the MLflow parent run and sets
   * its terminal status. Idempotent.
   */
  CampaignResult closeCampaign(CampaignClose close);

  /**
   * @param counts how the runs of this request ended (a recover counts only its own runs)
   * @param failures the newest failures, whose messages go into the summary
   * @param reusedKeys runs this campaign found finished (small campaigns only): their rows say reused
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record CampaignClose(String campaignKey, String parentRunId, String status, String reason, BlobRef fullPlan,
      CampaignResult.Counts counts, List<RunFailure> failures, List<String> reusedKeys) {
    public CampaignClose {
      failures = failures == null ? List.of() : List.copyOf(failures);
      reusedKeys = reusedKeys == null ? List.of() : List.copyOf(reusedKeys);
    }
  }
}
