package ai.promptline.workers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipWeights;
import ai.promptline.ml.clip.Safetensors;
import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The demo's inputs, generated on first use: a synthetic shapes-and-colours dataset (real PNG and
 * JPEG files, CoOp split format) and a tiny CLIP-architecture model with fixed random weights,
 * stored as safetensors so the real loader reads it. Both are written to a temporary folder and
 * moved into place, so an interrupted generation never looks finished.
 */
public final class DemoAssets {
  public static final String DATASET = "Synthetic";
  public static final long MODEL_SEED = 20261123L;

  public record Assets(Path datasetRoot, Path weights) {}

  private DemoAssets() {}

  public static Assets ensure(Path dir) {
    Path data = dir.resolve("data").resolve("synthetic-shapes");
    Path weights = dir.resolve("models").resolve("tiny-vit-random.safetensors");
    try {
      if (!Files.isDirectory(data)) {
        Path tmp = Files.createDirectories(dir.resolve("data")).resolve(".tmp-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        SyntheticDataset.generate(tmp, SyntheticSpec.defaults().withName(DATASET).withClasses(10).withPerClass(16, 4, 12));
        Files.move(tmp, data, StandardCopyOption.ATOMIC_MOVE);
      }
      if (!Files.isRegularFile(weights)) {
        Files.createDirectories(weights.getParent());
        Path tmp = weights.resolveSibling(".tmp-" + ProcessHandle.current().pid() + ".safetensors");
        ClipConfig config = ClipConfig.tinyVit();
        try (NDManager m = NDManager.newBaseManager()) {
          Map<String, NDArray> w = ClipWeights.random(config, MODEL_SEED, m);
          Safetensors.write(tmp, w, ClipWeights.metadataFor(config));
        }
        Files.move(tmp, weights, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare demo assets under " + dir + ": " + e.getMessage(), e);
    }
    return new Assets(data, weights);
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
    }
  }
}
