package ai.promptline.ml.data.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * An image file that is missing or does not decode; the message names the file. A property of the
 * data, not a transient fault: retrying reads the same bytes (the activities turn it into a
 * non-retryable dataset error).
 */
public final class UnreadableImageException extends UncheckedIOException {
  private final transient Path file;

  public UnreadableImageException(Path file, String message, Throwable cause) {
    super(message, new IOException(message, cause));
    this.file = file;
  }

  /** The image file. */
  public Path file() {
    return file;
  }

  /**
   * The unreadable-image failure in {@code t}'s cause chain (a thread pool may have wrapped it), or
   * null.
   */
  public static UnreadableImageException in(Throwable t) {
    for (int depth = 0; t != null && depth < 16; t = t.getCause(), depth++)
      if (t instanceof UnreadableImageException u) return u;
    return null;
  }
}
