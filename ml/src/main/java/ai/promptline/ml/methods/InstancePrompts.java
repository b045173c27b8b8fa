package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.Numerics;
import ai.promptline.ml.clip.TextInput;
import ai.promptline.ml.train.Batch;
import ai.promptline.ml.train.PromptTrainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Instance-wise prompt learning (seed 002; Lee &amp; Shim, Seoul National University; no public
 * code, so this follows the spec, and {@code tools/golden/instance_golden.py} follows it
 * line by line in PyTorch). Every training image {@code j} owns a prompt
 * {@code [SOS][global ctx][image-specific ctx of j][class tokens of y_j][.][EOT]} (CoOp's token
 * layout, {@link TextPrompts}); a class owns as many prompts as it has training shots.
 *
 * <p>Learned tensors: {@code global_ctx [Mg, D]} shared by every image and class (CoOp's rule:
 * from {@code ctxInit}'s word embeddings, "a photo of a", or {@code nCtx} vectors from N(0, 0.02²)),
 * and {@code instance_ctx [N, Mi, D]} ({@code nCtxInstance} = Mi vectors per training image, addressed
 * by sample id, N(0, 0.02²) from the run seed, like CoOp's random context).
 *
 * <p>Training ({@link Head#trainingLogits}): for every image of the batch and every class,
 * {@code candidatesPerClass} = K of that class's prompts are drawn (the image's own prompt always
 * among those of its class) by a generator that is a pure function of (run seed, epoch, sample id),
 * so a resumed run draws the same; each distinct selected prompt is encoded once per step (union
 * over the batch) and the logits {@code [B, C·K]} are {@code exp(logit_scale) · cos}, class-major,
 * each class's K prompts in ascending sample id; the loss is cross-entropy with the image's own
 * prompt as target.
 *
 * <p>Test ({@link Head#logits}): per class, the {@code topK} training prompts most similar to the test
 * image are averaged (their normalised text features), re-normalised, and the logit is
 * {@code scale · cos} to that class feature. The text features of all training prompts of the
 * label space are encoded once per head and kept while the parameters stay what they were (a
 * snapshot comparison, so a head used again after optimiser steps recomputes, never stale). A class
 * without training prompts (a novel class: its name is not a training class name) has one prompt,
 * {@code [SOS][global ctx][class tokens][.][EOT]}: the global context alone.
 *
 * <p>Registered with {@code perClassParameters}: the head itself would classify any label space
 * (names not among the training classes by the global context alone, shared names such as
 * ImageNet → ImageNet-V2 by their instance prompts), but it needs the source run's training set
 * (which sample id is which class), and a cross-dataset target evaluation is not given one; so
 * cross-dataset campaigns refuse the method at plan time rather than fail at evaluation.
 */
public final class InstancePrompts implements PromptMethod {
  public static final String NAME = "instance";
  static final String GLOBAL = "global_ctx";
  static final String INSTANCE = "instance_ctx";
  static final String N_CTX_INSTANCE = "nCtxInstance";
  static final String CANDIDATES = "candidatesPerClass";
  static final String TOP_K = "topK";
  /** Prompts per text-encoder pass when encoding all training prompts for evaluation. */
  private static final int EVAL_CHUNK = 256;

  /** Which prompts (sample ids) image {@code sampleId} is trained against at {@code epoch}: {@code [class][K]}. */
  @FunctionalInterface
  interface Selection {
    int[][] pick(int epoch, int sampleId);
  }

  private final MethodContext ctx;
  private final MethodContext.TrainingSet training;
  private final TextPrompts.Context global;
  private final NDArray instance;
  private final int mi;
  private final int k;
  private final int topK;
  /** Sample ids of every training class, ascending. */
  private final int[][] byClass;
  /** One row per training class: {@code "<global words> X…X <class>."} split around Mg + Mi context rows. */
  private final TextPrompts.Layout trainLayout;
  private Selection selection;

  public InstancePrompts(MethodContext ctx) {
    this.ctx = ctx;
    this.training = ctx.requireTraining(NAME);
    MethodOptions o = ctx.options();
    this.mi = o.intValue(N_CTX_INSTANCE);
    this.k = o.intValue(CANDIDATES);
    this.topK = o.intValue(TOP_K);
    if (mi < 1) throw new IllegalArgumentException(NAME + ": option " + N_CTX_INSTANCE + " must be at least 1, got " + mi);
    if (k < 1) throw new IllegalArgumentException(NAME + ": option " + CANDIDATES + " must be at least 1, got " + k);
    if (topK < 1) throw new IllegalArgumentException(NAME + ": option " + TOP_K + " must be at least 1, got " + topK);
    int classes = training.classNames().size();
    byClass = new int[classes][];
    for (int c = 0; c < classes; c++) {
      int n = training.count(c);
      String bad = check(k, topK, n);
      if (bad != null)
        throw new IllegalArgumentException(NAME + ": class '" + training.classNames().get(c) + "' has " + n + " training images; " + bad);
      byClass[c] = new int[n];
    }
    int[] fill = new int[classes];
    for (int id = 0; id < training.size(); id++) byClass[training.labels()[id]][fill[training.labels()[id]]++] = id;
    this.global = TextPrompts.coop(ctx, NAME);
    int width = ctx.clip().config().textWidth();
    this.instance = Init.normal(ctx.manager(), ctx.seed(), INSTANCE, new Shape(training.size(), mi, width), 0.02);
    String slots = String.join(" ", Collections.nCopies(mi, "X"));
    List<String> prompts = new ArrayList<>();
    for (String name : training.classNames()) prompts.add(global.prefix() + " " + slots + " " + name.replace('_', ' ') + ".");
    this.trainLayout = TextPrompts.layoutOf(ctx, prompts, global.n() + mi);
    this.selection = sampler(ctx.seed(), training.labels(), byClass, k);
  }

  /**
   * The options' fit to {@code shots} training images per class: null, or what to change. Used when
   * the method is built (each class's count) and at plan time ({@link MethodSpec#planCheck}).
   */
  static String check(int candidates, int topK, int shots) {
    if (candidates > shots)
      return "option " + CANDIDATES + "=" + candidates + " draws that many distinct prompts per class from " + shots
          + " per class; set " + CANDIDATES + " to at most " + shots + " or train with more shots";
    if (topK > shots)
      return "option " + TOP_K + "=" + topK + " averages that many prompts per class out of " + shots
          + " per class; set " + TOP_K + " to at most " + shots + " or train with more shots";
    return null;
  }

  /** Plan-time form of {@link #check}: resolved options and the campaign's shots (0 = every image: not known, skipped). */
  static String planCheck(Map<String, String> options, int shots) {
    if (shots <= 0) return null;
    String bad = check(Integer.parseInt(options.get(CANDIDATES)), Integer.parseInt(options.get(TOP_K)), shots);
    return bad == null ? null : "method '" + NAME + "' at " + shots + " shots: " + bad;
  }

  /**
   * The candidate draw: for image {@code id} at {@code epoch}, a generator seeded by
   * (seed, epoch, id) draws K distinct prompts of every class by a partial Fisher–Yates shuffle of
   * that class's sample ids (for the image's own class: its own id plus K-1 of the others), each
   * class's K sorted ascending.
   */
  static Selection sampler(long seed, int[] labels, int[][] byClass, int k) {
    return (epoch, id) -> {
      SplittableRandom rng = Init.rng(seed, "instance candidates " + epoch + " " + id);
      int own = labels[id];
      int[][] out = new int[byClass.length][];
      for (int c = 0; c < byClass.length; c++) {
        int[] pool = byClass[c].clone();
        int start = 0;
        if (c == own) {
          int at = Arrays.binarySearch(pool, id);
          pool[at] = pool[0];
          pool[0] = id;
          start = 1;
        }
        for (int i = start; i < k; i++) {
          int j = i + rng.nextInt(pool.length - i);
          int t = pool[i];
          pool[i] = pool[j];
          pool[j] = t;
        }
        out[c] = Arrays.copyOf(pool, k);
        Arrays.sort(out[c]);
      }
      return out;
    };
  }

  /** Replaces the candidate draw (parity tests feed the golden's fixed selection). */
  void select(Selection s) {
    this.selection = s;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put(GLOBAL, global.ctx());
    p.put(INSTANCE, instance);
    return p;
  }

  /**
   * Normalised text features {@code [U, E]} of the prompts of training images {@code ids}:
   * {@code [SOS][global_ctx][instance_ctx[id]][suffix of its class]}.
   */
  private NDArray encodeTraining(int[] ids, NDManager m) {
    int u = ids.length;
    long d = ctx.clip().config().textWidth();
    long len = trainLayout.suffix().getShape().get(1);
    long[] rows = new long[u];
    long[] samples = new long[u];
    long[] eot = new long[u];
    for (int i = 0; i < u; i++) {
      samples[i] = ids[i];
      rows[i] = training.labels()[ids[i]];
      eot[i] = trainLayout.eotIndex()[(int) rows[i]];
    }
    NDArray row = m.create(rows).reshape(u, 1, 1);
    NDArray pre = trainLayout.prefix().gather(row.broadcast(u, 1, d), 0);
    NDArray suf = trainLayout.suffix().gather(row.broadcast(u, len, d), 0);
    NDArray g = global.ctx().expandDims(0).broadcast(new Shape(u, global.n(), d));
    NDArray inst = instance.gather(m.create(samples).reshape(u, 1, 1).broadcast(u, mi, d), 0);
    NDArray prompts = NDArrays.concat(new NDList(pre, g, inst, suf), 1);
    return Features.normalize(ctx.clip().encodeText(TextInput.ofEmbeddings(prompts, m.create(eot))));
  }

  @Override
  public Head bind(ClassSet classes) {
    ClipModel clip = ctx.clip();
    float scale = clip.logitScale();
    int c = classes.size();
    int[] toTraining = new int[c];
    List<String> novelPrompts = new ArrayList<>();
    for (int i = 0; i < c; i++) {
      toTraining[i] = training.classNames().indexOf(classes.names().get(i));
      if (toTraining[i] < 0) novelPrompts.add(global.prefix() + " " + classes.cleaned(i) + ".");
    }
    TextPrompts.Layout novel = novelPrompts.isEmpty() ? null : TextPrompts.layoutOf(ctx, novelPrompts, global.n());
    return new Head() {
      private final NDManager own = ctx.manager().newSubManager();
      private NDArray features; // [C, S, E], zero rows where a class has fewer than S prompts
      private NDArray bias; // [C, S]: 0 for a prompt, -1e4 for padding
      private NDArray snapshotGlobal;
      private NDArray snapshotInstance;

      @Override
      public NDArray trainingLogits(Batch batch) {
        NDArray f = batch.requireFeatures();
        NDManager m = batch.target().getManager();
        int b = batch.size();
        int[][][] sel = selections(batch);
        TreeMap<Integer, Integer> position = new TreeMap<>();
        for (int[][] s : sel) for (int[] cls : s) for (int id : cls) position.put(id, 0);
        int[] union = position.keySet().stream().mapToInt(Integer::intValue).toArray();
        for (int i = 0; i < union.length; i++) position.put(union[i], i);
        long[] columns = new long[b * c * k];
        for (int i = 0; i < b; i++)
          for (int j = 0; j < c; j++)
            for (int s = 0; s < k; s++) columns[(i * c + j) * k + s] = position.get(sel[i][toTraining[j]][s]);
        NDArray text = encodeTraining(union, m); // [U, E]
        NDArray all = f.matMul(text.transpose()); // [B, U]
        NDArray picked = all.gather(m.create(columns).reshape(b, c * k), 1);
        return Numerics.scale(picked, scale);
      }

      @Override
      public NDArray loss(NDArray logits, Batch batch) {
        int[][][] sel = selections(batch);
        int[] target = new int[batch.size()];
        for (int i = 0; i < target.length; i++) {
          int id = batch.sampleIds()[i];
          int cls = batch.labels()[i];
          int at = Arrays.binarySearch(sel[i][toTraining[cls]], id);
          if (at < 0) throw new IllegalStateException(NAME + ": the candidates of sample " + id + " miss its own prompt");
          target[i] = cls * k + at;
        }
        NDArray t = logits.getManager().create(target);
        return PromptTrainer.crossEntropy(logits, t, (int) logits.getShape().get(1));
      }

      /** The candidates of every image of the batch; checks that the batch is the training set's. */
      private int[][][] selections(Batch batch) {
        for (int j = 0; j < c; j++)
          if (toTraining[j] < 0)
            throw new IllegalArgumentException(NAME + " trains on its training classes; class '" + classes.names().get(j)
                + "' is not one of them");
        int[][][] out = new int[batch.size()][][];
        for (int i = 0; i < out.length; i++) {
          int id = batch.sampleIds()[i];
          int cls = batch.labels()[i];
          int t = toTraining[cls];
          if (id < 0 || id >= training.size() || training.labels()[id] != t)
            throw new IllegalStateException(NAME + ": sample id " + id + " with label '" + classes.names().get(cls)
                + "' is not that item of the training set");
          out[i] = selection.pick(batch.epoch(), id);
        }
        return out;
      }

      @Override
      public NDArray logits(Batch batch) {
        NDArray f = batch.requireFeatures();
        ensureFeatures();
        long b = f.getShape().get(0);
        long s = features.getShape().get(1);
        long e = features.getShape().get(2);
        NDArray sims = f.matMul(features.reshape(c * s, e).transpose()).reshape(b, c, s).add(bias);
        long kk = Math.min(topK, s);
        NDArray top = sims.argSort(2, false).get(new NDIndex(":, :, :{}", kk)); // [B, C, topK]
        NDArray chosen = top.oneHot((int) s).sum(new int[] {2}); // [B, C, S], 1 for the topK prompts
        // the mean of the chosen features, up to the factor 1/topK that re-normalising removes;
        // padding rows are zero, so a novel class's one prompt is its feature
        NDArray sum = chosen.transpose(1, 0, 2).matMul(features).transpose(1, 0, 2); // [B, C, E]
        NDArray classFeatures = Features.normalize(sum);
        NDArray cos = classFeatures.matMul(f.expandDims(2)).reshape(b, c);
        return Numerics.scale(cos, scale);
      }

      /** Encodes every prompt of the label space, unless the parameters are those of the last encoding. */
      private void ensureFeatures() {
        if (features != null && snapshotGlobal.contentEquals(global.ctx()) && snapshotInstance.contentEquals(instance)) return;
        closeCache();
        try (NDManager tmp = own.newSubManager()) {
          List<int[]> prompts = new ArrayList<>(); // per class: training sample ids, or {-1 - novel index}
          int novelIndex = 0;
          int s = 1;
          List<Integer> trainIds = new ArrayList<>();
          for (int i = 0; i < c; i++) {
            int t = toTraining[i];
            int[] p = t < 0 ? new int[] {-1 - novelIndex++} : byClass[t];
            if (t >= 0) for (int id : p) trainIds.add(id);
            prompts.add(p);
            s = Math.max(s, p.length);
          }
          List<NDArray> parts = new ArrayList<>();
          int[] ids = trainIds.stream().mapToInt(Integer::intValue).toArray();
          for (int from = 0; from < ids.length; from += EVAL_CHUNK)
            parts.add(encodeTraining(Arrays.copyOfRange(ids, from, Math.min(ids.length, from + EVAL_CHUNK)), tmp));
          if (novel != null) {
            NDArray p = TextPrompts.assemble(novel, global.ctx());
            parts.add(Features.normalize(clip.encodeText(TextInput.ofEmbeddings(p, novel.eot()))));
          }
          long e = clip.config().embedDim();
          parts.add(tmp.zeros(new Shape(1, e)));
          NDArray table = NDArrays.concat(new NDList(parts), 0); // training prompts, novel prompts, a zero row
          int zero = (int) table.getShape().get(0) - 1;
          long[] index = new long[c * s];
          float[] pad = new float[c * s];
          Map<Integer, Integer> rowOf = new java.util.HashMap<>();
          for (int i = 0; i < ids.length; i++) rowOf.put(ids[i], i);
          for (int i = 0; i < c; i++) {
            int[] p = prompts.get(i);
            for (int j = 0; j < s; j++) {
              boolean real = j < p.length;
              index[i * s + j] = !real ? zero : p[j] < 0 ? ids.length + (-1 - p[j]) : rowOf.get(p[j]);
              pad[i * s + j] = real ? 0f : -1e4f;
            }
          }
          NDArray feats = table.gather(tmp.create(index).reshape(c * s, 1).broadcast(c * s, e), 0).reshape(c, s, e);
          features = keep(feats.stopGradient());
          bias = keep(own.create(pad, new Shape(c, s)));
          snapshotGlobal = keep(global.ctx().stopGradient().duplicate());
          snapshotInstance = keep(instance.stopGradient().duplicate());
        }
      }

      private NDArray keep(NDArray x) {
        x.attach(own);
        NDScope.unregister(x);
        return x;
      }

      private void closeCache() {
        for (NDArray x : new NDArray[] {features, bias, snapshotGlobal, snapshotInstance}) if (x != null) x.close();
        features = bias = snapshotGlobal = snapshotInstance = null;
      }

      @Override
      public void close() {
        closeCache();
        own.close();
        if (novel != null) novel.close();
      }
    };
  }

  @Override
  public void close() {
    global.ctx().close();
    instance.close();
    trainLayout.close();
  }
}
