package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipWeights;
import ai.promptline.ml.clip.Safetensors;
import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import ai.promptline.workflows.api.ComputeActivities;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.StageInput;
import ai.promptline.workflows.model.Stages.TargetInput;
import ai.promptline.workflows.model.Stages.TargetResult;
import ai.promptline.workflows.model.Stages.TargetSplit;
import ai.promptline.workflows.model.TrainParams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cross-dataset stages on real files: a synthetic source with 4 classes and a synthetic target
 * with 6 (so the label spaces differ), a tiny random CLIP, the file store and tracker. The target
 * index holds the target's full test split in its own label space; its features are cached
 * content-keyed and shared with any run that caches the same test split; a broken or changed
 * target is a non-retryable DatasetError.
 */
class CrossDatasetActivitiesTest {
  @TempDir Path dir;
  private LocalObjectStore store;
  private FileTracker tracker;
  private ModelCache models;
  private Backends backends;
  private TestActivityEnvironment env;
  private ComputeActivities compute;
  private DataActivitiesImpl data;
  private SyntheticDataset.Generated source;
  private SyntheticDataset.Generated target;
  private ModelRef model;

  @BeforeEach
  void setUp() throws Exception {
    store = new LocalObjectStore(dir.resolve("store"));
    tracker = new FileTracker(dir.resolve("mlruns"));
    models = new ModelCache();
    backends = new Backends(store, tracker, new SimpleMeterRegistry());
    data = new DataActivitiesImpl(backends);
    source = SyntheticDataset.generate(dir.resolve("src"), new SyntheticSpec("SynthSource", 4, 2, 1, 2, 32, 1));
    target = SyntheticDataset.generate(dir.resolve("tgt"), new SyntheticSpec("SynthTarget", 6, 1, 1, 3, 32, 2));
    Path weights = dir.resolve("tiny.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Safetensors.write(weights, ClipWeights.random(ClipConfig.tinyVit(), 4, m), ClipWeights.metadataFor(ClipConfig.tinyVit()));
    }
    model = new ModelRef("tiny", weights.toString(), ModelCache.sha256(weights));
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new ComputeActivitiesImpl(backends, models, 1));
    compute = env.newActivityStub(ComputeActivities.class, ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(2)).setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .build());
  }

  @AfterEach
  void tearDown() {
    env.close();
    models.close();
  }

  private DatasetRef targetRef(String fingerprint) {
    return new DatasetRef("Synthetic", target.root().toString(), fingerprint);
  }

  private StageInput run(String protocol, List<DatasetRef> targets) {
    RunConfig c = new RunConfig(new DatasetRef("Synthetic", source.root().toString(), null), model, "zsclip", 1, 1,
        protocol, new TrainParams(0, 8, 0, 0.9, 5e-4, 1, 1e-5, 4, "", 0), targets);
    return new StageInput("RK", c, null);
  }

  @Test
  void targetSplit_storesTheFullTestSplit_inTheTargetsOwnLabelSpace() {
    StageInput in = run("cross-dataset", List.of(targetRef(null)));
    Stages.SplitResult split = data.split(in);
    assertEquals(4, split.baseClasses().size(), "cross-dataset trains on all classes of the source");
    assertEquals(List.of(), split.novelClasses());

    TargetSplit ts = data.targetSplit(in, in.config().targets().get(0));
    assertEquals("SynthTarget", ts.dataset(), "the name the reader reports");
    assertEquals("runs/RK/targets/SynthTarget.json", ts.index().key());
    assertEquals(6, ts.classes());
    assertEquals(6 * 3, ts.testItems());
    assertEquals("a photo of a {}.", ts.template());
    TargetIndex index = TargetIndex.fromJson(store.get(ts.index()));
    assertEquals(target.classNames(), index.classes());
    assertNotEquals(split.baseClasses(), index.classes(), "the target's classes, not the source's");
    assertEquals(target.imageRoot().toString(), index.imageRoot());
    List<SplitIndex.Item> expected = target.splits().test().stream()
        .map(i -> new SplitIndex.Item(i.relPath(), i.label())).toList();
    assertEquals(expected, index.test(), "every test image with its label, in split order");
    assertEquals(List.of(0, 1, 2, 3, 4, 5), index.test().stream().map(SplitIndex.Item::label).distinct().sorted().toList());
    for (SplitIndex.Item i : index.test()) assertTrue(Files.isRegularFile(Path.of(index.imageRoot()).resolve(i.path())), i.path());
  }

  @Test
  void targetSplit_brokenOrChangedTarget_isANonRetryableDatasetError() throws Exception {
    StageInput in = run("cross-dataset", List.of(targetRef(null)));
    String fp = data.targetSplit(in, targetRef(null)).fingerprint();

    ApplicationFailure changed = assertThrows(ApplicationFailure.class, () -> data.targetSplit(in, targetRef("planned-fp")));
    assertEquals("DatasetError", changed.getType());
    assertTrue(changed.isNonRetryable());
    assertTrue(changed.getOriginalMessage().contains("changed since the campaign was planned"), changed.getOriginalMessage());

    Files.delete(target.imageRoot().resolve(target.splits().test().get(0).relPath()));
    ApplicationFailure broken = assertThrows(ApplicationFailure.class, () -> data.targetSplit(in, targetRef(fp)));
    assertEquals("DatasetError", broken.getType());
    assertTrue(broken.isNonRetryable());

    ApplicationFailure unknown = assertThrows(ApplicationFailure.class,
        () -> data.targetSplit(in, new DatasetRef("NoSuchSet", target.root().toString(), null)));
    assertEquals("InvalidInput", unknown.getType());
  }

  @Test
  void evaluateTarget_cachesFeaturesByContent_andEvaluatesOnTheTargetClasses() {
    StageInput in = run("cross-dataset", List.of(targetRef(null)));
    TargetSplit ts = data.targetSplit(in, in.config().targets().get(0));
    TargetInput input = new TargetInput(in, in.config().targets().get(0), ts, null);

    TargetResult first = compute.evaluateTarget(input);
    assertEquals("SynthTarget", first.dataset());
    assertEquals(ts.fingerprint(), first.fingerprint());
    assertEquals(18, first.total());
    assertTrue(first.accuracy() >= 0 && first.accuracy() <= 100, String.valueOf(first.accuracy()));
    List<String> cachedFeatures = store.list("features/");
    assertEquals(1, cachedFeatures.size(), cachedFeatures.toString());

    // another run with the same model and target (another seed) reuses the features, same result
    StageInput other = new StageInput("RK2", new RunConfig(in.config().dataset(), model, "zsclip", 1, 2, "cross-dataset",
        in.config().train(), in.config().targets()), null);
    TargetResult again = compute.evaluateTarget(new TargetInput(other, in.config().targets().get(0),
        data.targetSplit(other, in.config().targets().get(0)), null));
    assertEquals(new TargetResult(first.dataset(), first.fingerprint(), first.accuracy(), first.total()),
        new TargetResult(again.dataset(), again.fingerprint(), again.accuracy(), again.total()), "the same result (its cost aside)");
    assertEquals(cachedFeatures, store.list("features/"), "no new feature blob");
    assertEquals(1.0, backends.meters().counter(PromptlineMetrics.CACHE, "cache", PromptlineMetrics.FEATURES, "result", "hit").count());

    // a run trained on the target itself (protocol all) caches its test split under the same key
    StageInput onTarget = new StageInput("RK3", new RunConfig(new DatasetRef("Synthetic", target.root().toString(),
        ts.fingerprint()), model, "zsclip", 1, 1, "all", in.config().train()), null);
    Stages.FeatureResult f = compute.cacheFeatures(onTarget, data.split(onTarget));
    assertTrue(f.cacheHit(), "the target's test features were shared");
    assertEquals(cachedFeatures.get(0), f.baseTest().key());
  }
}
