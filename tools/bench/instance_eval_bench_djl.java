// Test-time cost of `instance` (seed 002: top-K averaging over every training image's prompt) against
// CoOp (one prompt per class), same classes, same test batches: random-weight CLIP with ViT-B/16
// widths and `layers` blocks per tower, fp32. Run by tools/bench/instance_eval_bench.sh (Java
// source-file mode). args: layers classes shots testBatch batches threads
// Both heads are bound once, as Evaluator does, and evaluate `batches` test batches of cached
// features through evaluationLogits, as Evaluator does. CoOp encodes its C class prompts once per
// evaluation (TextCache); instance encodes all C x shots training prompts on the first batch of a bind
// and then only ranks, averages and re-normalises per batch.
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.Features;
import ai.promptline.ml.methods.MethodContext;
import ai.promptline.ml.methods.MethodOptions;
import ai.promptline.ml.methods.Methods;
import ai.promptline.ml.methods.PromptMethod;
import ai.promptline.ml.train.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

public class InstanceEvalBench {
  static final String[] WORDS = {"dog", "cat", "car", "airplane", "bird", "ship", "truck", "horse", "frog", "deer",
      "apple", "bicycle", "chair", "flower", "guitar", "lamp", "mountain", "piano", "river", "tiger"};

  static List<String> classNames(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(i < WORDS.length ? WORDS[i] : WORDS[i % WORDS.length] + " " + (i / WORDS.length));
    return out;
  }

  public static void main(String[] args) throws Exception {
    int layers = Integer.parseInt(args[0]);
    int classes = Integer.parseInt(args[1]);
    int shots = Integer.parseInt(args[2]);
    int testBatch = Integer.parseInt(args[3]);
    int batches = Integer.parseInt(args[4]);
    int threads = Integer.parseInt(args[5]);
    ClipConfig cfg = new ClipConfig(ClipConfig.VisionKind.VIT, 512, 224, 768, layers, List.of(), 16, 12, 77, 49408, 512, layers, 8);
    try (NDManager m = NDManager.newBaseManager(); ClipModel clip = ClipModel.random(cfg, 0, m)) {
      List<String> names = classNames(classes);
      int[] trainLabels = new int[classes * shots];
      for (int i = 0; i < trainLabels.length; i++) trainLabels[i] = i % classes;
      MethodContext.TrainingSet training = new MethodContext.TrainingSet(names, trainLabels);
      ClassSet set = new ClassSet(names, "a photo of a {}.");
      // test features: random unit vectors (the image tower is the same for both and not timed)
      Engine.getInstance().setRandomSeed(1);
      NDArray feats = Features.normalize(m.randomNormal(0, 1, new Shape(testBatch, cfg.embedDim()), DataType.FLOAT32));
      int[] labels = new int[testBatch];
      int[] ids = new int[testBatch];
      for (int i = 0; i < testBatch; i++) {
        labels[i] = i % classes;
        ids[i] = i;
      }
      Batch b = new Batch(0, ids, labels, m.create(labels), feats, null);
      StringBuilder json = new StringBuilder("{\"layers\":" + layers + ",\"classes\":" + classes + ",\"shots\":" + shots
          + ",\"test_batch\":" + testBatch + ",\"batches\":" + batches + ",\"threads\":" + threads);
      for (String name : List.of("coop", "instance")) {
        MethodContext ctx = new MethodContext(clip, ClipTokenizer.getDefault(), m, MethodOptions.of(Methods.spec(name), Map.of()), 0)
            .withTraining(training);
        double[] t = new double[batches];
        long tBind;
        try (PromptMethod method = Methods.create(name, ctx)) {
          // warm-up bind (tokeniser, kernels), not timed
          try (PromptMethod.Head warm = method.bind(new ClassSet(names.subList(0, 2), "a photo of a {}."));
              NDScope s = new NDScope()) {
            warm.logits(b);
            s.suppressNotUsedWarning();
          }
          long t0 = System.nanoTime();
          try (PromptMethod.Head head = method.bind(set)) {
            tBind = System.nanoTime() - t0;
            for (int i = 0; i < batches; i++) {
              long t1 = System.nanoTime();
              try (NDScope s = new NDScope(); NDManager bm = m.newSubManager()) {
                head.evaluationLogits(b).argMax(1).toLongArray(); // as Evaluator
                s.suppressNotUsedWarning();
              }
              t[i] = (System.nanoTime() - t1) / 1e6;
            }
          }
        }
        double[] rest = Arrays.copyOfRange(t, 1, t.length);
        Arrays.sort(rest);
        double median = rest.length == 0 ? Double.NaN : rest[rest.length / 2];
        double total = tBind / 1e6 + Arrays.stream(t).sum();
        json.append(String.format(Locale.ROOT, ",\"%s\":{\"bind_ms\":%.1f,\"first_batch_ms\":%.1f,\"later_batch_ms_median\":%.1f,"
            + "\"total_ms\":%.1f,\"prompts_encoded\":%d}", name, tBind / 1e6, t[0], median, total,
            name.equals("coop") ? classes : classes * shots));
        System.err.printf(Locale.ROOT, "%s: bind %.1f ms, first batch %.1f ms, later batches median %.1f ms, total %.1f ms%n",
            name, tBind / 1e6, t[0], median, total);
      }
      System.out.println(json.append("}"));
    }
  }
}
