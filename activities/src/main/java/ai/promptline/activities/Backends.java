package ai.promptline.activities;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.Tracker;
import io.micrometer.core.instrument.MeterRegistry;

/** What the activities talk to: the object store, the tracker and the metrics registry. */
public record Backends(ObjectStore store, Tracker tracker, MeterRegistry meters) {}
