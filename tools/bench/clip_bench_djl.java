// Throughput of the Java CLIP (DJL, PyTorch engine) with ViT-B/16 geometry and random weights.
// Run by tools/bench/clip_bench.sh (Java source-file mode); prints one JSON line.
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.clip.Precision;
import java.util.ArrayList;
import java.util.List;

public class ClipBenchDjl {
  public static void main(String[] args) {
    int imgBatch = Integer.parseInt(args[0]);
    int txtBatch = Integer.parseInt(args[1]);
    int iters = Integer.parseInt(args[2]);
    Precision precision = Precision.parse(args.length > 3 ? args[3] : "fp32");
    ClipConfig cfg = ClipConfig.vitB16();
    try (NDManager m = NDManager.newBaseManager(); ClipModel model = ClipModel.random(cfg, 0, m, precision)) {
      NDArray px = m.randomNormal(0, 1, new Shape(imgBatch, 3, 224, 224), DataType.FLOAT32);
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < txtBatch; i++) texts.add("a photo of a " + (i % 2 == 0 ? "dog" : "small red car") + " number " + i + ".");
      NDArray ids = m.create(ClipTokenizer.getDefault().tokenize(texts));
      double img = time(() -> model.encodeImage(px), m, iters) ;
      double txt = time(() -> model.encodeText(ids), m, iters);
      System.out.printf("{\"impl\":\"djl\",\"images_per_s\":%.3f,\"sequences_per_s\":%.3f,\"img_batch\":%d,\"txt_batch\":%d,\"precision\":\"%s\"}%n",
          imgBatch / img, txtBatch / txt, imgBatch, txtBatch, precision);
    }
  }

  interface Op { NDArray run(); }

  /** Median seconds per call after one warm-up call. */
  static double time(Op op, NDManager m, int iters) {
    op.run().close();
    double[] t = new double[iters];
    for (int i = 0; i < iters; i++) {
      long s = System.nanoTime();
      NDArray out = op.run();
      out.toFloatArray(); // force completion
      t[i] = (System.nanoTime() - s) / 1e9;
      out.close();
    }
    java.util.Arrays.sort(t);
    return t[iters / 2];
  }
}
