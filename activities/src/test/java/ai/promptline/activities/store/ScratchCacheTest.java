package ai.promptline.activities.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages.BlobRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's scratch cache: verified local copies keyed by SHA-256, atomic entries, damaged
 * entries dropped, LRU cap, and disk-full writes abandoned cleanly (a fake writer for the error path
 * and a real 1 MB tmpfs).
 */
class ScratchCacheTest {
  @TempDir Path dir;

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Every file under {@code root}, relative, sorted. */
  static List<String> files(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
    }
  }

  @Test
  void getByRef_keepsAVerifiedCopy_andServesItWithoutTheStore() throws Exception {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    ScratchCache cache = ScratchCache.open(dir.resolve("scratch"), 1 << 20);
    byte[] data = random(10_000, 1);
    BlobRef ref = store.put("features/f.safetensors", data);
    assertArrayEquals(data, cache.get(store, ref));
    assertEquals(0, cache.hits());
    assertEquals(List.of("blobs/" + ref.sha256().substring(0, 2) + "/" + ref.sha256()), files(dir.resolve("scratch")),
        "one entry named by its SHA-256, no temporary file");
    assertEquals(10_000, cache.bytes());
    store.delete(ref.key());
    assertArrayEquals(data, cache.get(store, ref), "served locally");
    assertEquals(1, cache.hits());

    // a small JSON record is not cached
    BlobRef json = store.put("runs/k/split.json", "{}".getBytes());
    cache.get(store, json);
    assertEquals(1, files(dir.resolve("scratch")).size());
  }

  @Test
  void aDamagedOrPartialEntry_isDeleted_andTheStoreReadInstead() throws Exception {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    ScratchCache cache = ScratchCache.open(dir.resolve("scratch"), 1 << 20);
    byte[] data = random(10_000, 2);
    BlobRef ref = store.put("runs/k/ckpt/epoch-00001.safetensors", data);
    cache.keep(ref.key(), ref, data);
    Path entry = dir.resolve("scratch/blobs/" + ref.sha256().substring(0, 2) + "/" + ref.sha256());
    byte[] flipped = data.clone();
    flipped[5] ^= 1;
    Files.write(entry, flipped);
    assertArrayEquals(data, cache.get(store, ref), "the store's verified bytes, not the damaged entry");
    assertEquals(0, cache.hits());
    assertArrayEquals(data, Files.readAllBytes(entry), "replaced by a good copy");
    Files.write(entry, new byte[100]); // truncated
    assertArrayEquals(data, cache.read(store, ref.key()).orElseThrow().data());
    assertArrayEquals(data, Files.readAllBytes(entry));
  }

  @Test
  void readByKey_usesTheLocalCopyOnlyWhileTheStoreStillHoldsTheSameBytes() throws Exception {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    ScratchCache cache = ScratchCache.open(dir.resolve("scratch"), 1 << 20);
    byte[] data = random(5000, 3);
    String key = "features/k.safetensors";
    BlobRef ref = store.put(key, data);
    ObjectStore.Blob b = cache.read(store, key).orElseThrow();
    assertTrue(b.verified());
    assertArrayEquals(data, b.data());
    assertEquals(ref.sha256(), b.sha256());
    // the file store reports no MD5: the store's own (verified) read is used, so corruption there is seen
    Path file = dir.resolve("store").resolve(key);
    byte[] stored = Files.readAllBytes(file);
    stored[stored.length - 1] ^= 1;
    Files.write(file, stored);
    assertThrows(CorruptObjectException.class, () -> cache.read(store, key));
    assertEquals(java.util.Optional.empty(), cache.read(store, "features/none"));
  }

  @Test
  void theCap_evictsLeastRecentlyUsedEntries_andHugeBlobsAreNotKept() throws Exception {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    ScratchCache cache = ScratchCache.open(dir.resolve("scratch"), 30_000);
    BlobRef a = store.put("features/a", random(10_000, 4));
    BlobRef b = store.put("features/b", random(10_000, 5));
    BlobRef c = store.put("features/c", random(10_000, 6));
    cache.get(store, a);
    Thread.sleep(20);
    cache.get(store, b);
    Thread.sleep(20);
    cache.get(store, a); // a used more recently than b
    Files.setLastModifiedTime(dir.resolve("scratch/blobs/" + b.sha256().substring(0, 2) + "/" + b.sha256()),
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    cache.get(store, c);
    BlobRef d = store.put("features/d", random(10_000, 7));
    cache.get(store, d);
    List<String> left = files(dir.resolve("scratch"));
    assertFalse(left.stream().anyMatch(f -> f.endsWith(b.sha256())), "b was least recently used: " + left);
    assertTrue(cache.bytes() <= 30_000, String.valueOf(cache.bytes()));
    BlobRef huge = store.put("features/huge", random(20_000, 8));
    cache.get(store, huge);
    assertFalse(files(dir.resolve("scratch")).stream().anyMatch(f -> f.endsWith(huge.sha256())), "over half the cap: not kept");
    assertEquals(cache.bytes(), ScratchCache.open(dir.resolve("scratch"), 30_000).bytes(), "a reopened cache counts the same");
  }

  @Test
  void aFailingWrite_isAbandonedCleanly_andTheReadStillSucceeds() throws Exception {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    // the error path of a full disk: half the bytes land in the temporary file, then ENOSPC
    ScratchCache cache = ScratchCache.open(dir.resolve("scratch"), 1 << 20, ScratchCache.LARGE_BLOBS, (tmp, data) -> {
      Files.write(tmp, java.util.Arrays.copyOf(data, data.length / 2));
      throw new IOException("No space left on device");
    });
    byte[] data = random(8000, 9);
    BlobRef ref = store.put("features/x", data);
    assertArrayEquals(data, cache.get(store, ref));
    assertArrayEquals(data, cache.read(store, "features/x").orElseThrow().data());
    assertEquals(2, cache.writeFailures());
    assertEquals(List.of(), files(dir.resolve("scratch")), "no partial file, under a final name or a temporary one");
    assertEquals(0, cache.bytes());
  }

  @Test
  void onAFullTmpfs_nothingPartialRemains_andReadsGoOn() throws Exception {
    try (Tmpfs disk = Tmpfs.mount(dir.resolve("small"), "1m")) {
      LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
      ScratchCache cache = ScratchCache.open(disk.dir(), 64 << 20); // the cap is far above what the disk holds
      List<BlobRef> refs = new java.util.ArrayList<>();
      for (int i = 0; i < 6; i++) refs.add(store.put("features/f" + i, random(300_000, 10 + i)));
      for (BlobRef r : refs) assertArrayEquals(store.get(r), cache.get(store, r));
      assertTrue(cache.writeFailures() > 0, "the 1 MB disk filled up");
      for (BlobRef r : refs) assertArrayEquals(store.get(r), cache.get(store, r), "every read still right");
      List<String> left = files(disk.dir());
      assertTrue(left.stream().noneMatch(f -> f.startsWith("tmp/")), "no temporary file left: " + left);
      for (String f : left) {
        String sha = f.substring(f.lastIndexOf('/') + 1);
        assertEquals(sha, ContentKeys.sha256Hex(Files.readAllBytes(disk.dir().resolve(f))), "every entry is whole: " + f);
      }
      assertTrue(left.size() >= 1 && left.size() <= 3, left.toString());
    }
  }

  @Test
  void anUnusableFolder_disablesTheCache() throws Exception {
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
    ScratchCache cache = ScratchCache.open(file.resolve("scratch"), 1 << 20);
    assertFalse(cache.enabled());
    assertSame(ScratchCache.disabled(), ScratchCache.open(dir.resolve("s"), 0), "a cap of 0 is no cache");
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    BlobRef ref = store.put("features/y", random(100, 1));
    assertArrayEquals(store.get(ref), cache.get(store, ref));
  }
}
