package ai.promptline.activities;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.promptline.activities.store.CorruptObjectException;
import ai.promptline.activities.store.ObjectStore.Blob;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.data.image.Transforms;
import ai.promptline.ml.data.image.UnreadableImageException;
import ai.promptline.ml.data.image.Transforms.ImageTransform;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.FittedMethod;
import ai.promptline.ml.methods.MethodContext;
import ai.promptline.ml.methods.MethodOptions;
import ai.promptline.ml.methods.Methods;
import ai.promptline.ml.methods.PromptMethod;
import ai.promptline.ml.train.Evaluator;
import ai.promptline.ml.train.FeatureExtractor;
import ai.promptline.ml.methods.MethodSpec;
import ai.promptline.ml.train.BatchSource;
import ai.promptline.ml.train.FeatureBatches;
import ai.promptline.ml.train.PixelBatches;
import ai.promptline.ml.train.PromptTrainer;
import ai.promptline.ml.train.LrSchedule;
import ai.promptline.ml.train.TensorBytes;
import ai.promptline.workflows.api.ComputeActivities;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.EvalInput;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.FeatureResult;
import ai.promptline.workflows.model.Stages.SplitResult;
import ai.promptline.workflows.model.Stages.StageInput;
import ai.promptline.workflows.model.Stages.TargetInput;
import ai.promptline.workflows.model.Stages.TargetResult;
import ai.promptline.workflows.model.Stages.TrainInput;
import ai.promptline.workflows.model.Stages.TrainResult;
import ai.promptline.workflows.model.TrainParams;
import io.micrometer.core.instrument.Timer;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import ai.promptline.activities.retry.KeepAlive;
import java.util.concurrent.atomic.AtomicReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feature caching, training and evaluation: the GPU-queue activities. Thin: the ML library does
 * the computing; this class moves tensors between it and the object store, heartbeats, and turns
 * bad input into non-retryable failures.
 */
public final class ComputeActivitiesImpl implements ComputeActivities {
  private static final Logger LOG = LoggerFactory.getLogger(ComputeActivitiesImpl.class);

  /** Heartbeat details of the train activity: what a retried attempt resumes from. */
  /**
   * Heartbeat details of a training: the resume point, and for {@code campaign watch} the epochs
   * planned and the newest epoch's loss (null before the first epoch ends).
   */
  @com.fasterxml.jackson.annotation.JsonIgnoreProperties(ignoreUnknown = true)
  public record TrainProgress(int epochsDone, String checkpointKey, Integer epochs, Double loss) {
    public TrainProgress(int epochsDone, String checkpointKey) {
      this(epochsDone, checkpointKey, null, null);
    }
  }

  /** Bump when feature extraction changes numerically (transform, tower). */
  static final String FEATURE_VERSION = "1";

  private final Backends backends;
  private final ModelCache models;
  private final int decodeThreads;
  private final DevicePool devices;
  private final PromptlineMetrics metrics;

  /** One compute slot on this machine's first device (gpu(0), or the CPU). */
  public ComputeActivitiesImpl(Backends backends, ModelCache models, int decodeThreads) {
    this(backends, models, decodeThreads, DevicePool.forSlots(1, backends.metrics()));
  }

  /** Each activity holds a slot of {@code devices} while it runs and computes on the slot's device. */
  public ComputeActivitiesImpl(Backends backends, ModelCache models, int decodeThreads, DevicePool devices) {
    this.backends = backends;
    this.models = models;
    this.decodeThreads = decodeThreads;
    this.devices = devices;
    this.metrics = backends.metrics();
  }

  // ---------------------------------------------------------------- features

  @Override
  public FeatureResult cacheFeatures(StageInput run, SplitResult split) {
    StageMeter meter = StageMeter.start();
    ai.djl.Device device;
    Timer.Sample timer = Timer.start(backends.meters());
    RunConfig c = run.config();
    SplitIndex index = splitIndex(run, split);
    Cached base;
    Cached novel;
    Cached train;
    Cached val;
    int dim;
    MethodSpec spec = spec(c);
    boolean pixels = !spec.input().cached();
    try (DevicePool.Slot slot = devices.acquire(); ModelCache.Lease lease = models.acquire(c.model(), slot.device())) {
      ClipModel clip = lease.model();
      int size = clip.config().imageResolution();
      Path root = Path.of(index.imageRoot());
      // a method that prompts the image tower runs it on pixels at every step: nothing to cache
      base = pixels ? Cached.NONE : cached(run, "test", size, 0, index.baseTest(), root, clip);
      novel = pixels || index.novelTest().isEmpty() ? Cached.NONE : cached(run, "test", size, 0, index.novelTest(), root, clip);
      // a fitted method (linear probe) sees every split through the test transform, and its val split
      train = spec.fitted() ? cached(run, "train", size, 0, index.train(), root, clip)
          : !pixels && c.train().epochs() > 0 ? cached(run, "train", size, c.train().augViews(), index.train(), root, clip)
          : Cached.NONE;
      val = spec.usesValidation() && !index.val().isEmpty() ? cached(run, "val", size, 0, index.val(), root, clip) : Cached.NONE;
      dim = clip.config().embedDim();
      device = StageMeter.deviceOf(clip);
    }
    int views = spec.fitted() ? 1 : Math.max(1, c.train().augViews());
    boolean hit = base.hit() && novel.hit() && train.hit() && val.hit();
    metrics.cache(PromptlineMetrics.FEATURES, hit);
    timer.stop(backends.meters().timer("promptline.stage", "stage", "features"));
    String key = ModelCache.key(base.ref() == null ? "" : base.ref().key(), novel.ref() == null ? "" : novel.ref().key(),
        train.ref() == null ? "" : train.ref().key());
    if (val.ref() != null) key = ModelCache.key(key, val.ref().key()); // keys of runs without val are unchanged
    // images encoded by this attempt: none when every part came from the cache
    long encoded = (base.hit() ? 0 : index.baseTest().size()) + (novel.hit() ? 0 : index.novelTest().size())
        + (train.hit() ? 0 : (long) index.train().size() * (spec.fitted() ? 1 : Math.max(1, c.train().augViews())))
        + (val.hit() ? 0 : index.val().size());
    return new FeatureResult(key, train.ref(), base.ref(), novel.ref(), dim, views, hit, val.ref())
        .withCost(meter.finish(encoded, null, null, device));
  }

  /** One cached feature blob and whether it was already there (absent parts count as hits). */
  private record Cached(BlobRef ref, boolean hit) {
    static final Cached NONE = new Cached(null, true);
  }

  /**
   * Features of {@code items} under one transform, content-keyed by model, dataset, items and
   * transform. {@code views == 0} means the test transform; otherwise {@code views} augmented
   * passes of the train transform seeded by the run seed, stacked {@code [V, N, E]}.
   */
  private Cached cached(StageInput run, String kind, int size, int views, List<SplitIndex.Item> items, Path root,
      ClipModel clip) {
    RunConfig c = run.config();
    return cached(run, c.dataset().name(), String.valueOf(c.dataset().fingerprint()), kind, size, views, items, root, clip);
  }

  /**
   * As above for any dataset of the run (the source, or a cross-dataset target). A stored blob that
   * fails verification, or one written before digests were recorded, is a cache miss: the features
   * are computed again and re-published under the same key (a corrupt one with a warning on the run).
   */
  private Cached cached(StageInput run, String dataset, String fingerprint, String kind, int size, int views,
      List<SplitIndex.Item> items, Path root, ClipModel clip) {
    RunConfig c = run.config();
    StringBuilder list = new StringBuilder();
    for (SplitIndex.Item i : items) list.append(i.path()).append('\t').append(i.label()).append('\n');
    String transform = views == 0 ? "test" + size : "train" + size + "x" + views + "s" + c.seed();
    // the precision joins the model digest only when not fp32, so fp32 cache keys are unchanged
    String model = c.model().isFp32() ? c.model().sha256() : c.model().sha256() + "@" + c.model().precision();
    String key = "features/" + ModelCache.key(FEATURE_VERSION, model, dataset, fingerprint, transform,
        ModelCache.key(list.toString())) + ".safetensors";
    Optional<Blob> existing;
    try {
      existing = backends.scratch().read(backends.store(), key);
    } catch (CorruptObjectException e) {
      warn(run, Integrity.line("feature blob", e, "cache miss, recomputed and re-published"));
      existing = Optional.empty();
    }
    if (existing.isPresent() && existing.get().verified())
      return new Cached(new BlobRef(key, existing.get().sha256(), existing.get().data().length), true);
    if (existing.isPresent()) LOG.info("feature blob {} has no recorded SHA-256 (an older version wrote it): recomputed", key);
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    List<Path> paths = items.stream().map(i -> root.resolve(i.path())).toList();
    try (NDManager m = NDManager.newBaseManager(clip.device())) {
      List<NDArray> stacked = new ArrayList<>();
      int passes = Math.max(1, views);
      for (int v = 0; v < passes; v++) {
        ImageTransform t = views == 0 ? Transforms.test(size) : Transforms.train(size, c.seed());
        int pass = v;
        try {
          stacked.add(FeatureExtractor.extract(clip, paths, t, v, m, 64, decodeThreads,
              done -> ctx.heartbeat(kind + " view " + pass + ": " + done + "/" + paths.size())));
        } catch (UnreadableImageException e) {
          throw unreadable(dataset, root, e);
        }
      }
      NDArray all = views == 0 ? stacked.get(0) : NDArrays.stack(new NDList(stacked));
      Map<String, String> meta = Map.of("kind", kind, "transform", transform, "items", String.valueOf(items.size()));
      byte[] bytes = TensorBytes.encode(Map.of("features", all), meta);
      BlobRef ref = backends.store().put(key, bytes);
      backends.scratch().keep(key, ref, bytes); // this worker reads them next (train, evaluate)
      return new Cached(ref, false);
    }
  }

  // ---------------------------------------------------------------- training

  @Override
  public TrainResult train(TrainInput input) {
    StageMeter meter = StageMeter.start();
    long started = System.currentTimeMillis();
    RunConfig c = input.run().config();
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    // while a store or tracker call waits for its service, heartbeats re-send the latest progress
    // (first that of the previous attempt), so a resume point is never overwritten by the wait
    AtomicReference<TrainProgress> progress = new AtomicReference<>(ctx.getHeartbeatDetails(TrainProgress.class).orElse(null));
    try (DevicePool.Slot slot = devices.acquire();
        KeepAlive.Scope keepAlive = KeepAlive.install(() -> ctx.heartbeat(progress.get()));
        ModelCache.Leases lease = models.acquireAll(c.frozenModels(), slot.device());
        NDManager m = NDManager.newBaseManager(slot.device())) {
      StageMeter.Steps steps = new StageMeter.Steps();
      TrainResult r = train(input, started, ctx, progress, splitIndex(input.run(), input.split()), lease, m, steps);
      // images: every training item once per epoch run by this attempt (a fitted method: its fit's items)
      long items = input.split().trainItems();
      long images = r.epochs() > 0 ? (r.epochs() - r.resumedFromEpoch()) * items : r.prompt() != null ? items : 0;
      return r.withCost(meter.finish(images, steps.count(), steps.meanMillis(), slot.device()));
    }
  }

  private TrainResult train(TrainInput input, long started, ActivityExecutionContext ctx,
      AtomicReference<TrainProgress> progress, SplitIndex index, ModelCache.Leases lease, NDManager m, StageMeter.Steps steps) {
    StageInput run = input.run();
    RunConfig c = run.config();
    TrainParams p = c.train();
    try (PromptMethod method = newMethod(c, lease, m, trainingSet(index))) {
      Map<String, String> env = Provenance.environment(m);
      if (method instanceof FittedMethod fitted) return fit(run, input, index, fitted, lease.model(0), m, env, started);
      if (method.parameters().isEmpty() || p.epochs() == 0)
        return new TrainResult(null, 0, 0, Double.NaN, 0, System.currentTimeMillis() - started, 0, env);
      int[] labels = index.train().stream().mapToInt(SplitIndex.Item::label).toArray();
      ClassSet classes = new ClassSet(index.baseClasses(), index.template(), index.dataset());

      Map<String, String> resumedMetadata = new LinkedHashMap<>();
      PromptTrainer.Resume resume = resumePoint(run, ctx, m, resumedMetadata);
      Map<Long, Metric> loggedLoss = EpochHistory.logged(backends.tracker(), run.mlflowRunId(), EpochHistory.LOSS);
      Map<Long, Metric> loggedLr = EpochHistory.logged(backends.tracker(), run.mlflowRunId(), EpochHistory.LR);
      // the checkpoint counts only with its epochs' metrics: log what the tracker lacks (a metric call
      // that failed after an older version wrote the checkpoint first), with the original timestamps
      EpochHistory history = resumedMetadata.containsKey(EpochHistory.METADATA_KEY) ? EpochHistory.decode(resumedMetadata)
          : EpochHistory.fromTracker(loggedLoss, loggedLr, resume.startEpoch());
      history.truncate(resume.startEpoch());
      List<Metric> missing = history.missingFrom(loggedLoss, loggedLr);
      if (!missing.isEmpty()) {
        backends.tracker().log(run.mlflowRunId(), Map.of(), missing, Map.of());
        for (Metric x : missing) (x.key().equals(EpochHistory.LOSS) ? loggedLoss : loggedLr).put(x.step(), x);
      }
      String prefix = "runs/" + run.runKey() + "/ckpt/";
      PromptTrainer.Listener listener = new PromptTrainer.Listener() {
        private String lastCheckpoint = progress.get() == null ? null : progress.get().checkpointKey();
        private Double lastLoss = progress.get() == null ? null : progress.get().loss();
        private long epochStarted = System.nanoTime();

        @Override
        public void epochEnd(int epoch, double loss, double lr, Map<String, NDArray> state) {
          long step = epoch + 1;
          Metric lossPoint = loggedLoss.get(step);
          Metric lrPoint = loggedLr.get(step);
          long now = System.currentTimeMillis();
          // one timestamp per (run, step): a repeated call sends identical rows, which the tracker stores once
          EpochHistory.Point point = new EpochHistory.Point(step, loss, lr, lossPoint != null ? lossPoint.timestamp() : now);
          List<Metric> toLog = new ArrayList<>(2);
          if (lossPoint == null) toLog.add(point.metrics().get(0));
          if (lrPoint == null) toLog.add(point.metrics().get(1));
          // metrics first: a checkpoint is published only once its epoch's metrics are durable
          if (!toLog.isEmpty()) backends.tracker().log(run.mlflowRunId(), Map.of(), toLog, Map.of());
          for (Metric x : toLog) (x.key().equals(EpochHistory.LOSS) ? loggedLoss : loggedLr).put(step, x);
          history.add(point);
          String key = prefix + String.format("epoch-%05d.safetensors", step);
          byte[] ckpt = TensorBytes.encode(state,
              Map.of("epochsDone", String.valueOf(step), EpochHistory.METADATA_KEY, history.encode()));
          backends.scratch().keep(key, backends.store().put(key, ckpt), ckpt);
          metrics.epoch(c.method(), java.time.Duration.ofNanos(System.nanoTime() - epochStarted));
          epochStarted = System.nanoTime();
          lastCheckpoint = key;
          lastLoss = loss;
          progress.set(new TrainProgress(epoch + 1, key, p.epochs(), loss));
          ctx.heartbeat(progress.get());
          steps.resume(); // the epoch's metric and checkpoint writes are not step time
        }

        @Override
        public void batchEnd(int epoch, int batch) {
          steps.step();
          progress.set(new TrainProgress(epoch, lastCheckpoint, p.epochs(), lastLoss));
          ctx.heartbeat(progress.get()); // throttled by the SDK
        }
      };
      PromptTrainer.Settings settings = new PromptTrainer.Settings(p.epochs(), p.batchSize(),
          new LrSchedule(p.lr(), p.epochs(), p.warmupEpochs(), p.warmupLr()), p.momentum(), p.weightDecay(), c.seed());
      PromptTrainer.Outcome out;
      try (BatchSource source = trainSource(run, input, index, lease.model(0), labels, m)) {
        steps.resume();
        out = PromptTrainer.train(method, classes, source, settings, resume, listener);
      } catch (PromptTrainer.DivergedException e) {
        throw Failures.invalidInput(e.getMessage(), e);
      } catch (UnreadableImageException e) {
        throw unreadable(c.dataset().name(), Path.of(index.imageRoot()), e);
      }
      if (out.recomputedSteps() > 0) {
        backends.meters().counter("promptline.train.recomputed_steps", "method", c.method()).increment(out.recomputedSteps());
      }
      backends.tracker().log(run.mlflowRunId(), Map.of(), List.of(new Metric("train.recomputed_steps",
          out.recomputedSteps(), out.epochs(), System.currentTimeMillis())), Map.of());
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("method", c.method());
      meta.put("runKey", run.runKey());
      meta.put("epochs", String.valueOf(out.epochs()));
      BlobRef prompt = backends.store().put("runs/" + run.runKey() + "/prompt.safetensors",
          TensorBytes.encode(method.stateDict(), meta));
      return new TrainResult(prompt, out.epochs(), out.resumedFromEpoch(), out.finalLoss(), method.trainableParams(),
          System.currentTimeMillis() - started, out.recomputedSteps(), env);
    }
  }

  /**
   * A fitted method (linear probe): one fit on the cached train and val features, no epochs, loss or
   * checkpoints (a retried attempt fits again: seconds); the chosen hyper-parameters and the val
   * accuracy go to MLflow, the fitted state becomes the prompt artifact as a trained method's does.
   */
  private TrainResult fit(StageInput run, TrainInput input, SplitIndex index, FittedMethod method, ClipModel clip,
      NDManager m, Map<String, String> env, long started) {
    RunConfig c = run.config();
    if (input.features().val() == null || index.val().isEmpty())
      throw Failures.invalidInput("method '" + c.method() + "' selects its hyper-parameters on the few-shot val split, but"
          + " the split has no val items (dataset '" + c.dataset().name() + "' at " + c.dataset().root() + "); give the"
          + " dataset a val split", null);
    MethodSpec spec = spec(c);
    ClassSet classes = new ClassSet(index.baseClasses(), index.template());
    FittedMethod.Fit fit;
    Path root = Path.of(index.imageRoot());
    int size = clip.config().imageResolution();
    try (BatchSource train = features(run, spec, input.features().train(), index.train(), m,
            () -> cached(run, "train", size, 0, index.train(), root, clip));
        BatchSource val = features(run, spec, input.features().val(), index.val(), m,
            () -> cached(run, "val", size, 0, index.val(), root, clip))) {
      Activity.getExecutionContext().heartbeat(new TrainProgress(0, null));
      fit = method.fit(classes, train, val);
    } catch (IllegalArgumentException e) {
      throw Failures.invalidInput(e.getMessage(), e);
    }
    long now = TrackingActivitiesImpl.metricTimestamp();
    List<Metric> metrics = new ArrayList<>();
    fit.metrics().forEach((k, v) -> metrics.add(new Metric(k, v, 0, now)));
    // a retried attempt fits the same again: log once
    if (metrics.isEmpty() || backends.tracker().metricHistory(run.mlflowRunId(), metrics.get(0).key()).isEmpty())
      backends.tracker().log(run.mlflowRunId(), fit.params(), metrics, Map.of());
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("method", c.method());
    meta.put("runKey", run.runKey());
    meta.put("epochs", "0");
    fit.params().forEach(meta::put);
    BlobRef prompt = backends.store().put("runs/" + run.runKey() + "/prompt.safetensors",
        TensorBytes.encode(method.stateDict(), meta));
    return new TrainResult(prompt, 0, 0, Double.NaN, method.trainableParams(), System.currentTimeMillis() - started, 0, env);
  }

  /** Cached features of {@code items} as the method's batches carry them (normalised or raw). */
  private BatchSource features(StageInput run, MethodSpec spec, BlobRef ref, List<SplitIndex.Item> items, NDManager m,
      Supplier<Cached> recompute) {
    NDArray raw = TensorBytes.decode(featureBytes(run, ref, recompute), m).tensors().get("features");
    return new FeatureBatches(spec.input().batchFeatures(raw), items.stream().mapToInt(SplitIndex.Item::label).toArray());
  }

  /**
   * The bytes of a feature blob the run cached earlier: from the worker's scratch copy or the store,
   * verified. One that became corrupt since is a cache miss here too: {@code recompute} extracts it
   * again under the same content key (features are deterministic, so the bytes are the same).
   */
  private byte[] featureBytes(StageInput run, BlobRef ref, Supplier<Cached> recompute) {
    try {
      return backends.scratch().get(backends.store(), ref);
    } catch (CorruptObjectException e) {
      warn(run, Integrity.line("feature blob", e, "cache miss, recomputed and re-published"));
      BlobRef again = recompute.get().ref();
      if (!again.sha256().equals(ref.sha256()))
        LOG.warn("run {}: recomputed features {} hash to {} but the run cached {} before: extraction is not"
            + " bit-reproducible on this worker", run.runKey(), ref.key(), again.sha256(), ref.sha256());
      return backends.scratch().get(backends.store(), again);
    }
  }

  /**
   * The training batches: cached augmented features for methods that leave the image tower frozen,
   * or pixels with a fresh seeded crop and flip every epoch for methods that prompt it.
   */
  private BatchSource trainSource(StageInput run, TrainInput input, SplitIndex index, ClipModel clip, int[] labels,
      NDManager m) {
    RunConfig c = run.config();
    Path root = Path.of(index.imageRoot());
    int size = clip.config().imageResolution();
    if (spec(c).input() == MethodSpec.Input.PIXELS) {
      List<Path> paths = index.train().stream().map(i -> root.resolve(i.path())).toList();
      return new PixelBatches(paths, labels, Transforms.train(size, c.seed()), decodeThreads);
    }
    byte[] bytes = featureBytes(run, input.features().train(),
        () -> cached(run, "train", size, c.train().augViews(), index.train(), root, clip));
    NDArray feats = spec(c).input().batchFeatures(TensorBytes.decode(bytes, m).tensors().get("features"));
    return new FeatureBatches(feats, labels);
  }

  /**
   * The newest good checkpoint under the run's prefix (heartbeats are throttled, so the store may be
   * ahead of the last one; the heartbeat's key is used only when the listing is empty). Walks back
   * past checkpoints that fail verification (each deleted, with a warning on the run: training
   * writes that epoch again) and past ones written before digests were recorded (not trusted); none
   * left means a fresh start. Resuming is bit-exact, so either way the result is the same.
   */
  private PromptTrainer.Resume resumePoint(StageInput run, ActivityExecutionContext ctx, NDManager m,
      Map<String, String> metadataOut) {
    List<String> ckpts = new ArrayList<>(backends.store().list("runs/" + run.runKey() + "/ckpt/"));
    Optional<TrainProgress> hb = ctx.getHeartbeatDetails(TrainProgress.class);
    if (ckpts.isEmpty() && hb.isPresent() && hb.get().checkpointKey() != null) ckpts.add(hb.get().checkpointKey());
    for (int i = ckpts.size() - 1; i >= 0; i--) {
      String key = ckpts.get(i);
      String earlier = i > 0 ? "resuming from " + ckpts.get(i - 1).substring(ckpts.get(i - 1).lastIndexOf('/') + 1)
          : "training from the start";
      try {
        Optional<Blob> blob = backends.scratch().read(backends.store(), key);
        if (blob.isEmpty()) continue; // deleted meanwhile
        if (!blob.get().verified()) {
          LOG.info("run {}: checkpoint {} has no recorded SHA-256 (an older version wrote it): not trusted, {}",
              run.runKey(), key, earlier);
          continue;
        }
        var contents = TensorBytes.decode(blob.get().data(), m);
        metadataOut.putAll(contents.metadata());
        int epochs = Integer.parseInt(contents.metadata().get("epochsDone"));
        return new PromptTrainer.Resume(epochs, contents.tensors());
      } catch (CorruptObjectException e) {
        warn(run, Integrity.line("checkpoint", e, earlier));
        try {
          backends.store().delete(key);
        } catch (RuntimeException ignored) {
          // training overwrites it when it passes that epoch again
        }
      }
    }
    return PromptTrainer.Resume.fresh();
  }

  // ---------------------------------------------------------------- evaluation

  @Override
  public EvalResult evaluate(EvalInput input) {
    StageMeter meter = StageMeter.start();
    StageInput run = input.run();
    RunConfig c = run.config();
    SplitIndex index = splitIndex(run, input.split());
    try (DevicePool.Slot slot = devices.acquire();
        ModelCache.Leases lease = models.acquireAll(c.frozenModels(), slot.device());
        NDManager m = NDManager.newBaseManager(slot.device());
        PromptMethod method = newMethod(c, lease, m, trainingSet(index))) {
      loadTrained(run, method, input.trained(), m);
      Path root = Path.of(index.imageRoot());
      ClipModel clip = lease.model(0);
      int size = clip.config().imageResolution();
      Evaluator.Accuracy base = accuracy(run, method, clip, new ClassSet(index.baseClasses(), index.template(), index.dataset()), input.features().baseTest(),
          index.baseTest(), root, m, () -> cached(run, "test", size, 0, index.baseTest(), root, clip));
      Evaluator.Accuracy novel = index.novelTest().isEmpty() ? new Evaluator.Accuracy(0, 0)
          : accuracy(run, method, clip, new ClassSet(index.novelClasses(), index.template(), index.dataset()), input.features().novelTest(), index.novelTest(), root, m,
              () -> cached(run, "test", size, 0, index.novelTest(), root, clip));
      double b = base.percent();
      double n = novel.percent();
      return new EvalResult(b, n, EvalResult.harmonicMean(b, n), base.total(), novel.total())
          .withCost(meter.finish((long) base.total() + novel.total(), null, null, StageMeter.deviceOf(clip)));
    }
  }

  /**
   * Cross-dataset: the target's test features go through the same content-keyed cache as a
   * source's (model, target name and fingerprint, transform, item list), so every run with the same
   * model and target reuses them; the prompt trained on the source is then evaluated unchanged on
   * the target's classes with the target's template.
   */
  @Override
  public TargetResult evaluateTarget(TargetInput input) {
    StageMeter meter = StageMeter.start();
    Timer.Sample timer = Timer.start(backends.meters());
    StageInput run = input.run();
    RunConfig c = run.config();
    TargetIndex index;
    try {
      index = TargetIndex.fromJson(backends.store().get(input.split().index()));
    } catch (CorruptObjectException e) {
      throw Failures.corruptObject(e, "submit the campaign again: the data stage rewrites the target index");
    }
    try (DevicePool.Slot slot = devices.acquire();
        ModelCache.Leases lease = models.acquireAll(c.frozenModels(), slot.device());
        NDManager m = NDManager.newBaseManager(slot.device());
        PromptMethod method = newMethod(c, lease, m, null)) {
      ClipModel clip = lease.model(0);
      BlobRef ref = null;
      if (spec(c).input().cached()) {
        Cached features = cached(run, input.target().name(), input.split().fingerprint(), "target " + index.dataset(),
            clip.config().imageResolution(), 0, index.test(), Path.of(index.imageRoot()), clip);
        metrics.cache(PromptlineMetrics.FEATURES, features.hit());
        ref = features.ref();
      }
      loadTrained(run, method, input.trained(), m);
      Path targetRoot = Path.of(index.imageRoot());
      Evaluator.Accuracy acc = accuracy(run, method, clip, new ClassSet(index.classes(), index.template(), index.dataset()), ref, index.test(),
          targetRoot, m, () -> cached(run, input.target().name(), input.split().fingerprint(), "target " + index.dataset(),
              clip.config().imageResolution(), 0, index.test(), targetRoot, clip));
      return new TargetResult(index.dataset(), input.split().fingerprint(), acc.percent(), acc.total(),
          meter.finish((long) acc.total(), null, null, StageMeter.deviceOf(clip)));
    } finally {
      timer.stop(backends.meters().timer("promptline.stage", "stage", "target"));
    }
  }

  /**
   * Loads the learned tensors of {@code trained} into {@code method} (nothing for untrained methods).
   * A corrupt prompt fails the run (non-retryable): the train stage, run again, rewrites it from its
   * last checkpoint.
   */
  private void loadTrained(StageInput run, PromptMethod method, TrainResult trained, NDManager m) {
    if (trained == null || trained.prompt() == null) return;
    byte[] bytes;
    try {
      bytes = backends.scratch().get(backends.store(), trained.prompt());
    } catch (CorruptObjectException e) {
      throw Failures.corruptObject(e, "submit the campaign again: run " + run.runKey()
          + " resumes training from its last checkpoint and rewrites the prompt");
    }
    method.loadStateDict(TensorBytes.decode(bytes, m).tensors());
  }

  /**
   * Accuracy on test items: from their cached test features, or, for methods that prompt the image
   * tower, from pixels through the test transform.
   */
  private Evaluator.Accuracy accuracy(StageInput run, PromptMethod method, ClipModel clip, ClassSet classes,
      BlobRef features, List<SplitIndex.Item> items, Path root, NDManager m, Supplier<Cached> recompute) {
    RunConfig c = run.config();
    int[] labels = items.stream().mapToInt(SplitIndex.Item::label).toArray();
    BatchSource source;
    if (spec(c).input() == MethodSpec.Input.PIXELS) {
      List<Path> paths = items.stream().map(i -> root.resolve(i.path())).toList();
      source = new PixelBatches(paths, labels, Transforms.test(clip.config().imageResolution()), decodeThreads);
    } else {
      NDArray f = spec(c).input().batchFeatures(TensorBytes.decode(featureBytes(run, features, recompute), m).tensors()
          .get("features"));
      source = new FeatureBatches(f, labels);
    }
    try (source) {
      return Evaluator.accuracy(method, classes, source, m);
    } catch (UnreadableImageException e) {
      throw unreadable(classes.dataset() == null ? c.dataset().name() : classes.dataset(), root, e);
    }
  }

  /**
   * An image that does not decode fails the run at once (retrying reads the same bytes) with the
   * file's name; no cause is attached, so the message the run reports is this one, not the decoder's.
   */
  static io.temporal.failure.ApplicationFailure unreadable(String dataset, Path root, UnreadableImageException e) {
    return Failures.datasetError("dataset " + dataset + ": " + e.getMessage() + "; replace or remove the file (./promptline data verify "
        + dataset + " --root " + root + " --deep lists every image that does not decode)", null);
  }

  /** The run's split index, verified against the ref the data stage returned. */
  private SplitIndex splitIndex(StageInput run, SplitResult split) {
    try {
      return SplitIndex.fromJson(backends.store().get(split.index()));
    } catch (CorruptObjectException e) {
      throw Failures.corruptObject(e, "submit the campaign again: the data stage of run " + run.runKey() + " rewrites it");
    }
  }

  /** An integrity event of the run: the worker's log, and the run's MLflow tag and metric. */
  private void warn(StageInput run, String line) {
    Integrity.record(backends.tracker(), run.runKey(), run.mlflowRunId(), line);
  }

  private static MethodSpec spec(RunConfig c) {
    try {
      return Methods.spec(c.method());
    } catch (IllegalArgumentException e) {
      throw Failures.invalidInput(e.getMessage(), e);
    }
  }

  /**
   * The run's method: its registry spec's options, with the text context ({@code nCtx},
   * {@code ctxInit}) from the train params where the method has those options, and the run's other
   * options.
   */
  static MethodOptions options(RunConfig c) {
    MethodSpec spec = Methods.spec(c.method());
    Map<String, String> given = new LinkedHashMap<>();
    if (spec.defaults().containsKey("nCtx")) given.put("nCtx", String.valueOf(c.train().nCtx()));
    if (spec.defaults().containsKey("ctxInit")) given.put("ctxInit", c.train().ctxInit());
    given.putAll(c.options());
    return MethodOptions.of(spec, given);
  }

  /** The run's training items as a method sees them (label space and one label per sample id). */
  private static MethodContext.TrainingSet trainingSet(SplitIndex index) {
    return new MethodContext.TrainingSet(index.baseClasses(), index.train().stream().mapToInt(SplitIndex.Item::label).toArray());
  }

  /**
   * The run's method over its leased models: the main CLIP ({@code models.model(0)}) and, in the
   * order the run lists them, its experts.
   */
  private static PromptMethod newMethod(RunConfig c, ModelCache.Leases models, NDManager m, MethodContext.TrainingSet training) {
    List<MethodContext.Expert> experts = new ArrayList<>();
    for (int i = 0; i < c.experts().size(); i++) experts.add(new MethodContext.Expert(c.experts().get(i).name(), models.model(i + 1)));
    try {
      return Methods.create(c.method(), new MethodContext(models.model(0), ClipTokenizer.getDefault(), m, options(c), c.seed())
          .withTraining(training).withExperts(experts));
    } catch (IllegalArgumentException e) {
      throw Failures.invalidInput(e.getMessage(), e);
    }
  }
}
