package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.store.ScratchCache;
import ai.promptline.activities.store.Tmpfs;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipWeights;
import ai.promptline.ml.clip.Safetensors;
import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import ai.promptline.ml.train.TensorBytes;
import ai.promptline.workflows.api.ComputeActivities;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.StageInput;
import ai.promptline.workflows.model.TrainParams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupt objects met by the real activities (synthetic images, a tiny random CLIP, CoOp for 3
 * epochs, the file store and tracker): a feature blob that fails verification is a cache miss,
 * recomputed bit-identically; a corrupt checkpoint is walked back past; each event is a warning on
 * the run ({@code promptline.warnings}, {@code integrity.corrupt_objects}); results are identical
 * to an undisturbed run. Records the activities cannot rebuild fail the run, naming the object; a
 * full scratch disk neither fails the run nor leaves a partial file.
 */
class CorruptionRecoveryTest {
  @TempDir Path dir;
  private LocalObjectStore store;
  private FileTracker tracker;
  private ModelCache models;
  private TestActivityEnvironment env;
  private ComputeActivities compute;
  private DataActivitiesImpl data;
  private SyntheticDataset.Generated source;
  private ModelRef model;
  private String experiment;

  @BeforeEach
  void setUp() throws Exception {
    source = SyntheticDataset.generate(dir.resolve("src"), new SyntheticSpec("SynthSource", 4, 2, 1, 3, 32, 1));
    Path weights = dir.resolve("tiny.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Safetensors.write(weights, ClipWeights.random(ClipConfig.tinyVit(), 4, m), ClipWeights.metadataFor(ClipConfig.tinyVit()));
    }
    model = new ModelRef("tiny", weights.toString(), ModelCache.sha256(weights));
    models = new ModelCache();
    use(new LocalObjectStore(dir.resolve("store")), ScratchCache.disabled());
  }

  /** (Re)creates the activities over {@code s} with scratch cache {@code scratch}. */
  private void use(LocalObjectStore s, ScratchCache scratch) {
    if (env != null) env.close();
    store = s;
    tracker = new FileTracker(dir.resolve("mlruns"));
    experiment = tracker.experimentId("integrity");
    Backends backends = new Backends(store, tracker, new SimpleMeterRegistry(), scratch);
    data = new DataActivitiesImpl(backends);
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

  /** A CoOp run of 3 epochs under run key {@code key}, with its own MLflow run. */
  private StageInput run(String key) {
    RunConfig c = new RunConfig(new DatasetRef("Synthetic", source.root().toString(), null), model, "coop", 2, 1, "base2novel",
        new TrainParams(3, 4, 0.5, 0.9, 5e-4, 1, 1e-5, 4, "a photo of a", 2));
    return new StageInput(key, c, tracker.createRun(experiment, key, Map.of()));
  }

  private record Outcome(Stages.SplitResult split, Stages.FeatureResult features, Stages.TrainResult trained,
      Stages.EvalResult eval, byte[] prompt) {}

  private Outcome pipeline(StageInput in) {
    Stages.SplitResult split = data.split(in);
    Stages.FeatureResult f = compute.cacheFeatures(in, split);
    Stages.TrainResult t = compute.train(new Stages.TrainInput(in, split, f));
    Stages.EvalResult e = compute.evaluate(new Stages.EvalInput(in, split, f, t));
    return new Outcome(split, f, t, e, store.get(t.prompt()));
  }

  /** Flips one bit of an object's bytes in place (the digest header stays: bit rot). */
  private void flipBit(String key) throws Exception {
    Path p = Path.of(store.describe().substring(5)).resolve(key);
    byte[] b = Files.readAllBytes(p);
    b[b.length - 7] ^= 0x04;
    Files.write(p, b);
  }

  /** Cuts the last {@code n} bytes off an object. */
  private void truncate(String key, int n) throws Exception {
    Path p = Path.of(store.describe().substring(5)).resolve(key);
    byte[] b = Files.readAllBytes(p);
    Files.write(p, Arrays.copyOf(b, b.length - n));
  }

  private List<String> warnings(String runId) {
    String tag = tracker.getRun(runId).tags().get(Integrity.TAG);
    return tag == null ? List.of() : List.of(tag.split("\n"));
  }

  private List<Double> corruptCount(String runId) {
    return tracker.metricHistory(runId, Integrity.METRIC).stream().map(Metric::value).toList();
  }

  private static void assertSameResults(Outcome expected, Outcome actual) {
    assertEquals(expected.eval().withCost(null), actual.eval().withCost(null)); // the results, not how long they took
    try (NDManager m = NDManager.newBaseManager()) { // the prompt's metadata names its run; its tensors are the result
      Map<String, ai.djl.ndarray.NDArray> a = TensorBytes.decode(expected.prompt(), m).tensors();
      Map<String, ai.djl.ndarray.NDArray> b = TensorBytes.decode(actual.prompt(), m).tensors();
      assertEquals(a.keySet(), b.keySet());
      for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), "bit-identical " + k);
    }
    assertEquals(expected.trained().finalLoss(), actual.trained().finalLoss());
    assertEquals(expected.features().train().sha256(), actual.features().train().sha256());
    assertEquals(expected.features().baseTest().sha256(), actual.features().baseTest().sha256());
    assertEquals(expected.features().novelTest().sha256(), actual.features().novelTest().sha256());
  }

  @Test
  void aCorruptFeatureBlob_isACacheMiss_recomputedBitIdentically_withAWarningOnTheRun() throws Exception {
    StageInput a = run("A");
    Outcome reference = pipeline(a);
    Stages.FeatureResult f = reference.features();
    flipBit(f.train().key());
    truncate(f.baseTest().key(), 100);

    StageInput b = run("B");
    Outcome again = pipeline(b);
    assertFalse(again.features().cacheHit(), "a corrupt blob is a miss");
    assertSameResults(reference, again);
    List<String> w = warnings(b.mlflowRunId());
    assertEquals(2, w.size(), w.toString());
    assertTrue(w.stream().anyMatch(l -> l.startsWith("feature blob " + f.train().key() + " corrupt (sha256 "
        + f.train().sha256().substring(0, 12) + " recorded")), w.toString());
    assertTrue(w.stream().anyMatch(l -> l.contains(f.baseTest().key()) && l.endsWith("cache miss, recomputed and re-published")),
        w.toString());
    assertEquals(List.of(1.0, 2.0), corruptCount(b.mlflowRunId()));
    assertEquals(List.of(), warnings(a.mlflowRunId()));
    for (String k : store.list("features/")) assertTrue(store.read(k).orElseThrow().verified(), "re-published: " + k);

    // the next run finds them intact: a hit, no warning
    StageInput c = run("C");
    assertTrue(compute.cacheFeatures(c, data.split(c)).cacheHit());
    assertEquals(List.of(), warnings(c.mlflowRunId()));
  }

  @Test
  void aFeatureBlobCorruptedAfterCaching_isRecomputedByTheStageThatReadsIt() throws Exception {
    Outcome reference = pipeline(run("R"));
    StageInput a = run("A");
    Stages.SplitResult split = data.split(a);
    Stages.FeatureResult f = compute.cacheFeatures(a, split);
    assertTrue(f.cacheHit());
    flipBit(f.train().key());
    Stages.TrainResult t = compute.train(new Stages.TrainInput(a, split, f));
    truncate(f.novelTest().key(), 1);
    Stages.EvalResult e = compute.evaluate(new Stages.EvalInput(a, split, f, t));
    assertSameResults(reference, new Outcome(split, f, t, e, store.get(t.prompt())));
    assertEquals(2, warnings(a.mlflowRunId()).size(), warnings(a.mlflowRunId()).toString());
    assertEquals(List.of(1.0, 2.0), corruptCount(a.mlflowRunId()));
    assertArrayEquals(store.get(reference.features().train()), store.get(f.train()), "re-published with the same bytes");
  }

  @Test
  void aCorruptCheckpoint_resumesFromThePreviousGoodOne_bitIdentically() throws Exception {
    StageInput a = run("A");
    Outcome first = pipeline(a);
    String ckpt = "runs/A/ckpt/";
    List<String> ckpts = store.list(ckpt);
    assertEquals(3, ckpts.size());
    byte[] epoch3 = store.find(ckpts.get(2)).orElseThrow();

    flipBit(ckpts.get(2));
    Stages.TrainInput input = new Stages.TrainInput(a, first.split(), first.features());
    Stages.TrainResult t = compute.train(input);
    assertEquals(2, t.resumedFromEpoch(), "walked back past the corrupt epoch 3");
    assertArrayEquals(first.prompt(), store.get(t.prompt()));
    assertArrayEquals(epoch3, store.find(ckpts.get(2)).orElseThrow(), "epoch 3 written again, intact");
    assertEquals(List.of(1L, 2L, 3L), tracker.metricHistory(a.mlflowRunId(), "loss").stream().map(Metric::step).toList(),
        "each epoch's loss once");
    List<String> w = warnings(a.mlflowRunId());
    assertEquals(1, w.size(), w.toString());
    assertTrue(w.get(0).startsWith("checkpoint " + ckpts.get(2) + " corrupt") && w.get(0).endsWith("resuming from epoch-00002.safetensors"),
        w.get(0));

    // the two newest corrupt: back to epoch 1
    truncate(ckpts.get(2), 50);
    flipBit(ckpts.get(1));
    assertEquals(1, compute.train(input).resumedFromEpoch());
    assertEquals(List.of(1.0, 2.0, 3.0), corruptCount(a.mlflowRunId()));

    // every checkpoint corrupt, or one written before digests (not trusted): from the start
    for (String k : ckpts) truncate(k, 10);
    Stages.TrainResult fresh = compute.train(input);
    assertEquals(0, fresh.resumedFromEpoch());
    assertArrayEquals(first.prompt(), store.get(fresh.prompt()));
    Path legacy = Path.of(store.describe().substring(5)).resolve(ckpts.get(2));
    Files.write(legacy, epoch3); // a headerless file: an older version's checkpoint
    assertFalse(store.read(ckpts.get(2)).orElseThrow().verified());
    assertEquals(2, compute.train(input).resumedFromEpoch());
    assertEquals(3, tracker.metricHistory(a.mlflowRunId(), "loss").size());
    assertEquals(first.eval().withCost(null), compute.evaluate(new Stages.EvalInput(a, first.split(), first.features(), fresh)).withCost(null));
  }

  @Test
  void recordsTheActivitiesCannotRebuild_failTheRunNonRetryably_namingTheObject() throws Exception {
    StageInput a = run("A");
    Outcome o = pipeline(a);
    flipBit(o.trained().prompt().key());
    ActivityFailure prompt = assertThrows(ActivityFailure.class,
        () -> compute.evaluate(new Stages.EvalInput(a, o.split(), o.features(), o.trained())));
    ApplicationFailure pf = assertInstanceOf(ApplicationFailure.class, prompt.getCause());
    assertEquals("CorruptObject", pf.getType());
    assertTrue(pf.isNonRetryable());
    assertTrue(pf.getOriginalMessage().contains("runs/A/prompt.safetensors") && pf.getOriginalMessage().contains("submit the campaign again"),
        pf.getOriginalMessage());

    truncate(o.split().index().key(), 20);
    ActivityFailure split = assertThrows(ActivityFailure.class, () -> compute.cacheFeatures(a, o.split()));
    ApplicationFailure sf = assertInstanceOf(ApplicationFailure.class, split.getCause());
    assertEquals("CorruptObject", sf.getType());
    assertTrue(sf.getOriginalMessage().contains("runs/A/split.json"), sf.getOriginalMessage());
    // the data stage run again rewrites it
    assertEquals(o.split().withCost(null), data.split(a).withCost(null));
    assertTrue(compute.cacheFeatures(a, o.split()).cacheHit());
  }

  @Test
  void aFullScratchDisk_neitherFailsTheRunNorLeavesAPartialFile() throws Exception {
    Outcome reference = pipeline(run("R"));
    long featureBytes = store.list("features/").stream().mapToLong(k -> store.stat(k).orElseThrow().size()).sum();
    try (Tmpfs disk = Tmpfs.mount(dir.resolve("scratch"), "1m")) {
      // fill the disk so that only the smallest blobs fit
      long room = Math.max(8192, featureBytes / 3);
      try (var out = Files.newOutputStream(disk.dir().resolve("filler"))) {
        byte[] chunk = new byte[4096];
        for (long w = 0; w < (1 << 20) - room; w += chunk.length) out.write(chunk);
      } catch (java.io.IOException full) {
        // already full
      }
      ScratchCache scratch = ScratchCache.open(disk.dir().resolve("cache"), 64 << 20);
      assertTrue(scratch.enabled());
      use(new LocalObjectStore(dir.resolve("store2")), scratch); // a fresh store: every blob computed and kept
      Outcome o = pipeline(run("S"));
      assertSameResults(reference, o);
      assertTrue(scratch.writeFailures() > 0, "the disk was full for some blob");
      List<String> left;
      try (Stream<Path> s = Files.walk(disk.dir().resolve("cache"))) {
        left = s.filter(Files::isRegularFile).map(p -> disk.dir().resolve("cache").relativize(p).toString()).toList();
      }
      assertTrue(left.stream().noneMatch(p -> p.startsWith("tmp")), "no temporary file left: " + left);
      for (String p : left)
        assertEquals(p.substring(p.lastIndexOf('/') + 1), ContentKeys.sha256Hex(Files.readAllBytes(disk.dir().resolve("cache").resolve(p))),
            "a whole entry: " + p);
      // the same worker's next run reads what it kept and the store for the rest: same results again
      Outcome next = pipeline(run("S2"));
      assertSameResults(reference, next);
      assertTrue(scratch.hits() > 0 || left.isEmpty(), "kept entries are used");
    }
  }

  @Test
  void resultAndLocationRecords_thatAreCorrupt_areNotTrusted() throws Exception {
    TrackingActivitiesImpl tracking = new TrackingActivitiesImpl(new Backends(store, tracker, new SimpleMeterRegistry()));
    StageInput a = run("A");
    Outcome o = pipeline(a);
    Stages.RunResult done = tracking.logRun(new Stages.LogInput(a, o.split(), o.features(), o.trained(), o.eval()));
    assertEquals(done, tracking.lookupFinished("A"));
    String result = TrackingActivitiesImpl.resultKey("A");
    flipBit(result);
    assertNull(tracking.lookupFinished("A"), "a corrupt commit marker: not finished, the run runs again");
    Path file = Path.of(store.describe().substring(5)).resolve(result);
    Files.write(file, TrackingActivitiesImpl.write(done)); // an older version's record, intact: trusted
    assertEquals(done, tracking.lookupFinished("A"));
    Files.writeString(file, "{\"runKey\":\"A\",\"status\":\"FINI"); // an older version's torn record
    assertNull(tracking.lookupFinished("A"));
    Files.write(file, TrackingActivitiesImpl.write(done));
    assertNull(tracking.lookupFinished("B"), "another run's record is not this run's");

    store.put(TrackingActivitiesImpl.locationKey("A"), TrackingActivitiesImpl.write(new TrackingActivitiesImpl.RunLocation(experiment,
        a.mlflowRunId())));
    truncate(TrackingActivitiesImpl.locationKey("A"), 5);
    tracking.closeIfRunning("A", "FAILED", "x"); // cannot locate the run: logged, no failure
    assertEquals("RUNNING", tracker.getRun(a.mlflowRunId()).status());
  }
}
