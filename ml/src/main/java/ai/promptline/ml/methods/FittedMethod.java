package ai.promptline.ml.methods;

import ai.promptline.ml.train.BatchSource;
import java.util.Map;

/**
 * A method that is fitted in one call on the cached features of the training items and of the
 * few-shot validation items, instead of being trained by the shared gradient loop
 * ({@link ai.promptline.ml.train.PromptTrainer}): no epochs, no loss, no checkpoints (a fit takes
 * seconds; a retried attempt fits again). Its {@link #stateDict()} after {@link #fit} is the prompt
 * artifact, restored by {@link #loadStateDict} for evaluation like any other method's.
 */
public interface FittedMethod extends PromptMethod {
  /**
   * Fits on {@code train} (epoch 0: the test transform) and selects hyper-parameters on {@code val}.
   *
   * @param classes the training label space
   * @return what to log: numeric results (chosen hyper-parameters, validation accuracy) and settings
   */
  Fit fit(ClassSet classes, BatchSource train, BatchSource val);

  /** What a fit reports: {@code metrics} are numbers (MLflow metrics), {@code params} strings. */
  record Fit(Map<String, Double> metrics, Map<String, String> params) {
    public Fit {
      metrics = Map.copyOf(metrics);
      params = Map.copyOf(params);
    }
  }
}
