package ai.promptline.workflows.api;

import ai.promptline.workflows.model.Stages.SplitResult;
import ai.promptline.workflows.model.Stages.StageInput;
import io.temporal.activity.ActivityInterface;

/** Dataset access: validation, few-shot sampling, base/novel partition. */
@ActivityInterface
public interface DataActivities {
  SplitResult split(StageInput run);
}
