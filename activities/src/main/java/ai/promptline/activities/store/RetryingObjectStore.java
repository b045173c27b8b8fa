package ai.promptline.activities.store;

import ai.promptline.activities.retry.Retrier;
import ai.promptline.workflows.model.Stages.BlobRef;
import java.util.List;
import java.util.Optional;

/**
 * An object store that waits out transient faults of the one it wraps (MinIO restarting, a reset
 * connection, 503 "server not initialized", "slow down") for the retrier's budget, keeping the
 * activity alive meanwhile. A missing key, a 4xx or corrupt data fail at once. Every operation of
 * {@link ObjectStore} is idempotent (a PUT replaces the object atomically), so repeating one is safe.
 */
public final class RetryingObjectStore implements ObjectStore {
  private final ObjectStore inner;
  private final Retrier retrier;

  public RetryingObjectStore(ObjectStore inner, Retrier retrier) {
    this.inner = inner;
    this.retrier = retrier;
  }

  /** {@code MinIO (object store s3://bucket at http://host:port)}: how errors name the service. */
  public static String serviceName(String kind, ObjectStore store) {
    return kind + " (object store " + store.describe() + ")";
  }

  public ObjectStore inner() {
    return inner;
  }

  @Override
  public BlobRef put(String key, byte[] data) {
    return retrier.call("writing '" + key + "'", () -> inner.put(key, data), StoreException::new);
  }

  @Override
  public Optional<Blob> read(String key) {
    return retrier.call("reading '" + key + "'", () -> inner.read(key), StoreException::new);
  }

  @Override
  public Optional<Stat> stat(String key) {
    return retrier.call("looking up '" + key + "'", () -> inner.stat(key), StoreException::new);
  }

  @Override
  public byte[] get(BlobRef ref) {
    return retrier.call("reading '" + ref.key() + "'", () -> inner.get(ref), StoreException::new);
  }

  @Override
  public boolean exists(String key) {
    return retrier.call("looking up '" + key + "'", () -> inner.exists(key), StoreException::new);
  }

  @Override
  public List<String> list(String prefix) {
    return retrier.call("listing '" + prefix + "'", () -> inner.list(prefix), StoreException::new);
  }

  @Override
  public void delete(String key) {
    retrier.call("deleting '" + key + "'", () -> {
      inner.delete(key);
      return null;
    }, StoreException::new);
  }

  @Override
  public String describe() {
    return inner.describe();
  }
}
