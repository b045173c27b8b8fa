package ai.promptline.ml.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One resolved training or evaluation example: an image file on disk, its 0-based label in the
 * current label space and the class name stored with it (Dassl's {@code Datum}).
 *
 * @param image absolute or working-dir-relative path of the image file
 * @param label 0-based class index
 * @param className final class name (already cleaned by the dataset rules of methods.md §1.1)
 */
public record Datum(Path image, int label, String className) {
  public Datum {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(className, "className");
  }
}
