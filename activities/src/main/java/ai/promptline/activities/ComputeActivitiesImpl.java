package ai.promptline.activities;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
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
import ai.promptline.workflows.model.ContentKeys;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Feature caching, training and evaluation: the GPU-queue activities. Thin: the ML library does
 * the computing; this class moves tensors between it and the object store, heartbeats, and turns
 * bad input into non-retryable failures.
 */
public final class ComputeActivitiesImpl implements ComputeActivities {
  /** Heartbeat details of the train activity: what a retried attempt resumes from. */
  public record TrainProgress(int epochsDone, String checkpointKey) {}

  /** Bump when feature extraction changes numerically (transform, tower). */
  static final String FEATURE_VERSION = "1";

  private final Backends backends;
  private final ModelCache models;
  private final int decodeThreads;

  public ComputeActivitiesImpl(Backends backends, ModelCache models, int decodeThreads) {
    this.backends = backends;
    this.models = models;
    this.decodeThreads = decodeThreads;
  }

  // ---------------------------------------------------------------- features

  @Override
  public FeatureResult cacheFeatures(StageInput run, SplitResult split) {
    Timer.Sample timer = Timer.start(backends.meters());
    RunConfig c = run.config();
    SplitIndex index = splitIndex(split);
    Cached base;
    Cached novel;
    Cached train;
    Cached val;
    int dim;
    MethodSpec spec = spec(c);
    boolean pixels = !spec.input().cached();
    try (ModelCache.Lease lease = models.acquire(c.model())) {
      ClipModel clip = lease.model();
      int size = clip.config().imageResolution();
      Path root = Path.of(index.imageRoot());
      // a method that prompts the image tower runs it on pixels at every step: nothing to cache
      base = pixels ? Cached.NONE : cached(c, "test", size, 0, index.baseTest(), root, clip);
      novel = pixels || index.novelTest().isEmpty() ? Cached.NONE : cached(c, "test", size, 0, index.novelTest(), root, clip);
      // a fitted method (linear probe) sees every split through the test transform, and its val split
      train = spec.fitted() ? cached(c, "train", size, 0, index.train(), root, clip)
          : !pixels && c.train().epochs() > 0 ? cached(c, "train", size, c.train().augViews(), index.train(), root, clip)
          : Cached.NONE;
      val = spec.usesValidation() && !index.val().isEmpty() ? cached(c, "val", size, 0, index.val(), root, clip) : Cached.NONE;
      dim = clip.config().embedDim();
    }
    int views = spec.fitted() ? 1 : Math.max(1, c.train().augViews());
    boolean hit = base.hit() && novel.hit() && train.hit() && val.hit();
    backends.meters().counter("promptline.features.cache", "result", hit ? "hit" : "miss").increment();
    timer.stop(backends.meters().timer("promptline.stage", "stage", "features"));
    String key = ModelCache.key(base.ref() == null ? "" : base.ref().key(), novel.ref() == null ? "" : novel.ref().key(),
        train.ref() == null ? "" : train.ref().key());
    if (val.ref() != null) key = ModelCache.key(key, val.ref().key()); // keys of runs without val are unchanged
    return new FeatureResult(key, train.ref(), base.ref(), novel.ref(), dim, views, hit, val.ref());
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
  private Cached cached(RunConfig c, String kind, int size, int views, List<SplitIndex.Item> items, Path root,
      ClipModel clip) {
    return cached(c, c.dataset().name(), String.valueOf(c.dataset().fingerprint()), kind, size, views, items, root, clip);
  }

  /** As above for any dataset of the run (the source, or a cross-dataset target). */
  private Cached cached(RunConfig c, String dataset, String fingerprint, String kind, int size, int views,
      List<SplitIndex.Item> items, Path root, ClipModel clip) {
    StringBuilder list = new StringBuilder();
    for (SplitIndex.Item i : items) list.append(i.path()).append('\t').append(i.label()).append('\n');
    String transform = views == 0 ? "test" + size : "train" + size + "x" + views + "s" + c.seed();
    // the precision joins the model digest only when not fp32, so fp32 cache keys are unchanged
    String model = c.model().isFp32() ? c.model().sha256() : c.model().sha256() + "@" + c.model().precision();
    String key = "features/" + ModelCache.key(FEATURE_VERSION, model, dataset, fingerprint, transform,
        ModelCache.key(list.toString())) + ".safetensors";
    Optional<byte[]> existing = backends.store().find(key);
    if (existing.isPresent())
      return new Cached(new BlobRef(key, ContentKeys.sha256Hex(existing.get()), existing.get().length), true);
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    List<Path> paths = items.stream().map(i -> root.resolve(i.path())).toList();
    try (NDManager m = NDManager.newBaseManager()) {
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
      return new Cached(backends.store().put(key, TensorBytes.encode(Map.of("features", all), meta)), false);
    }
  }

  // ---------------------------------------------------------------- training

  @Override
  public TrainResult train(TrainInput input) {
    long started = System.currentTimeMillis();
    StageInput run = input.run();
    RunConfig c = run.config();
    TrainParams p = c.train();
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    SplitIndex index = splitIndex(input.split());
    try (ModelCache.Leases lease = models.acquireAll(c.frozenModels());
        NDManager m = NDManager.newBaseManager();
        PromptMethod method = newMethod(c, lease, m, trainingSet(index))) {
      Map<String, String> env = Provenance.environment(m);
      if (method instanceof FittedMethod fitted) return fit(run, input, index, fitted, m, env, started);
      if (method.parameters().isEmpty() || p.epochs() == 0)
        return new TrainResult(null, 0, 0, Double.NaN, 0, System.currentTimeMillis() - started, 0, env);
      int[] labels = index.train().stream().mapToInt(SplitIndex.Item::label).toArray();
      ClassSet classes = new ClassSet(index.baseClasses(), index.template(), index.dataset());

      PromptTrainer.Resume resume = resumePoint(run.runKey(), ctx, m);
      Set<Long> logged = new HashSet<>();
      backends.tracker().metricHistory(run.mlflowRunId(), "loss").forEach(x -> logged.add(x.step()));
      String prefix = "runs/" + run.runKey() + "/ckpt/";
      PromptTrainer.Listener listener = new PromptTrainer.Listener() {
        private String lastCheckpoint;

        @Override
        public void epochEnd(int epoch, double loss, double lr, Map<String, NDArray> state) {
          String key = prefix + String.format("epoch-%05d.safetensors", epoch + 1);
          backends.store().put(key, TensorBytes.encode(state, Map.of("epochsDone", String.valueOf(epoch + 1))));
          long step = epoch + 1;
          if (!logged.contains(step)) {
            long now = System.currentTimeMillis();
            backends.tracker().log(run.mlflowRunId(), Map.of(),
                List.of(new Metric("loss", loss, step, now), new Metric("lr", lr, step, now)), Map.of());
          }
          backends.meters().counter("promptline.train.epochs", "method", c.method()).increment();
          lastCheckpoint = key;
          ctx.heartbeat(new TrainProgress(epoch + 1, key));
        }

        @Override
        public void batchEnd(int epoch, int batch) {
          ctx.heartbeat(new TrainProgress(epoch, lastCheckpoint)); // throttled by the SDK
        }
      };
      PromptTrainer.Settings settings = new PromptTrainer.Settings(p.epochs(), p.batchSize(),
          new LrSchedule(p.lr(), p.epochs(), p.warmupEpochs(), p.warmupLr()), p.momentum(), p.weightDecay(), c.seed());
      PromptTrainer.Outcome out;
      try (BatchSource source = trainSource(c, input, index, lease.model(0), labels, m)) {
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
  private TrainResult fit(StageInput run, TrainInput input, SplitIndex index, FittedMethod method, NDManager m,
      Map<String, String> env, long started) {
    RunConfig c = run.config();
    if (input.features().val() == null || index.val().isEmpty())
      throw Failures.invalidInput("method '" + c.method() + "' selects its hyper-parameters on the few-shot val split, but"
          + " the split has no val items (dataset '" + c.dataset().name() + "' at " + c.dataset().root() + "); give the"
          + " dataset a val split", null);
    MethodSpec spec = spec(c);
    ClassSet classes = new ClassSet(index.baseClasses(), index.template());
    FittedMethod.Fit fit;
    try (BatchSource train = features(spec, input.features().train(), index.train(), m);
        BatchSource val = features(spec, input.features().val(), index.val(), m)) {
      Activity.getExecutionContext().heartbeat(new TrainProgress(0, null));
      fit = method.fit(classes, train, val);
    } catch (IllegalArgumentException e) {
      throw Failures.invalidInput(e.getMessage(), e);
    }
    long now = System.currentTimeMillis();
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
  private BatchSource features(MethodSpec spec, BlobRef ref, List<SplitIndex.Item> items, NDManager m) {
    NDArray raw = TensorBytes.decode(backends.store().get(ref), m).tensors().get("features");
    return new FeatureBatches(spec.input().batchFeatures(raw), items.stream().mapToInt(SplitIndex.Item::label).toArray());
  }

  /**
   * The training batches: cached augmented features for methods that leave the image tower frozen,
   * or pixels with a fresh seeded crop and flip every epoch for methods that prompt it.
   */
  private BatchSource trainSource(RunConfig c, TrainInput input, SplitIndex index, ClipModel clip, int[] labels, NDManager m) {
    if (spec(c).input() == MethodSpec.Input.PIXELS) {
      Path root = Path.of(index.imageRoot());
      List<Path> paths = index.train().stream().map(i -> root.resolve(i.path())).toList();
      return new PixelBatches(paths, labels, Transforms.train(clip.config().imageResolution(), c.seed()), decodeThreads);
    }
    NDArray feats = spec(c).input().batchFeatures(TensorBytes.decode(backends.store().get(input.features().train()), m)
        .tensors().get("features"));
    return new FeatureBatches(feats, labels);
  }

  /**
   * Newest checkpoint: the one the last heartbeat named, else the newest under the run's prefix
   * (heartbeats are throttled, so the store may be ahead of them).
   */
  private PromptTrainer.Resume resumePoint(String runKey, ActivityExecutionContext ctx, NDManager m) {
    List<String> ckpts = backends.store().list("runs/" + runKey + "/ckpt/");
    Optional<TrainProgress> hb = ctx.getHeartbeatDetails(TrainProgress.class);
    String key = ckpts.isEmpty() ? null : ckpts.get(ckpts.size() - 1);
    if (key == null && hb.isPresent() && hb.get().checkpointKey() != null) key = hb.get().checkpointKey();
    if (key == null) return PromptTrainer.Resume.fresh();
    byte[] data = backends.store().find(key).orElseThrow(() -> Failures.invalidInput("checkpoint vanished", null));
    var contents = TensorBytes.decode(data, m);
    int epochs = Integer.parseInt(contents.metadata().get("epochsDone"));
    return new PromptTrainer.Resume(epochs, contents.tensors());
  }

  // ---------------------------------------------------------------- evaluation

  @Override
  public EvalResult evaluate(EvalInput input) {
    StageInput run = input.run();
    RunConfig c = run.config();
    SplitIndex index = splitIndex(input.split());
    try (ModelCache.Leases lease = models.acquireAll(c.frozenModels());
        NDManager m = NDManager.newBaseManager();
        PromptMethod method = newMethod(c, lease, m, trainingSet(index))) {
      loadTrained(method, input.trained(), m);
      Path root = Path.of(index.imageRoot());
      ClipModel clip = lease.model(0);
      Evaluator.Accuracy base = accuracy(c, method, clip, new ClassSet(index.baseClasses(), index.template(), index.dataset()), input.features().baseTest(),
          index.baseTest(), root, m);
      Evaluator.Accuracy novel = index.novelTest().isEmpty() ? new Evaluator.Accuracy(0, 0)
          : accuracy(c, method, clip, new ClassSet(index.novelClasses(), index.template(), index.dataset()), input.features().novelTest(), index.novelTest(), root, m);
      double b = base.percent();
      double n = novel.percent();
      return new EvalResult(b, n, EvalResult.harmonicMean(b, n), base.total(), novel.total());
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
    Timer.Sample timer = Timer.start(backends.meters());
    StageInput run = input.run();
    RunConfig c = run.config();
    TargetIndex index = TargetIndex.fromJson(backends.store().get(input.split().index()));
    try (ModelCache.Leases lease = models.acquireAll(c.frozenModels());
        NDManager m = NDManager.newBaseManager();
        PromptMethod method = newMethod(c, lease, m, null)) {
      ClipModel clip = lease.model(0);
      BlobRef ref = null;
      if (spec(c).input().cached()) {
        Cached features = cached(c, input.target().name(), input.split().fingerprint(), "target " + index.dataset(),
            clip.config().imageResolution(), 0, index.test(), Path.of(index.imageRoot()), clip);
        backends.meters().counter("promptline.features.cache", "result", features.hit() ? "hit" : "miss").increment();
        ref = features.ref();
      }
      loadTrained(method, input.trained(), m);
      Evaluator.Accuracy acc = accuracy(c, method, clip, new ClassSet(index.classes(), index.template(), index.dataset()), ref, index.test(),
          Path.of(index.imageRoot()), m);
      return new TargetResult(index.dataset(), input.split().fingerprint(), acc.percent(), acc.total());
    } finally {
      timer.stop(backends.meters().timer("promptline.stage", "stage", "target"));
    }
  }

  /** Loads the learned tensors of {@code trained} into {@code method} (nothing for untrained methods). */
  private void loadTrained(PromptMethod method, TrainResult trained, NDManager m) {
    if (trained != null && trained.prompt() != null)
      method.loadStateDict(TensorBytes.decode(backends.store().get(trained.prompt()), m).tensors());
  }

  /**
   * Accuracy on test items: from their cached test features, or, for methods that prompt the image
   * tower, from pixels through the test transform.
   */
  private Evaluator.Accuracy accuracy(RunConfig c, PromptMethod method, ClipModel clip, ClassSet classes,
      BlobRef features, List<SplitIndex.Item> items, Path root, NDManager m) {
    int[] labels = items.stream().mapToInt(SplitIndex.Item::label).toArray();
    BatchSource source;
    if (spec(c).input() == MethodSpec.Input.PIXELS) {
      List<Path> paths = items.stream().map(i -> root.resolve(i.path())).toList();
      source = new PixelBatches(paths, labels, Transforms.test(clip.config().imageResolution()), decodeThreads);
    } else {
      NDArray f = spec(c).input().batchFeatures(TensorBytes.decode(backends.store().get(features), m).tensors().get("features"));
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

  private SplitIndex splitIndex(SplitResult split) {
    return SplitIndex.fromJson(backends.store().get(split.index()));
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
