package ai.promptline.activities;

import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.Precision;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.ModelRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Keeps the last loaded frozen CLIP in memory, since consecutive runs on a worker usually share
 * it. The weights file is verified against the SHA-256 the campaign recorded, so every worker
 * computes with the same bytes. The cache is keyed on the file and the precision (an fp16 copy is
 * a different model).
 */
public final class ModelCache implements AutoCloseable {
  private String loadedKey;
  private ClipModel model;
  private NDManager manager;

  public synchronized ClipModel get(ModelRef ref) {
    String key = ref.weights() + "@" + ref.sha256() + "@" + ref.precision();
    if (key.equals(loadedKey)) return model;
    close();
    Path path = Path.of(ref.weights());
    if (ref.sha256() != null && !ref.sha256().isBlank()) {
      String actual = sha256(path);
      if (!actual.equals(ref.sha256()))
        throw Failures.invalidInput("weights " + path + " have sha256 " + actual + " but the campaign expects "
            + ref.sha256() + "; point --weights at the file the campaign was planned with", null);
    }
    manager = NDManager.newBaseManager();
    try {
      model = ClipModel.load(path, manager, Precision.parse(ref.precision()));
    } catch (IOException e) {
      manager.close();
      throw Failures.invalidInput("cannot load CLIP weights " + path + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      manager.close();
      throw Failures.invalidInput("cannot load CLIP weights " + path + ": " + e.getMessage(), e);
    }
    loadedKey = key;
    return model;
  }

  /** SHA-256 of a file, streamed. */
  public static String sha256(Path path) {
    try (InputStream in = new DigestInputStream(Files.newInputStream(path), MessageDigest.getInstance("SHA-256"))) {
      byte[] buf = new byte[1 << 20];
      while (in.read(buf) >= 0) {
        // digesting
      }
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchFileException e) {
      throw Failures.invalidInput("weights file " + path + " does not exist", e);
    } catch (IOException e) {
      throw Failures.invalidInput("cannot read weights file " + path + ": " + e.getMessage(), e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String key(String... parts) {
    return ContentKeys.sha256Hex(String.join("\n", parts));
  }

  @Override
  public synchronized void close() {
    if (model != null) model.close();
    if (manager != null) manager.close();
    model = null;
    manager = null;
    loadedKey = null;
  }
}
