package ai.promptline.workflows.api;

import ai.promptline.workflows.model.Stages.EvalInput;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.FeatureResult;
import ai.promptline.workflows.model.Stages.SplitResult;
import ai.promptline.workflows.model.Stages.StageInput;
import ai.promptline.workflows.model.Stages.TrainInput;
import ai.promptline.workflows.model.Stages.TrainResult;
import io.temporal.activity.ActivityInterface;

/** The model work, routed to {@link TaskQueues#GPU}. */
@ActivityInterface
public interface ComputeActivities {
  FeatureResult cacheFeatures(StageInput run, SplitResult split);

  /** Heartbeats {@code TrainProgress}; resumes from the newest checkpoint on a retried attempt. */
  TrainResult train(TrainInput input);

  EvalResult evaluate(EvalInput input);
}
