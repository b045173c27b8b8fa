// Promptline side of tools/bench/pretrain_bench.sh: STEPS optimiser steps of the real
// ClipPretrainer (tiny CLIP recipe, corpus rendered on its background thread) and the wall time of
// each step. Prints one JSON line. Not a test.
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.pretrain.ClipPretrainer;
import ai.promptline.ml.pretrain.PretrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public class pretrain_bench_djl {
  public static void main(String[] args) throws Exception {
    int steps = Integer.parseInt(args[0]);
    int batch = Integer.parseInt(args[1]);
    PretrainConfig cfg = PretrainConfig.defaults().withSteps(steps).withBatch(batch).withCheckpointEvery(1_000_000);
    Path dir = Files.createTempDirectory("pretrain-bench");
    List<Double> times = new ArrayList<>();
    long[] last = {System.nanoTime()};
    try (NDManager m = NDManager.newBaseManager()) {
      new ClipPretrainer(cfg).run(dir.resolve("ckpt.safetensors"), m, (step, total, loss, scale, lr, sps) -> {
        long now = System.nanoTime();
        times.add((now - last[0]) / 1e9);
        last[0] = now;
      });
    }
    List<Double> warm = new ArrayList<>(times.subList(Math.min(2, times.size() - 1), times.size()));
    warm.sort(null);
    double median = warm.get(warm.size() / 2);
    System.out.printf(java.util.Locale.ROOT, "{\"impl\":\"promptline\",\"steps\":%d,\"batch\":%d,\"median_step_s\":%.4f,\"images_per_s\":%.1f}%n",
        steps, batch, median, batch / median);
  }
}
