package ai.promptline.workflows;

import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** A benchmark campaign; its workflow id is {@code campaign-<campaignKey>}. */
@WorkflowInterface
public interface CampaignWorkflow {
  /** Counts of the campaign's runs by state, for {@code promptline campaign status}. */
  record Progress(int total, int pending, int running, int finished, int reused, int failed) {}

  @WorkflowMethod
  CampaignResult run(CampaignSpec spec);

  @QueryMethod
  Progress progress();

  static String workflowId(String campaignKey) {
    return "campaign-" + campaignKey;
  }
}
