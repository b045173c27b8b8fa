package ai.promptline.workflows;

import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The campaign workflow of release 0.1 (workflow type {@code CampaignWorkflow}): it expands the
 * grid in workflow code and keeps every child in one history, which caps a campaign at a few
 * thousand runs. New campaigns use {@link CampaignWorkflow} (type {@code Campaign}); this type stays
 * registered so that campaigns started by 0.1 finish on an upgraded worker, and its recorded
 * histories replay in the build ({@code CommittedHistoryReplayTest}). Do not change its commands.
 */
@WorkflowInterface
public interface LegacyCampaignWorkflow {
  @WorkflowMethod(name = "CampaignWorkflow")
  CampaignResult run(CampaignSpec spec);

  @QueryMethod(name = "progress")
  CampaignWorkflow.Progress progress();
}
