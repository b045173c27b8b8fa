package ai.promptline.activities;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.ml.data.BenchmarkDataset;
import ai.promptline.ml.data.DatasetException;
import ai.promptline.ml.data.Datasets;
import ai.promptline.ml.data.Datum;
import ai.promptline.ml.data.Subsample;
import ai.promptline.ml.methods.Methods;
import ai.promptline.workflows.api.DataActivities;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.SplitResult;
import ai.promptline.workflows.model.Stages.StageInput;
import ai.promptline.workflows.model.Stages.TargetSplit;
import java.nio.file.Path;
import java.util.List;

/**
 * Split stage: opens and validates the dataset, draws the few-shot sample exactly as the
 * reference (CPython's {@code random} seeded with the run seed), partitions base/novel and stores
 * the index at {@code runs/<key>/split.json}. Cross-dataset targets: the full test split of each
 * target, at {@code runs/<key>/targets/<dataset>.json}.
 */
public final class DataActivitiesImpl implements DataActivities {
  private final Backends backends;

  public DataActivitiesImpl(Backends backends) {
    this.backends = backends;
  }

  @Override
  public SplitResult split(StageInput run) {
    StageMeter meter = StageMeter.start();
    RunConfig c = run.config();
    BenchmarkDataset ds = open(c.dataset()); // validates before any training
    String fingerprint = ds.fingerprint();
    SplitIndex index;
    boolean val = usesValidation(c);
    if (c.protocol().equals(RunConfig.BASE2NOVEL)) {
      BenchmarkDataset.Prepared base = ds.prepare(c.shots(), c.seed(), Subsample.BASE);
      BenchmarkDataset.Prepared novel = ds.prepare(c.shots(), c.seed(), Subsample.NEW);
      index = new SplitIndex(ds.name(), ds.imageRoot().toString(), ds.template(), base.classNames(),
          novel.classNames(), items(ds, base.train()), items(ds, base.test()), items(ds, novel.test()),
          val ? items(ds, base.val()) : List.of());
    } else {
      BenchmarkDataset.Prepared all = ds.prepare(c.shots(), c.seed(), Subsample.ALL);
      index = new SplitIndex(ds.name(), ds.imageRoot().toString(), ds.template(), all.classNames(), List.of(),
          items(ds, all.train()), items(ds, all.test()), List.of(), val ? items(ds, all.val()) : List.of());
    }
    BlobRef ref = backends.store().put("runs/" + run.runKey() + "/split.json", index.toJson());
    return new SplitResult(ref, fingerprint, index.template(), index.baseClasses(), index.novelClasses(),
        index.train().size(), index.baseTest().size(), index.novelTest().size()).withCost(meter.finish());
  }

  /** Whether the run's method selects hyper-parameters on the few-shot val split (then the index stores it). */
  private static boolean usesValidation(RunConfig c) {
    try {
      return Methods.spec(c.method()).usesValidation();
    } catch (IllegalArgumentException e) {
      throw Failures.invalidInput(e.getMessage(), e);
    }
  }

  /**
   * A cross-dataset target: its full test split (no few-shot sampling, no class subsampling), with
   * its own labels, class names and template, stored at {@code runs/<key>/targets/<dataset>.json}.
   */
  @Override
  public TargetSplit targetSplit(StageInput run, DatasetRef target) {
    BenchmarkDataset ds = open(target);
    List<SplitIndex.Item> test = items(ds, ds.test());
    if (test.isEmpty())
      throw Failures.datasetError("target dataset '" + target.name() + "' at " + target.root()
          + " has no test images; a cross-dataset target is evaluated on its test split", null);
    TargetIndex index = new TargetIndex(ds.name(), ds.imageRoot().toString(), ds.template(), ds.classNames(), test);
    String key = TargetIndex.key(run.runKey(), ds.name());
    try {
      ObjectStore.checkKey(key); // the dataset's name is user input: it must not leave runs/<key>/targets/
    } catch (ObjectStore.StoreException e) {
      throw Failures.invalidInput("target dataset name '" + ds.name() + "' cannot name an object: " + e.getMessage()
          + "; rename the dataset (letters, digits, '.', '_', '-')", e);
    }
    BlobRef ref = backends.store().put(key, index.toJson());
    return new TargetSplit(ds.name(), ref, ds.fingerprint(), ds.template(), ds.classNames().size(), test.size());
  }

  /**
   * Opens and validates a dataset as planned: a broken dataset is a non-retryable
   * {@code DatasetError}, an unknown name {@code InvalidInput}, and a dataset whose fingerprint
   * differs from the one the campaign was planned with a {@code DatasetError}.
   */
  private static BenchmarkDataset open(DatasetRef ref) {
    BenchmarkDataset ds;
    try {
      ds = Datasets.open(ref.name(), Path.of(ref.root()));
    } catch (DatasetException e) {
      throw Failures.datasetError(e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw Failures.invalidInput(e.getMessage(), e);
    }
    String fingerprint = ds.fingerprint();
    if (ref.fingerprint() != null && !ref.fingerprint().isBlank() && !ref.fingerprint().equals(fingerprint))
      throw Failures.datasetError("dataset '" + ref.name() + "' at " + ref.root()
          + " changed since the campaign was planned (fingerprint " + fingerprint + ", expected "
          + ref.fingerprint() + "); re-submit the campaign to plan it against the current files", null);
    return ds;
  }

  private static List<SplitIndex.Item> items(BenchmarkDataset ds, List<Datum> items) {
    return items.stream()
        .map(d -> new SplitIndex.Item(ds.imageRoot().relativize(d.image()).toString().replace('\\', '/'), d.label()))
        .toList();
  }
}
