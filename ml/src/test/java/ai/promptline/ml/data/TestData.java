package ai.promptline.ml.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared reference folder (surefire passes {@code promptline.shared}). */
final class TestData {
  private TestData() {}

  static Path shared() {
    String p = System.getProperty("promptline.shared");
    if (p != null && Files.isDirectory(Path.of(p))) return Path.of(p);
    for (Path c : new Path[] {Path.of("../shared"), Path.of("../../shared"), Path.of("/work/shared")}) {
      if (Files.isDirectory(c)) return c;
    }
    throw new IllegalStateException("shared folder not found; set -Dpromptline.shared");
  }

  static Path coopSplit(String name) {
    return shared().resolve("data/coop-splits/split_zhou_" + name + ".json");
  }
}
