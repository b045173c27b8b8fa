package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * A dataset as a run sees it. {@code root} is where the worker finds it (a path on a shared file
 * system); {@code fingerprint} is its content identity. Only name and fingerprint enter the run key,
 * so moving a dataset does not invalidate finished runs.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DatasetRef(String name, String root, String fingerprint) {
  public DatasetRef {
    ContentKeys.require(name, "dataset.name");
    ContentKeys.require(root, "dataset.root");
  }
}
