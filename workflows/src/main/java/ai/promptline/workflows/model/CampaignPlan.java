package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * The expanded grid of a campaign, written by the submitter to the object store before the
 * campaign starts, so that workflow payloads stay small whatever the grid's size: the campaign
 * workflow carries a {@link Stages.BlobRef} to this blob and reads it a slice at a time. Run keys
 * are computed here, by the submitter, never in workflow code.
 *
 * <p>{@code campaigns/<campaignKey>/plan.json} always holds the full grid (what {@code campaign
 * compare} and {@code recover} read); a plan that runs part of it ({@code recover}, {@code --from})
 * is stored next to it under {@code campaigns/<campaignKey>/plans/<sha256>.json}.
 *
 * @param runs in grid order; {@code reuse} = finished in the campaign named by {@code --from}, so no
 *     run workflow is started for it
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CampaignPlan(String campaignKey, CampaignSpec spec, List<PlannedRun> runs) {
  public CampaignPlan {
    runs = List.copyOf(runs);
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record PlannedRun(String runKey, RunConfig config, boolean reuse) {
    public PlannedRun(String runKey, RunConfig config) {
      this(runKey, config, false);
    }
  }

  /** The full grid of {@code spec}, with the run keys computed here. */
  public static CampaignPlan of(CampaignSpec spec) {
    List<PlannedRun> runs = spec.expand().stream().map(c -> new PlannedRun(ContentKeys.runKey(c), c)).toList();
    return new CampaignPlan(ContentKeys.campaignKey(spec), spec, runs);
  }

  public static String fullPlanKey(String campaignKey) {
    return "campaigns/" + campaignKey + "/plan.json";
  }

  public static String partialPlanKey(String campaignKey, String sha256) {
    return "campaigns/" + campaignKey + "/plans/" + sha256 + ".json";
  }

  /** Where the finished campaign's results (every run's RunResult, grid order) are written. */
  public static String resultsKey(String campaignKey) {
    return "campaigns/" + campaignKey + "/results.json";
  }
}
