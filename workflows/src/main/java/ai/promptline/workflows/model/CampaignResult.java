package ai.promptline.workflows.model;

import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.RunResult;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Outcome of a campaign: the MLflow parent run, the terminal status and every run's result in
 * grid order. A campaign of more than {@link #INLINE_RUNS} runs returns its results as the blob
 * {@code results} only (they would not fit a workflow payload); {@code CampaignSubmitter.results}
 * reads them either way.
 *
 * @param counts null in results of the first campaign workflow version
 * @param reason why the campaign stopped early or did not finish (failure policy, cancellation), else null
 * @param results every run's result in grid order, in the object store; null in the first version
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CampaignResult(String campaignKey, String mlflowRunId, String status, List<RunResult> runs,
    @JsonInclude(JsonInclude.Include.NON_NULL) Counts counts,
    @JsonInclude(JsonInclude.Include.NON_NULL) String reason,
    @JsonInclude(JsonInclude.Include.NON_NULL) BlobRef results) {
  /** Up to this many runs, the results travel inline as well. */
  public static final int INLINE_RUNS = 500;

  public CampaignResult {
    runs = runs == null ? List.of() : List.copyOf(runs);
  }

  public CampaignResult(String campaignKey, String mlflowRunId, String status, List<RunResult> runs) {
    this(campaignKey, mlflowRunId, status, runs, null, null, null);
  }

  /** How the campaign's runs ended (not started = neither of the others, after a cancel or a stop). */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Counts(int total, int finished, int reused, int failed, int killed) {
    public int notStarted() {
      return Math.max(0, total - finished - reused - failed - killed);
    }
  }

  /** Runs that did not finish: from the counts when present, else from the rows. */
  public long failed() {
    if (counts != null && runs.isEmpty()) return (long) counts.total() - counts.finished() - counts.reused();
    return runs.stream().filter(r -> !Stages.FINISHED.equals(r.status())).count();
  }

  public CampaignResult withRuns(List<RunResult> rows) {
    return new CampaignResult(campaignKey, mlflowRunId, status, rows, counts, reason, results);
  }
}
