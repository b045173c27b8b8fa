package ai.promptline.ml.data.bench;

import ai.promptline.ml.data.BatchLoader;
import ai.promptline.ml.data.Datum;
import ai.promptline.ml.data.SplitItem;
import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import ai.promptline.ml.data.SplitFile;
import ai.promptline.ml.data.Splits;
import ai.promptline.ml.data.image.Transforms;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark (not a test) of the train input pipeline: decode + RandomResizedCrop(224, bicubic) +
 * flip + normalise, batched by {@link BatchLoader}. Driven by tools/bench/data_pipeline_bench.sh,
 * which runs tools/bench/torchvision_pipeline.py on the same files.
 *
 * <pre>
 *   gen  DIR N SIZE          write N synthetic images (~SIZE px, half PNG half JPEG) + split file
 *   run  DIR THREADS EPOCHS  images/s over EPOCHS passes after one warm-up pass
 * </pre>
 */
public final class DataPipelineBench {
  private DataPipelineBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: gen DIR N SIZE | run DIR THREADS EPOCHS");
      System.exit(2);
    }
    Path dir = Path.of(args[1]);
    if (args[0].equals("gen")) {
      int n = Integer.parseInt(args[2]);
      int size = Integer.parseInt(args[3]);
      int classes = 10;
      SyntheticDataset.Generated g = SyntheticDataset.generate(dir,
          new SyntheticSpec("Bench", classes, (n + classes - 1) / classes, 0, 0, size, 1));
      System.out.println("generated " + g.splits().train().size() + " images in " + g.imageRoot());
      return;
    }
    int threads = Integer.parseInt(args[2]);
    int epochs = Integer.parseInt(args[3]);
    Splits s = SplitFile.read(dir.resolve("split_promptline_Bench.json"));
    List<Datum> data = new ArrayList<>();
    for (SplitItem it : s.train()) data.add(it.resolve(dir.resolve("images")));
    if (!Files.isRegularFile(data.get(0).image())) throw new IllegalStateException("run gen first");
    try (BatchLoader l = BatchLoader.builder(data, Transforms.train(224, 1)).optBatchSize(32).optTrain(true)
        .optWorkers(threads).optSeed(1).build()) {
      drain(l, 0); // warm-up: JIT, page cache
      long t0 = System.nanoTime();
      long images = 0;
      for (int e = 1; e <= epochs; e++) images += drain(l, e);
      double sec = (System.nanoTime() - t0) / 1e9;
      System.out.printf("java threads=%d images=%d seconds=%.2f images_per_s=%.1f%n", threads, images, sec, images / sec);
    }
  }

  private static long drain(BatchLoader l, int epoch) {
    long n = 0;
    try (BatchLoader.Epoch it = l.epoch(epoch, 0)) {
      while (it.hasNext()) n += it.next().size();
    }
    return n;
  }
}
