package ai.promptline.activities;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.store.ScratchCache;
import ai.promptline.activities.tracking.Tracker;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * What the activities talk to: the object store, the tracker, the metrics registry, and the
 * worker-local scratch cache of large blobs read from the store (disabled unless given).
 */
public record Backends(ObjectStore store, Tracker tracker, MeterRegistry meters, ScratchCache scratch) {
  public Backends(ObjectStore store, Tracker tracker, MeterRegistry meters) {
    this(store, tracker, meters, ScratchCache.disabled());
  }

  /** The Promptline metrics over {@link #meters} (one facade per registry). */
  public PromptlineMetrics metrics() {
    return PromptlineMetrics.of(meters);
  }
}
