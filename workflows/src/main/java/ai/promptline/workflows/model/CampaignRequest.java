package ai.promptline.workflows.model;

import ai.promptline.workflows.model.Stages.BlobRef;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.List;

/**
 * Input of a campaign workflow execution: what the submitter computed (keys, the plan in the
 * object store) and, after a continue-as-new, where the previous execution stopped. Small
 * whatever the grid's size: the runs themselves are in the plan blob.
 *
 * @param campaignKey computed by the submitter ({@link ContentKeys#campaignKey})
 * @param spec the campaign file as planned (the MLflow parent run logs it; the grid is in the plan)
 * @param plan the runs this execution chain works through, in order ({@link CampaignPlan})
 * @param total how many runs {@code plan} holds
 * @param fullPlan the campaign's whole grid, which the final summary covers (equal to {@code plan}
 *     unless this is a {@code recover})
 * @param indexed whether the server has Promptline's search attributes (checked by the submitter);
 *     without them no search attribute is set
 * @param runsPerExecution runs started per execution before continue-as-new (0 = default)
 * @param state null for the first execution
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CampaignRequest(
    String campaignKey, CampaignSpec spec, BlobRef plan, int total, BlobRef fullPlan, int fullTotal, boolean indexed,
    int runsPerExecution, State state) {

  public CampaignRequest {
    ContentKeys.require(campaignKey, "campaignKey");
    if (spec == null) throw new IllegalArgumentException("campaign request needs the spec");
    if (plan == null) throw new IllegalArgumentException("campaign request needs the plan blob");
    if (fullPlan == null) fullPlan = plan;
    if (fullTotal <= 0) fullTotal = total;
  }

  public FailurePolicy policy() {
    return spec.failurePolicy() == null ? FailurePolicy.NONE : spec.failurePolicy();
  }

  public CampaignRequest withState(State s) {
    return new CampaignRequest(campaignKey, spec, plan, total, fullPlan, fullTotal, indexed, runsPerExecution, s);
  }

  /** A run that failed, for status displays (the newest few are carried across continue-as-new). */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record RunFailure(String runKey, String name, String status, String message) {}

  /**
   * Where the chain stands: the next plan index to start, the counters, the pause flag.
   *
   * @param executions how many executions ran before this one
   * @param startedAt when the first execution started (workflow time, epoch ms; 0 = not yet)
   * @param reusedKeys run keys found finished (campaigns of up to {@link CampaignResult#INLINE_RUNS}
   *     runs only, so their result rows can say "reused"; larger ones report the count)
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record State(String parentRunId, int cursor, int finished, int reused, int failed, int killed, boolean paused,
      int executions, List<RunFailure> recentFailures, List<String> reusedKeys, long startedAt) {
    public static final int RECENT_FAILURES = 20;

    public State {
      recentFailures = recentFailures == null ? List.of() : List.copyOf(recentFailures);
      reusedKeys = reusedKeys == null ? List.of() : List.copyOf(reusedKeys);
    }

    public static State initial() {
      return new State(null, 0, 0, 0, 0, 0, false, 0, List.of(), List.of(), 0);
    }

    /** {@code failures} trimmed to the newest {@link #RECENT_FAILURES}. */
    public static List<RunFailure> newest(List<RunFailure> failures) {
      int from = Math.max(0, failures.size() - RECENT_FAILURES);
      return new ArrayList<>(failures.subList(from, failures.size()));
    }
  }
}
