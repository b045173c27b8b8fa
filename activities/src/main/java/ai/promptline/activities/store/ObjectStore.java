package ai.promptline.activities.store;

import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages.BlobRef;
import java.util.List;
import java.util.Optional;

/**
 * Where tensors, checkpoints, split indices and result records live; workflows only see keys.
 * Writes of a key are atomic (readers see the old bytes or the new, never a part), which is what
 * makes "write the manifest last" a commit marker.
 */
public interface ObjectStore {
  /** Stores {@code data} under {@code key}, recording its SHA-256 with the object. */
  BlobRef put(String key, byte[] data);

  /** The bytes under {@code key}, or empty when there is none. */
  Optional<byte[]> find(String key);

  /** Keys under a prefix, sorted. */
  List<String> list(String prefix);

  void delete(String key);

  /** Where this store points, for messages and provenance (never includes credentials). */
  String describe();

  /** The bytes of a blob, verified against its recorded SHA-256. */
  default byte[] get(BlobRef ref) {
    byte[] data =
        find(ref.key())
            .orElseThrow(() -> new StoreException("object '" + ref.key() + "' is missing from " + describe()));
    String actual = ContentKeys.sha256Hex(data);
    if (!actual.equals(ref.sha256()))
      throw new StoreException(
          "object '" + ref.key() + "' is corrupt: sha256 " + actual + " but " + ref.sha256() + " was recorded");
    return data;
  }

  default boolean exists(String key) {
    return find(key).isPresent();
  }

  /** Failure talking to the store or a missing/corrupt object. */
  final class StoreException extends RuntimeException {
    public StoreException(String message) {
      super(message);
    }

    public StoreException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
