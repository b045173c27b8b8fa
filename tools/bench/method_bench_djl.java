// Training-step time and peak memory of one Promptline prompt-learning method (DJL, PyTorch engine)
// on a random-weight CLIP with ViT-B/16 widths and `layers` blocks per tower. Run by
// tools/bench/method_bench.sh (Java source-file mode) in its own JVM, so VmHWM is this method's.
//   args: method layers batch classes steps threads
// Prints one JSON line: peak_rss_mb is VmHWM (whole process: JVM, engine, model build, steps);
// peak_rss_train_mb is VmHWM after a reset ("5" to /proc/self/clear_refs) right before the first
// warm-up step (resident model + what the steps add). A step is what PromptTrainer.train does per batch, minus producing the batch:
// NDScope + step sub-manager, forward + loss + backward in a GradientCollector, loss.getFloat(), the
// gradient sanity check of PromptTrainer.forwardBackward, Sgd(0.9, 5e-4).step. FEATURES methods get
// the L2-normalised image features (computed once, outside the timed loop, as the engine caches
// them); PIXELS methods get pixels [B, 3, 224, 224] and run the image tower every step.
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.MethodContext;
import ai.promptline.ml.methods.MethodOptions;
import ai.promptline.ml.methods.MethodSpec;
import ai.promptline.ml.methods.Methods;
import ai.promptline.ml.methods.PromptMethod;
import ai.promptline.ml.train.Batch;
import ai.promptline.ml.train.Sgd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

public class MethodBenchDjl {
  /** Same list and rule as method_bench_reference.py. */
  static final String[] WORDS = {"dog", "cat", "car", "airplane", "bird", "ship", "truck", "horse", "frog", "deer",
      "apple", "bicycle", "chair", "flower", "guitar", "lamp", "mountain", "piano", "river", "tiger"};

  static List<String> classNames(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(i < WORDS.length ? WORDS[i] : WORDS[i % WORDS.length] + " " + (i / WORDS.length));
    return out;
  }

  /** The method's reference defaults, with prompt depths capped at the model depth. */
  static Map<String, String> options(MethodSpec spec, int layers) {
    Map<String, String> o = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : spec.defaults().entrySet()) {
      if ((e.getKey().equals("depth") || e.getKey().equals("depthVision")) && Integer.parseInt(e.getValue()) > layers)
        o.put(e.getKey(), String.valueOf(layers));
    }
    return o;
  }

  public static void main(String[] args) throws Exception {
    String name = args[0];
    int layers = Integer.parseInt(args[1]);
    int batch = Integer.parseInt(args[2]);
    int classes = Integer.parseInt(args[3]);
    int steps = Integer.parseInt(args[4]);
    int threads = Integer.parseInt(args[5]);
    MethodSpec spec = Methods.spec(name);
    Map<String, String> given = options(spec, layers);
    // extra method options, e.g. PROMPTLINE_OPTIONS="readOnlyCache=false" for RPO/MRPO's full masked pass
    String extra = System.getenv().getOrDefault("PROMPTLINE_OPTIONS", "").trim();
    for (String kv : extra.isEmpty() ? new String[0] : extra.split(",")) {
      String[] p = kv.split("=", 2);
      if (spec.defaults().containsKey(p[0].trim())) given.put(p[0].trim(), p[1].trim());
    }
    ClipConfig cfg = new ClipConfig(ClipConfig.VisionKind.VIT, 512, 224, 768, layers, List.of(), 16, 12, 77, 49408, 512, layers, 8);
    double[] t = new double[steps];
    double hwmBuild;
    double hwmSteps;
    boolean hwmReset;
    float lastLoss;
    long trainable;
    try (NDManager m = NDManager.newBaseManager(); ClipModel clip = ClipModel.random(cfg, 0, m)) {
      // the training set (instance-wise methods learn a prompt per item): CLASSES x INSTANCE_SHOTS
      // items, label of sample id i = i % CLASSES (the batch is sample ids 0..B-1)
      int shots = Integer.parseInt(System.getenv().getOrDefault("INSTANCE_SHOTS", "4"));
      int[] trainLabels = new int[Math.max(batch, classes * shots)];
      for (int i = 0; i < trainLabels.length; i++) trainLabels[i] = i % classes;
      MethodContext context = new MethodContext(clip, ClipTokenizer.getDefault(), m, MethodOptions.of(spec, given), 0)
          .withTraining(new MethodContext.TrainingSet(classNames(classes), trainLabels));
      ClipModel expert = null;
      if (spec.usesExperts()) { // prismer: one random expert with ViT-B/32 widths (224 px, patch 32), as the reference side
        expert = ClipModel.random(new ClipConfig(ClipConfig.VisionKind.VIT, 512, 224, 768, layers, List.of(), 32, 12, 77, 49408, 512,
            layers, 8), 1, m);
        context = context.withExperts(List.of(new MethodContext.Expert("vitb32", expert)));
      }
      PromptMethod method = spec.factory().apply(context);
      int[] labels = new int[batch];
      int[] ids = new int[batch];
      for (int i = 0; i < batch; i++) {
        labels[i] = i % classes;
        ids[i] = i;
      }
      Engine.getInstance().setRandomSeed(1);
      NDArray pixels = m.randomNormal(0, 1, new Shape(batch, 3, 224, 224), DataType.FLOAT32);
      NDArray features = null;
      if (spec.input().cached()) {
        NDArray raw = clip.encodeImage(pixels);
        features = spec.input().batchFeatures(raw);
        if (features != raw) raw.close();
        pixels.close();
        pixels = null;
      }
      Batch b = new Batch(0, ids, labels, m.create(labels), features, pixels);
      Map<String, NDArray> params = method.parameters();
      trainable = method.trainableParams();
      Sgd sgd = new Sgd(0.9, 5e-4);
      float loss = Float.NaN;
      hwmBuild = vmHwmMb(); // lifetime peak so far (JVM, engine, model build)
      hwmReset = resetHwm();
      try (PromptMethod.Head head = method.bind(new ClassSet(classNames(classes), "a photo of a {}."))) {
        for (int s = -2; s < steps; s++) { // 2 warm-up steps, then `steps` timed ones
          long t0 = System.nanoTime();
          try (NDScope scope = new NDScope(); NDManager step = m.newSubManager()) {
            loss = step(head, b, params);
            sgd.step(params, 1e-3);
            scope.suppressNotUsedWarning();
          }
          if (s >= 0) t[s] = (System.nanoTime() - t0) / 1e6;
        }
      }
      lastLoss = loss;
      hwmSteps = vmHwmMb();
      method.close();
      if (expert != null) expert.close();
    }
    double[] sorted = t.clone();
    Arrays.sort(sorted);
    double median = steps % 2 == 1 ? sorted[steps / 2] : (sorted[steps / 2 - 1] + sorted[steps / 2]) / 2;
    StringBuilder times = new StringBuilder();
    for (double x : t) times.append(times.length() == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.1f", x));
    System.out.printf(Locale.ROOT,
        "{\"impl\":\"promptline\",\"method\":\"%s\",\"step_ms_median\":%.1f,\"step_ms_min\":%.1f,\"peak_rss_mb\":%.1f,\"peak_rss_train_mb\":%s,\"layers\":%d,\"batch\":%d,"
            + "\"classes\":%d,\"steps\":%d,\"threads\":%d,\"input\":\"%s\",\"options\":\"%s\",\"step_ms\":[%s],\"loss\":%.4f,\"trainable_params\":%d}%n",
        name, median, sorted[0], Math.max(hwmBuild, hwmSteps), hwmReset ? String.format(Locale.ROOT, "%.1f", hwmSteps) : "null", layers, batch, classes, steps, threads, spec.input(), MethodOptions.of(spec, given).values()
            .entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> e.getKey() + "=" + e.getValue()).toList()
            .toString().replace("\"", "'"), times, lastLoss, trainable);
  }

  /** One forward/backward as PromptTrainer.forwardBackward (first attempt): training logits, loss, backward, gradient check. */
  static float step(PromptMethod.Head head, Batch b, Map<String, NDArray> params) {
    float loss;
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray l = head.loss(head.trainingLogits(b), b);
      gc.backward(l);
      loss = l.getFloat();
    }
    for (NDArray p : params.values()) {
      NDArray g = Sgd.gradientOrNull(p);
      if (g == null) continue;
      try (g; NDArray mx = g.abs().max()) {
        float v = mx.getFloat();
        if (!Float.isFinite(v) || v > 1e6f) throw new IllegalStateException("gradient not sane: " + v);
      }
    }
    if (!Float.isFinite(loss)) throw new IllegalStateException("loss " + loss);
    return loss;
  }

  /** Resets VmHWM to the current RSS ("5" to /proc/self/clear_refs); false where not allowed. */
  static boolean resetHwm() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  /** Peak resident set size of this process (VmHWM), MiB. */
  static double vmHwmMb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
    }
    return -1;
  }
}
