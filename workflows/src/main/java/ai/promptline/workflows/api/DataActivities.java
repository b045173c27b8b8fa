package ai.promptline.workflows.api;

import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.Stages.SplitResult;
import ai.promptline.workflows.model.Stages.StageInput;
import ai.promptline.workflows.model.Stages.TargetSplit;
import io.temporal.activity.ActivityInterface;

/** Dataset access: validation, few-shot sampling, base/novel partition, cross-dataset targets. */
@ActivityInterface
public interface DataActivities {
  SplitResult split(StageInput run);

  /**
   * Opens and validates a cross-dataset target (fingerprint checked against the planned one) and
   * stores its full test split with its own classes at {@code runs/<key>/targets/<dataset>.json}.
   */
  TargetSplit targetSplit(StageInput run, DatasetRef target);
}
