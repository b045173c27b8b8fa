package ai.promptline.activities.store;

import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages.BlobRef;
import java.util.List;
import java.util.Optional;

/**
 * Where tensors, checkpoints, split indices and result records live; workflows only see keys.
 *
 * <p>Integrity contract, for every implementation:
 * <ul>
 *   <li>{@link #put} is atomic and verified: the bytes are written under a temporary name, checked
 *       (size and SHA-256, as the store holds them) and only then published under {@code key};
 *       a put that fails at any step leaves no new object under {@code key} (an older one stays)
 *       and no temporary object that {@link #list} or a read would ever show. Readers see the old
 *       bytes or the new, never a part, which is what makes "write the manifest last" a commit marker.
 *   <li>Each object records the SHA-256 of its bytes at write time; {@link #read} (and so
 *       {@link #find} and {@link #get}) re-hashes what it reads and throws
 *       {@link CorruptObjectException} when the bytes do not match.
 *   <li>An object written before digests were recorded reads with {@link Blob#verified()} false;
 *       callers decide what they trust it for (see the activities README).
 *   <li>Keys are validated ({@link #checkKey}): a key built from user input cannot leave its prefix.
 * </ul>
 */
public interface ObjectStore {
  /** Stores {@code data} under {@code key} (atomically, verified), recording its SHA-256 with the object. */
  BlobRef put(String key, byte[] data);

  /**
   * The object under {@code key}, or empty when there is none; its bytes are checked against the
   * SHA-256 recorded at write time.
   *
   * @throws CorruptObjectException when they do not match (truncated, bit-flipped, replaced)
   */
  Optional<Blob> read(String key);

  /** Size and recorded digest of the object under {@code key}, without reading its bytes; empty when there is none. */
  Optional<Stat> stat(String key);

  /** Keys under a prefix, sorted; never the store's temporary objects. */
  List<String> list(String prefix);

  /** Removes {@code key}; a missing key is no error. */
  void delete(String key);

  /** Where this store points, for messages and provenance (never includes credentials). */
  String describe();

  /** The bytes under {@code key}, verified as {@link #read} does, or empty when there is none. */
  default Optional<byte[]> find(String key) {
    return read(key).map(Blob::data);
  }

  /** The bytes of a blob, verified against the object's recorded SHA-256 and the ref's. */
  default byte[] get(BlobRef ref) {
    Blob blob = read(ref.key())
        .orElseThrow(() -> new StoreException("object '" + ref.key() + "' is missing from " + describe()));
    if (!blob.sha256().equals(ref.sha256())) throw new CorruptObjectException(ref.key(), describe(), ref.sha256(), blob.sha256());
    return blob.data();
  }

  /** Whether an object is under {@code key} (its bytes are not read or verified). */
  default boolean exists(String key) {
    return stat(key).isPresent();
  }

  /**
   * Bytes read from the store.
   *
   * @param sha256 the SHA-256 of {@code data} as read (hex)
   * @param verified whether it matched a digest recorded at write time; false only for objects
   *     written before digests were recorded
   */
  record Blob(byte[] data, String sha256, boolean verified) {
    public static Blob of(byte[] data, boolean verified) {
      return new Blob(data, ContentKeys.sha256Hex(data), verified);
    }
  }

  /**
   * What the store says about an object without reading it.
   *
   * @param sha256 the digest recorded at write time, or null (written before digests were recorded)
   * @param md5 the MD5 of the stored bytes as the store computed it (an S3 single-part ETag), or
   *     null where the store has none; lets a holder of verified bytes check the stored copy cheaply
   */
  record Stat(long size, String sha256, String md5) {}

  /**
   * Checks an object key: 1 to 1024 characters, segments separated by '/', none empty, '.' or '..',
   * no leading '/', no backslash, no control characters, and not under the stores' reserved
   * {@code .tmp/} prefix. A key built from user input (dataset or campaign names) therefore stays
   * under the prefix it was built on.
   *
   * @return {@code key}
   * @throws StoreException naming the key and what is wrong with it
   */
  static String checkKey(String key) {
    String problem = keyProblem(key, false);
    if (problem != null) throw new StoreException("invalid object key '" + printable(key) + "': " + problem);
    return key;
  }

  /** As {@link #checkKey} for a listing prefix, which may be empty or end with '/'. */
  static String checkPrefix(String prefix) {
    String problem = keyProblem(prefix, true);
    if (problem != null) throw new StoreException("invalid object key prefix '" + printable(prefix) + "': " + problem);
    return prefix;
  }

  /** The reserved prefix under which stores keep objects being written. */
  String TEMP_PREFIX = ".tmp/";

  private static String keyProblem(String key, boolean prefix) {
    if (key == null) return "it is null";
    if (key.isEmpty()) return prefix ? null : "it is empty";
    if (key.length() > 1024) return "it is longer than 1024 characters";
    for (int i = 0; i < key.length(); i++) {
      char ch = key.charAt(i);
      if (ch < 0x20 || ch == 0x7f) return "it contains a control character (" + String.format("\\u%04x", (int) ch) + ")";
      if (ch == '\\') return "it contains a backslash";
    }
    if (key.startsWith("/")) return "it starts with '/'";
    String body = prefix && key.endsWith("/") ? key.substring(0, key.length() - 1) : key;
    String[] segments = body.split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      String s = segments[i];
      boolean last = i == segments.length - 1;
      if (s.isEmpty() && !(prefix && last)) return "it has an empty segment ('//' or a trailing '/')";
      if (s.equals(".") || s.equals("..")) return "it has a '" + s + "' segment";
      if (s.isBlank() && !s.isEmpty()) return "it has a blank segment";
    }
    if (segments[0].equals(".tmp")) return "'.tmp/' is reserved for objects being written";
    return null;
  }

  private static String printable(String key) {
    if (key == null) return "null";
    StringBuilder b = new StringBuilder();
    for (char ch : key.toCharArray()) {
      if (ch < 0x20 || ch == 0x7f) b.append(String.format("\\u%04x", (int) ch));
      else b.append(ch);
    }
    return b.length() > 200 ? b.substring(0, 200) + "…" : b.toString();
  }

  /** Failure talking to the store, an invalid key, or a missing object. */
  class StoreException extends RuntimeException {
    public StoreException(String message) {
      super(message);
    }

    public StoreException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
