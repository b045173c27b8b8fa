package ai.promptline.workflows;

import ai.promptline.workflows.model.CampaignRequest;
import ai.promptline.workflows.model.CampaignRequest.RunFailure;
import ai.promptline.workflows.model.CampaignResult;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.util.List;

/**
 * A benchmark campaign (workflow type {@code Campaign}); its workflow id is {@code
 * campaign-<campaignKey>}. It works through its plan with a sliding window of at most {@code
 * maxParallel} child run workflows and continues as new every few hundred runs, carrying only its
 * cursor and counters, so a campaign of any size stays far below Temporal's history limits.
 *
 * <p>Control: {@link #pause} (no new run starts; running runs finish), {@link #resume}, and
 * Temporal's cancel (running runs end KILLED, the parent run too). Both signals and the counters
 * survive continue-as-new and restarts of the server and of every worker.
 */
@WorkflowInterface
public interface CampaignWorkflow {
  /**
   * Counts of the campaign's runs by state, for {@code promptline campaign status|watch}.
   *
   * @param state starting, running, paused, draining (before continue-as-new), stopping (failure
   *     policy), cancelling, closing, done
   * @param executions this execution's number in the continue-as-new chain (1 = the first)
   * @param active the runs in flight, in start order
   * @param recentFailures the newest failed or killed runs
   * @param startedAt when the campaign's first execution started (epoch ms), for the ETA
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Progress(int total, int pending, int running, int finished, int reused, int failed, int killed, boolean paused,
      String state, int executions, String reason, List<ActiveRun> active, List<RunFailure> recentFailures, long startedAt) {
    public Progress {
      active = active == null ? List.of() : List.copyOf(active);
      recentFailures = recentFailures == null ? List.of() : List.copyOf(recentFailures);
      if (state == null) state = "running";
    }

    /** Counts only (release 0.1's query answers these). */
    public Progress(int total, int pending, int running, int finished, int reused, int failed) {
      this(total, pending, running, finished, reused, failed, 0, false, "running", 1, null, List.of(), List.of(), 0);
    }

    /** Runs that ended, any way. */
    public int done() {
      return finished + reused + failed + killed;
    }
  }

  /** A run in flight: its key (the run workflow is {@code run-<key>}) and its display name. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record ActiveRun(String runKey, String name) {}

  @WorkflowMethod(name = "Campaign")
  CampaignResult run(CampaignRequest request);

  @QueryMethod
  Progress progress();

  /** No new run starts until {@link #resume}; running runs finish. */
  @SignalMethod
  void pause();

  @SignalMethod
  void resume();

  static String workflowId(String campaignKey) {
    return "campaign-" + campaignKey;
  }
}
