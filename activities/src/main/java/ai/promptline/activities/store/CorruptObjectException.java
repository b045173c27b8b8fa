package ai.promptline.activities.store;

/**
 * The bytes read under a key do not match the SHA-256 recorded when they were written (truncated,
 * bit-flipped or replaced), or not the digest a {@code BlobRef} expects. Distinct from other
 * {@link ObjectStore.StoreException}s: retrying the read does not help, rewriting the object does.
 */
public final class CorruptObjectException extends ObjectStore.StoreException {
  private final String key;
  private final String expected;
  private final String actual;

  public CorruptObjectException(String key, String store, String expected, String actual) {
    this(key, store, expected, actual, null);
  }

  /** @param detail what else was wrong (e.g. the size), or null */
  public CorruptObjectException(String key, String store, String expected, String actual, String detail) {
    super("object '" + key + "' in " + store + " is corrupt: its bytes hash to sha256 " + actual + " but " + expected
        + " was recorded" + (detail == null ? "" : " (" + detail + ")"));
    this.key = key;
    this.expected = expected;
    this.actual = actual;
  }

  public String key() {
    return key;
  }

  /** The SHA-256 recorded at write time (or that the reader expected). */
  public String expected() {
    return expected;
  }

  /** The SHA-256 of the bytes actually read. */
  public String actual() {
    return actual;
  }
}
