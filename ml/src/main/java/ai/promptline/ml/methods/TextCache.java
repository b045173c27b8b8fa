package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A head's text features for evaluation: computed on the first test batch and reused for the rest,
 * instead of one text-tower pass over every class prompt per test batch (ImageNet: 500 test batches
 * × 1000 prompts). Keyed by a copy of the parameters it was computed from, so a head evaluated again
 * after optimiser steps recomputes and is never stale. Only for {@link PromptMethod.Head#evaluationLogits};
 * training needs the features with their gradient every step.
 */
final class TextCache implements AutoCloseable {
  private final NDManager own;
  private NDArray features;
  private final List<NDArray> snapshot = new ArrayList<>();

  TextCache(NDManager parent) {
    this.own = parent.newSubManager();
  }

  /** The features {@code compute} gives for the current values of {@code params}, computed at most once per value. */
  NDArray get(List<NDArray> params, Supplier<NDArray> compute) {
    if (features != null && unchanged(params)) return features;
    clear();
    features = keep(compute.get().stopGradient());
    for (NDArray p : params) snapshot.add(keep(p.stopGradient().duplicate()));
    return features;
  }

  private boolean unchanged(List<NDArray> params) {
    if (params.size() != snapshot.size()) return false;
    for (int i = 0; i < params.size(); i++) if (!snapshot.get(i).contentEquals(params.get(i))) return false;
    return true;
  }

  private NDArray keep(NDArray x) {
    x.attach(own);
    NDScope.unregister(x); // outlives the test batch's scope
    return x;
  }

  private void clear() {
    if (features != null) features.close();
    snapshot.forEach(NDArray::close);
    snapshot.clear();
    features = null;
  }

  @Override
  public void close() {
    clear();
    own.close();
  }
}
