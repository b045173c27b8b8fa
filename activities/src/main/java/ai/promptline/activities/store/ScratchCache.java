package ai.promptline.activities.store;

import ai.promptline.activities.store.ObjectStore.Blob;
import ai.promptline.activities.store.ObjectStore.Stat;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages.BlobRef;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker-local disk cache of large blobs read from (or written to) the object store: feature
 * blobs, checkpoints and prompts, so a worker downloads each once. Entries are named by their
 * SHA-256 ({@code <dir>/blobs/<aa>/<sha256>}), written under {@code <dir>/tmp/} and renamed into
 * place, and re-hashed on every read: a damaged or partial entry is deleted and the store is read
 * instead. The cache is never needed to make progress: when a write fails (disk full, quota,
 * permissions) the temporary file is removed, a warning is logged and the caller goes on with the
 * bytes it has; nothing partial is ever left under an entry's name. Least recently used entries are
 * evicted to keep the total under {@code maxBytes}.
 *
 * <p>Reads by key ({@link #read}) stat the store first: an entry is used only when the store still
 * records the same SHA-256 and size for the key and, where the store reports the MD5 of its copy
 * (an S3 ETag), that MD5 matches the entry's, so a stored copy that was replaced or truncated is
 * still read (and reported corrupt) rather than hidden by the local one.
 */
public final class ScratchCache {
  private static final Logger LOG = LoggerFactory.getLogger(ScratchCache.class);
  private static final Duration STALE_TEMP = Duration.ofHours(1);
  private static final Duration WARN_EVERY = Duration.ofMinutes(1);

  /** Feature blobs, checkpoints and trained prompts; small JSON records are not worth a local copy. */
  public static final Predicate<String> LARGE_BLOBS =
      k -> k.startsWith("features/") || k.contains("/ckpt/") || k.endsWith("/prompt.safetensors");

  private static final ScratchCache DISABLED = new ScratchCache();

  /** Test seam for the failure paths: writes an entry's bytes to its temporary file. */
  interface Writer {
    Writer FILE_CHANNEL = (tmp, data) -> {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) ch.write(b);
      }
    };

    void write(Path tmp, byte[] data) throws IOException;
  }

  private final Path dir;
  private final long maxBytes;
  private final Predicate<String> cacheable;
  private final Writer writer;
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong lastWarning = new AtomicLong();
  private final AtomicLong writeFailures = new AtomicLong();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();

  private ScratchCache() {
    this.dir = null;
    this.maxBytes = 0;
    this.cacheable = k -> false;
    this.writer = Writer.FILE_CHANNEL;
  }

  /** A cache under {@code dir} for {@link #LARGE_BLOBS}; disabled (with a warning) when {@code dir} cannot be made. */
  public static ScratchCache open(Path dir, long maxBytes) {
    return open(dir, maxBytes, LARGE_BLOBS, Writer.FILE_CHANNEL);
  }

  static ScratchCache open(Path dir, long maxBytes, Predicate<String> cacheable, Writer writer) {
    if (dir == null || maxBytes <= 0) return DISABLED;
    try {
      Files.createDirectories(dir.resolve("blobs"));
      Files.createDirectories(dir.resolve("tmp"));
    } catch (IOException e) {
      LOG.warn("scratch cache {} cannot be created ({}); blobs are read from the object store every time"
          + " (set PROMPTLINE_SCRATCH to a writable folder)", dir, e.toString());
      return DISABLED;
    }
    return new ScratchCache(dir, maxBytes, cacheable, writer);
  }

  private ScratchCache(Path dir, long maxBytes, Predicate<String> cacheable, Writer writer) {
    this.dir = dir.toAbsolutePath().normalize();
    this.maxBytes = maxBytes;
    this.cacheable = cacheable;
    this.writer = writer;
    sweepTemp();
    bytes.set(entries().stream().mapToLong(e -> e.size).sum());
  }

  /** No local copies: every read goes to the store. */
  public static ScratchCache disabled() {
    return DISABLED;
  }

  public boolean enabled() {
    return dir != null;
  }

  /** Where the cache lives, or null when disabled. */
  public Path dir() {
    return dir;
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** Bytes the entries take, as this process counts them. */
  public long bytes() {
    return bytes.get();
  }

  /** Cache writes abandoned (disk full, I/O errors) since the cache was opened. */
  public long writeFailures() {
    return writeFailures.get();
  }

  /** Reads served from a verified local copy since the cache was opened. */
  public long hits() {
    return hits.get();
  }

  /** Reads of a cacheable blob the store had that found no usable local copy (read from the store). */
  public long misses() {
    return misses.get();
  }

  /** The bytes of {@code ref}: a verified local copy, else the store's (verified by it) then kept. */
  public byte[] get(ObjectStore store, BlobRef ref) {
    if (!enabled() || !cacheable.test(ref.key())) return store.get(ref);
    byte[] local = local(ref.sha256());
    if (local != null) return local;
    misses.incrementAndGet();
    byte[] data = store.get(ref);
    keep(ref.sha256(), data);
    return data;
  }

  /**
   * The object under {@code key} as {@link ObjectStore#read} gives it, served from a verified local
   * copy when the store's stat shows it still holds the same bytes (see the class comment).
   *
   * @throws CorruptObjectException as {@link ObjectStore#read} does
   */
  public Optional<Blob> read(ObjectStore store, String key) {
    if (!enabled() || !cacheable.test(key)) return store.read(key);
    Optional<Stat> st = store.stat(key);
    if (st.isEmpty()) return Optional.empty();
    Stat s = st.get();
    if (s.sha256() == null) { // written before digests: never served locally
      misses.incrementAndGet();
      return store.read(key);
    }
    if (s.md5() != null) {
      byte[] local = local(s.sha256());
      if (local != null && local.length == s.size() && s.md5().equals(MinioObjectStore.md5Hex(local)))
        return Optional.of(new Blob(local, s.sha256(), true));
    }
    misses.incrementAndGet();
    Optional<Blob> blob = store.read(key);
    blob.filter(Blob::verified).ifPresent(b -> keep(b.sha256(), b.data()));
    return blob;
  }

  /** Keeps a local copy of bytes just written to or read from the store (best effort). */
  public void keep(String key, BlobRef ref, byte[] data) {
    if (enabled() && cacheable.test(key)) keep(ref.sha256(), data);
  }

  // ------------------------------------------------------------------------------------------

  private Path entry(String sha) {
    return dir.resolve("blobs").resolve(sha.substring(0, 2)).resolve(sha);
  }

  /** A verified local copy, or null; a damaged one is deleted. */
  private byte[] local(String sha) {
    if (sha == null || sha.length() != 64) return null;
    Path p = entry(sha);
    byte[] data;
    try {
      data = Files.readAllBytes(p);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      warn("cannot read scratch entry " + p + " (" + e.getMessage() + "); reading the object store");
      return null;
    }
    if (!ContentKeys.sha256Hex(data).equals(sha)) {
      LOG.warn("scratch entry {} is damaged ({} bytes, SHA-256 differs); deleted, reading the object store", p, data.length);
      deleteQuietly(p);
      bytes.addAndGet(-data.length);
      return null;
    }
    try {
      Files.setLastModifiedTime(p, FileTime.from(Instant.now())); // for least-recently-used eviction
    } catch (IOException ignored) {
      // eviction order is a hint
    }
    hits.incrementAndGet();
    return data;
  }

  private void keep(String sha, byte[] data) {
    if (data.length > maxBytes / 2) return; // would evict most of the cache for one entry
    Path target = entry(sha);
    try {
      if (Files.size(target) == data.length) return; // whole (its bytes are verified when read)
    } catch (IOException e) {
      // no entry yet
    }
    if (bytes.get() + data.length > maxBytes) evict(maxBytes - data.length);
    Path tmp = dir.resolve("tmp").resolve(UUID.randomUUID() + ".part");
    try {
      writer.write(tmp, data);
      if (Files.size(tmp) != data.length) throw new IOException("wrote " + Files.size(tmp) + " of " + data.length + " bytes");
      Files.createDirectories(target.getParent());
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      bytes.addAndGet(data.length);
    } catch (IOException | RuntimeException e) {
      deleteQuietly(tmp);
      writeFailures.incrementAndGet();
      warn("cannot keep a " + data.length + "-byte blob in the scratch cache " + dir + " (" + e.getMessage()
          + "); the run goes on reading it from the object store. Free space there or point PROMPTLINE_SCRATCH elsewhere");
    }
  }

  private record Entry(Path path, long size, FileTime used) {}

  private List<Entry> entries() {
    List<Entry> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir.resolve("blobs"))) {
      s.filter(Files::isRegularFile).forEach(p -> {
        try {
          out.add(new Entry(p, Files.size(p), Files.getLastModifiedTime(p)));
        } catch (IOException ignored) {
          // vanished meanwhile (another worker evicted it)
        }
      });
    } catch (IOException e) {
      LOG.debug("cannot walk {}: {}", dir, e.toString());
    }
    return out;
  }

  /** Deletes least recently used entries until they take at most {@code target} bytes. */
  private synchronized void evict(long target) {
    List<Entry> all = entries();
    long total = all.stream().mapToLong(Entry::size).sum();
    all.sort(Comparator.comparing(Entry::used));
    for (Entry e : all) {
      if (total <= Math.max(0, target)) break;
      deleteQuietly(e.path());
      total -= e.size();
    }
    bytes.set(total);
  }

  private void sweepTemp() {
    FileTime cutoff = FileTime.from(Instant.now().minus(STALE_TEMP));
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir.resolve("tmp"))) {
      for (Path p : ds) if (Files.getLastModifiedTime(p).compareTo(cutoff) < 0) deleteQuietly(p);
    } catch (IOException e) {
      LOG.debug("cannot sweep {}: {}", dir, e.toString());
    }
  }

  /** Logs a warning, at most once a minute (a full disk would otherwise warn on every read). */
  private void warn(String message) {
    long now = System.currentTimeMillis();
    long last = lastWarning.get();
    if (now - last >= WARN_EVERY.toMillis() && lastWarning.compareAndSet(last, now)) LOG.warn(message);
    else LOG.debug(message);
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort; entries are verified on read
    }
  }

  @Override
  public String toString() {
    return enabled() ? "scratch " + dir + " (max " + maxBytes + " bytes)" : "scratch disabled";
  }
}
