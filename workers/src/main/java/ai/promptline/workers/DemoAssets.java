package ai.promptline.workers;

import ai.promptline.ml.pretrain.TinyClip;
import ai.promptline.ml.scenes.SceneBenchmark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The demo's inputs: the generated Scenes benchmark (real PNG and JPEG files in the CoOp split
 * layout; 24 colour-shape classes whose novel half was held out of pretraining), written on first
 * use to a temporary folder and moved into place so an interrupted generation never looks
 * finished, and the tiny CLIP shipped in the repository ({@link TinyClip}, SHA-256 verified).
 */
public final class DemoAssets {
  public static final String DATASET = SceneBenchmark.NAME;

  public record Assets(Path datasetRoot, Path weights) {}

  private DemoAssets() {}

  public static Assets ensure(Path dir) {
    Path data = dir.resolve("data").resolve("scenes");
    try {
      if (!Files.isDirectory(data)) {
        Path tmp = Files.createDirectories(dir.resolve("data")).resolve(".tmp-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        SceneBenchmark.generate(tmp, SceneBenchmark.Spec.defaults());
        Files.move(tmp, data, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare demo assets under " + dir + ": " + e.getMessage(), e);
    }
    return new Assets(data, TinyClip.path());
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
    }
  }
}
