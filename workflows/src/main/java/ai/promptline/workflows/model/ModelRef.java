package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The frozen CLIP a run uses: a named architecture and its weights. {@code weights} is either a
 * path to a checkpoint file or {@code random:<preset>:<seed>} for the generated test/demo models.
 * {@code sha256} of the weights enters the run key; the path does not.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelRef(String name, String weights, String sha256) {
  public ModelRef {
    ContentKeys.require(name, "model.name");
    ContentKeys.require(weights, "model.weights");
  }
}
