package ai.promptline.activities;

import ai.promptline.ml.data.BenchmarkDataset;
import ai.promptline.ml.data.DatasetException;
import ai.promptline.ml.data.Datasets;
import ai.promptline.ml.data.Datum;
import ai.promptline.ml.data.Subsample;
import ai.promptline.workflows.api.DataActivities;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.SplitResult;
import ai.promptline.workflows.model.Stages.StageInput;
import java.nio.file.Path;
import java.util.List;

/**
 * Split stage: opens and validates the dataset, draws the few-shot sample exactly as the
 * reference (CPython's {@code random} seeded with the run seed), partitions base/novel and stores
 * the index at {@code runs/<key>/split.json}.
 */
public final class DataActivitiesImpl implements DataActivities {
  private final Backends backends;

  public DataActivitiesImpl(Backends backends) {
    this.backends = backends;
  }

  @Override
  public SplitResult split(StageInput run) {
    RunConfig c = run.config();
    BenchmarkDataset ds;
    try {
      ds = Datasets.open(c.dataset().name(), Path.of(c.dataset().root())); // validates before any training
    } catch (DatasetException e) {
      throw Failures.datasetError(e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw Failures.invalidInput(e.getMessage(), e);
    }
    String fingerprint = ds.fingerprint();
    if (c.dataset().fingerprint() != null && !c.dataset().fingerprint().isBlank()
        && !c.dataset().fingerprint().equals(fingerprint))
      throw Failures.datasetError("dataset '" + c.dataset().name() + "' at " + c.dataset().root()
          + " changed since the campaign was planned (fingerprint " + fingerprint + ", expected "
          + c.dataset().fingerprint() + "); re-submit the campaign to plan it against the current files", null);
    SplitIndex index;
    if (c.protocol().equals("base2novel")) {
      BenchmarkDataset.Prepared base = ds.prepare(c.shots(), c.seed(), Subsample.BASE);
      BenchmarkDataset.Prepared novel = ds.prepare(c.shots(), c.seed(), Subsample.NEW);
      index = new SplitIndex(ds.name(), ds.imageRoot().toString(), ds.template(), base.classNames(),
          novel.classNames(), items(ds, base.train()), items(ds, base.test()), items(ds, novel.test()));
    } else {
      BenchmarkDataset.Prepared all = ds.prepare(c.shots(), c.seed(), Subsample.ALL);
      index = new SplitIndex(ds.name(), ds.imageRoot().toString(), ds.template(), all.classNames(), List.of(),
          items(ds, all.train()), items(ds, all.test()), List.of());
    }
    BlobRef ref = backends.store().put("runs/" + run.runKey() + "/split.json", index.toJson());
    return new SplitResult(ref, fingerprint, index.template(), index.baseClasses(), index.novelClasses(),
        index.train().size(), index.baseTest().size(), index.novelTest().size());
  }

  private static List<SplitIndex.Item> items(BenchmarkDataset ds, List<Datum> items) {
    return items.stream()
        .map(d -> new SplitIndex.Item(ds.imageRoot().relativize(d.image()).toString().replace('\\', '/'), d.label()))
        .toList();
  }
}
