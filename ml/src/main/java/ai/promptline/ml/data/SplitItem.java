package ai.promptline.ml.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One entry of a CoOp split file: {@code [relpath, label, classname]}. The path stays relative to
 * the dataset's image root so that split content (and its fingerprint) does not depend on where a
 * dataset is mounted.
 *
 * @param relPath path relative to the image root, '/'-separated, no leading slash
 * @param label 0-based label over the full class set
 * @param className final class name
 */
public record SplitItem(String relPath, int label, String className) {
  public SplitItem {
    Objects.requireNonNull(relPath, "relPath");
    Objects.requireNonNull(className, "className");
  }

  /** Resolves this entry against an image root. */
  public Datum resolve(Path imageRoot) {
    return new Datum(imageRoot.resolve(relPath), label, className);
  }

  /** The same entry with another label (used by base/novel relabelling). */
  public SplitItem withLabel(int newLabel) {
    return new SplitItem(relPath, newLabel, className);
  }
}
