package ai.promptline.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.Safetensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Safetensors to and from bytes, for tensors that travel through the object store. */
public final class TensorBytes {
  private TensorBytes() {}

  public static byte[] encode(Map<String, NDArray> tensors, Map<String, String> metadata) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try {
      Safetensors.write(out, tensors, metadata);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode tensors: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  /** Reading goes through a temporary file because the reader needs random access to a channel. */

  public static Safetensors.Contents decode(byte[] data, NDManager manager) {
    Path tmp = null;
    try {
      tmp = Files.createTempFile("promptline-", ".safetensors");
      Files.write(tmp, data);
      return Safetensors.readContents(tmp, manager);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot decode tensors: " + e.getMessage(), e);
    } finally {
      deleteQuietly(tmp);
    }
  }

  private static void deleteQuietly(Path p) {
    if (p == null) return;
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // a leftover temp file is harmless
    }
  }
}
