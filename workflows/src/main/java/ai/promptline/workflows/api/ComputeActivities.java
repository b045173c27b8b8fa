package ai.promptline.workflows.api;

import ai.promptline.workflows.model.Stages.EvalInput;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.FeatureResult;
import ai.promptline.workflows.model.Stages.SplitResult;
import ai.promptline.workflows.model.Stages.StageInput;
import ai.promptline.workflows.model.Stages.TargetInput;
import ai.promptline.workflows.model.Stages.TargetResult;
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

  /**
   * Cross-dataset: caches the target's test features (content-keyed, shared with every run of the
   * same model and target) and evaluates the trained prompt, unchanged, on the target's classes
   * with the target's template.
   */
  TargetResult evaluateTarget(TargetInput input);
}
