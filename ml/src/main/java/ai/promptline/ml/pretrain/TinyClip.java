package ai.promptline.ml.pretrain;

import ai.promptline.ml.clip.ClipCheckpoints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tiny CLIP shipped in the repository ({@code models/tiny-clip-scenes.safetensors}): pretrained
 * by {@code ./promptline clip pretrain} on the scene corpus, used by the demo and by the tests that
 * check that methods learn. It is found under the project root ({@code -Dpromptline.root}, then
 * {@code PROMPTLINE_ROOT}, then the working directory and its parents) and verified against the
 * SHA-256 recorded here, so a truncated or edited file is never used silently.
 */
public final class TinyClip {
  public static final String FILE = "models/tiny-clip-scenes.safetensors";
  public static final String SHA256 = "6dea4909b0208982ab26fae5e6a1ab89f6a18752f814f825ab65017cb87e0283";

  private TinyClip() {}

  /** The verified shipped checkpoint. */
  public static Path path() {
    Path p = locate();
    try {
      String actual = ClipCheckpoints.sha256(p);
      if (!actual.equals(SHA256)) {
        throw new IllegalStateException(p + " does not match the shipped tiny CLIP (SHA-256 " + actual + ", expected " + SHA256
            + "); restore it with 'git checkout -- " + FILE + "' (or rerun the command in models/README.md)");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
    return p;
  }

  static Path locate() {
    String root = System.getProperty("promptline.root");
    if (root == null || root.isBlank()) root = System.getenv("PROMPTLINE_ROOT");
    if (root != null && !root.isBlank() && Files.isRegularFile(Path.of(root, FILE))) return Path.of(root, FILE);
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve(FILE))) return d.resolve(FILE);
    }
    throw new IllegalStateException("the shipped tiny CLIP " + FILE + " was not found under the project root"
        + (root != null ? " " + root : "") + " or above " + Path.of("").toAbsolutePath()
        + "; run Promptline from its repository (./promptline sets PROMPTLINE_ROOT) or set PROMPTLINE_ROOT");
  }
}
