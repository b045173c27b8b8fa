package ai.promptline.activities.store;

import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages.BlobRef;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * An object store on a local or shared file system ({@code file:} URIs). Writes go to a temporary
 * file in the same directory and are renamed into place, so they are atomic.
 */
public final class LocalObjectStore implements ObjectStore {
  private final Path root;

  public LocalObjectStore(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  @Override
  public BlobRef put(String key, byte[] data) {
    Path target = resolve(key);
    try {
      Files.createDirectories(target.getParent());
      Path tmp = Files.createTempFile(target.getParent(), ".put-", ".tmp");
      Files.write(tmp, data);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new StoreException("cannot write '" + key + "' under " + root + ": " + e.getMessage(), e);
    }
    return new BlobRef(key, ContentKeys.sha256Hex(data), data.length);
  }

  @Override
  public Optional<byte[]> find(String key) {
    try {
      return Optional.of(Files.readAllBytes(resolve(key)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new StoreException("cannot read '" + key + "' under " + root + ": " + e.getMessage(), e);
    }
  }

  @Override
  public List<String> list(String prefix) {
    if (!Files.isDirectory(root)) return List.of();
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .map(p -> root.relativize(p).toString().replace('\\', '/'))
          .filter(k -> k.startsWith(prefix) && !k.substring(k.lastIndexOf('/') + 1).startsWith(".put-"))
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
      throw new StoreException("cannot delete '" + key + "': " + e.getMessage(), e);
    }
  }

  @Override
  public String describe() {
    return "file:" + root;
  }

  private Path resolve(String key) {
    Path p = root.resolve(key).normalize();
    // p == root ("a/..", "."): the root folder itself is no object (put would replace it, delete remove it)
    if (!p.startsWith(root) || p.equals(root) || key.isBlank()) throw new StoreException("invalid object key '" + key + "'");
    return p;
  }
}
