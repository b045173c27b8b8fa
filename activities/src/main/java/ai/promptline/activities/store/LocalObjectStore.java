package ai.promptline.activities.store;

import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages.BlobRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * An object store on a local or shared file system ({@code file:} URIs). Each object is one file
 * under the root, named by its key, that starts with a one-line header recording the SHA-256 and
 * size of the bytes that follow ({@code promptline-object/1 sha256=<hex> size=<n>\n}); reads check
 * both. A put writes the file under {@code <root>/.tmp/}, fsyncs it, checks its size and renames it
 * into place atomically (then fsyncs the folder), so readers see the old object or the new one,
 * never a part. {@code .tmp/} is never listed or read as data; leftovers of a killed writer older
 * than an hour are removed when a store is opened. A file without the header (written before
 * digests were recorded) reads as unverified.
 */
public final class LocalObjectStore implements ObjectStore {
  static final String MAGIC = "promptline-object/1 ";
  private static final byte[] MAGIC_BYTES = MAGIC.getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_HEADER = 160;
  private static final Duration STALE_TEMP = Duration.ofHours(1);

  /** Test seam for the failure paths: called after each step of a put. */
  interface Steps {
    Steps NONE = step -> {};

    void after(String step) throws IOException;
  }

  private final Path root;
  private final Steps steps;

  public LocalObjectStore(Path root) {
    this(root, Steps.NONE);
  }

  LocalObjectStore(Path root, Steps steps) {
    this.root = root.toAbsolutePath().normalize();
    this.steps = steps;
    sweepTemp();
  }

  @Override
  public BlobRef put(String key, byte[] data) {
    Path target = resolve(key);
    String sha = ContentKeys.sha256Hex(data);
    byte[] header = (MAGIC + "sha256=" + sha + " size=" + data.length + "\n").getBytes(StandardCharsets.US_ASCII);
    Path tmp = root.resolve(".tmp").resolve(UUID.randomUUID() + ".part");
    boolean published = false;
    try {
      Files.createDirectories(tmp.getParent());
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(header);
        while (b.hasRemaining()) ch.write(b);
        b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) ch.write(b);
        ch.force(true);
      }
      steps.after("written");
      long size = Files.size(tmp);
      if (size != header.length + (long) data.length)
        throw new IOException("wrote " + size + " bytes but " + (header.length + data.length) + " were expected");
      steps.after("verified");
      Files.createDirectories(target.getParent());
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      published = true;
      fsyncDirectory(target.getParent());
      steps.after("published");
    } catch (IOException e) {
      if (!published) deleteQuietly(tmp);
      throw new StoreException("cannot write '" + key + "' under " + root + ": " + e.getMessage()
          + (published ? " (the object was published)" : " (nothing was published)"), e);
    }
    return new BlobRef(key, sha, data.length);
  }

  @Override
  public Optional<Blob> read(String key) {
    byte[] raw;
    try {
      raw = Files.readAllBytes(resolve(key));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new StoreException("cannot read '" + key + "' under " + root + ": " + e.getMessage(), e);
    }
    Header h = header(key, raw, raw.length);
    if (h == null) return Optional.of(Blob.of(raw, false));
    byte[] data = Arrays.copyOfRange(raw, h.length(), raw.length);
    String actual = ContentKeys.sha256Hex(data);
    if (!actual.equals(h.sha256()) || data.length != h.size())
      throw new CorruptObjectException(key, describe(), h.sha256(), actual,
          data.length == h.size() ? null : data.length + " bytes but " + h.size() + " were written");
    return Optional.of(new Blob(data, actual, true));
  }

  @Override
  public Optional<Stat> stat(String key) {
    Path p = resolve(key);
    try (InputStream in = Files.newInputStream(p)) {
      long size = Files.size(p);
      byte[] head = in.readNBytes(MAX_HEADER);
      Header h = header(key, head, size);
      return Optional.of(h == null ? new Stat(size, null, null) : new Stat(size - h.length(), h.sha256(), null));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new StoreException("cannot read '" + key + "' under " + root + ": " + e.getMessage(), e);
    }
  }

  @Override
  public List<String> list(String prefix) {
    ObjectStore.checkPrefix(prefix);
    if (!Files.isDirectory(root)) return List.of();
    Path temp = root.resolve(".tmp");
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> !p.startsWith(temp) && Files.isRegularFile(p))
          .map(p -> root.relativize(p).toString().replace('\\', '/'))
          .filter(k -> k.startsWith(prefix))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new StoreException("cannot list '" + prefix + "' under " + root + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void delete(String key) {
    try {
      Files.deleteIfExists(resolve(key));
    } catch (IOException e) {
      throw new StoreException("cannot delete '" + key + "' under " + root + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String describe() {
    return "file:" + root;
  }

  /** The recorded digest and size, and the header's length; null for a file without one. */
  private record Header(String sha256, long size, int length) {}

  /**
   * Parses the header at the start of {@code head}; null when the file has none (an older object).
   * A file that starts like a header but whose header is cut or garbled is corrupt.
   */
  private Header header(String key, byte[] head, long fileSize) {
    int n = Math.min(head.length, MAGIC_BYTES.length);
    if (!Arrays.equals(head, 0, n, MAGIC_BYTES, 0, n)) return null;
    int end = -1;
    for (int i = 0; i < Math.min(head.length, MAX_HEADER); i++)
      if (head[i] == '\n') {
        end = i;
        break;
      }
    String line = end < 0 ? null : new String(head, MAGIC_BYTES.length, end - MAGIC_BYTES.length, StandardCharsets.US_ASCII);
    String sha = null;
    long size = -1;
    if (line != null)
      for (String part : line.split(" ")) {
        if (part.startsWith("sha256=") && part.length() == 7 + 64) sha = part.substring(7);
        else if (part.startsWith("size=")) {
          try {
            size = Long.parseLong(part.substring(5));
          } catch (NumberFormatException e) {
            size = -1;
          }
        }
      }
    if (sha == null || size < 0)
      throw new CorruptObjectException(key, describe(), sha == null ? "(unreadable)" : sha, "(not computed)",
          "its digest header is cut or garbled, file of " + fileSize + " bytes");
    return new Header(sha, size, end + 1);
  }

  private Path resolve(String key) {
    ObjectStore.checkKey(key);
    Path p = root.resolve(key).normalize();
    if (!p.startsWith(root) || p.equals(root)) throw new StoreException("invalid object key '" + key + "': it leaves " + root);
    return p;
  }

  /** Removes temporary files of writers that died mid-put (best effort). */
  private void sweepTemp() {
    Path temp = root.resolve(".tmp");
    if (!Files.isDirectory(temp)) return;
    FileTime cutoff = FileTime.from(Instant.now().minus(STALE_TEMP));
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(temp)) {
      for (Path p : ds) if (Files.getLastModifiedTime(p).compareTo(cutoff) < 0) deleteQuietly(p);
    } catch (IOException e) {
      // best effort: a leftover is never read as data
    }
  }

  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // not every file system lets a directory be opened; the rename itself is atomic
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort: temporary files are never read as data
    }
  }
}
