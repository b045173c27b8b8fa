package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The frozen CLIP a run uses: a named architecture and the path of its weights file (OpenAI
 * TorchScript, OpenAI/open_clip or HF safetensors). The file's {@code sha256} enters the run key
 * and is verified by every worker; the path does not enter the key.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelRef(String name, String weights, String sha256) {
  public ModelRef {
    ContentKeys.require(name, "model.name");
    ContentKeys.require(weights, "model.weights");
  }
}
