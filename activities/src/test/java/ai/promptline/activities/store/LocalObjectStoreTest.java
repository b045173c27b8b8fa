package ai.promptline.activities.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.ObjectStore.StoreException;
import java.nio.file.StandardCopyOption;
import ai.promptline.workflows.model.Stages.BlobRef;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file-system object store: content hashes, atomic replacement, sorted prefix listing, key validation. */
class LocalObjectStoreTest {
  @TempDir Path dir;

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  @Test
  void put_returnsContentHash_andFindReadsBack_andOverwriteReplaces() throws Exception {
    LocalObjectStore s = new LocalObjectStore(dir);
    BlobRef ref = s.put("runs/abc/result.json", bytes("{\"a\":1}"));
    assertEquals("runs/abc/result.json", ref.key());
    assertEquals(sha256(bytes("{\"a\":1}")), ref.sha256());
    assertEquals(7, ref.bytes());
    assertArrayEquals(bytes("{\"a\":1}"), s.find("runs/abc/result.json").orElseThrow());
    assertEquals(LocalObjectStore.MAGIC + "sha256=" + ref.sha256() + " size=7\n{\"a\":1}",
        Files.readString(dir.resolve("runs/abc/result.json")), "one file under the root: digest header, then the bytes");
    assertEquals(new ObjectStore.Stat(7, ref.sha256(), null), s.stat("runs/abc/result.json").orElseThrow());
    assertTrue(s.read("runs/abc/result.json").orElseThrow().verified());
    assertArrayEquals(bytes("{\"a\":1}"), s.get(ref));
    assertTrue(s.exists("runs/abc/result.json"));
    assertEquals(Optional.empty(), s.find("runs/abc/other.json"));
    assertFalse(s.exists("runs/abc/other.json"));

    BlobRef ref2 = s.put("runs/abc/result.json", bytes("x"));
    assertArrayEquals(bytes("x"), s.get(ref2));
    try (Stream<Path> files = Files.list(dir.resolve("runs/abc"))) {
      assertEquals(List.of("result.json"), files.map(p -> p.getFileName().toString()).toList(), "no temporary files left");
    }
    try (Stream<Path> files = Files.list(dir.resolve(".tmp"))) {
      assertEquals(0, files.count(), "no temporary files left");
    }
    s.delete("runs/abc/result.json");
    assertFalse(s.exists("runs/abc/result.json"));
    s.delete("runs/abc/result.json"); // deleting a missing key is fine
    assertEquals("file:" + dir.toAbsolutePath().normalize(), s.describe());
  }

  @Test
  void get_detectsCorruptionAndMissingObjects() throws Exception {
    LocalObjectStore s = new LocalObjectStore(dir);
    BlobRef ref = s.put("features/f.safetensors", bytes("tensor bytes"));
    BlobRef other = s.put("features/g.safetensors", bytes("other bytes"));
    Files.copy(dir.resolve("features/g.safetensors"), dir.resolve("features/f.safetensors"), StandardCopyOption.REPLACE_EXISTING);
    CorruptObjectException corrupt = assertThrows(CorruptObjectException.class, () -> s.get(ref), "an intact object, but not the ref's");
    assertTrue(corrupt.getMessage().contains("corrupt") && corrupt.getMessage().contains(ref.sha256()), corrupt.getMessage());
    assertEquals(ref.sha256(), corrupt.expected());
    assertEquals(other.sha256(), corrupt.actual());
    Files.delete(dir.resolve("features/f.safetensors"));
    StoreException missing = assertThrows(StoreException.class, () -> s.get(ref));
    assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
  }

  @Test
  void list_byPrefix_sorted_withoutTemporaryFiles() throws Exception {
    LocalObjectStore s = new LocalObjectStore(dir);
    assertEquals(List.of(), new LocalObjectStore(dir.resolve("absent")).list(""), "a missing root lists nothing");
    for (String k : List.of("runs/b/x", "runs/a/y", "features/z", "runs/a/x", "runs-old/q", "runs/a/ckpt/epoch-00010.safetensors",
        "runs/a/ckpt/epoch-00002.safetensors"))
      s.put(k, bytes(k));
    Files.createDirectories(dir.resolve(".tmp"));
    Files.write(dir.resolve(".tmp/123.part"), bytes("half written"));
    assertEquals(List.of("runs/a/ckpt/epoch-00002.safetensors", "runs/a/ckpt/epoch-00010.safetensors", "runs/a/x", "runs/a/y",
        "runs/b/x"), s.list("runs/"));
    assertEquals(List.of("runs/a/ckpt/epoch-00002.safetensors", "runs/a/ckpt/epoch-00010.safetensors"), s.list("runs/a/ckpt/"));
    assertEquals(8 - 1, s.list("").size());
    assertEquals(List.of(), s.list("nothing/"));
  }

  @Test
  void keysOutsideTheRoot_areRejected() {
    LocalObjectStore s = new LocalObjectStore(dir.resolve("store"));
    for (String bad : List.of("../x", "a/../../x", "/etc/passwd", "", " ", "a/..", ".", "a//b", "a/", "a\\b", "..\\x",
        "runs/x\n; rm -rf", "runs/\u0000x", "a/./b", ".tmp/x", "datasets/../../../etc/passwd")) {
      assertThrows(StoreException.class, () -> s.put(bad, bytes("x")), "put '" + bad + "'");
      assertThrows(StoreException.class, () -> s.find(bad), "find '" + bad + "'");
      assertThrows(StoreException.class, () -> s.delete(bad), "delete '" + bad + "'");
    }
    assertFalse(Files.exists(dir.resolve("x")));
  }

  @Test
  void put_isAtomic_readersSeeOldOrNewBytesNeverAPart() throws Exception {
    LocalObjectStore s = new LocalObjectStore(dir);
    byte[] a = new byte[1 << 19];
    byte[] b = new byte[1 << 19];
    Arrays.fill(a, (byte) 'a');
    Arrays.fill(b, (byte) 'b');
    s.put("big", a);
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<String> problem = new AtomicReference<>();
    Thread reader = new Thread(() -> {
      int reads = 0;
      while (!done.get() || reads == 0) {
        byte[] got = s.find("big").orElse(null);
        reads++;
        if (got == null) problem.set("the key vanished during a replace");
        else if (got.length != a.length) problem.set("partial read of " + got.length + " bytes");
        else if (got[0] != got[got.length - 1]) problem.set("mixed content");
      }
    });
    reader.start();
    for (int i = 0; i < 40; i++) s.put("big", i % 2 == 0 ? b : a);
    done.set(true);
    reader.join();
    assertEquals(null, problem.get());
  }

  @Test
  void read_detectsTruncationBitFlipsAndCutHeaders_andNamesKeyAndDigests() throws Exception {
    LocalObjectStore s = new LocalObjectStore(dir);
    byte[] data = new byte[4096];
    new java.util.Random(7).nextBytes(data);
    BlobRef ref = s.put("runs/k/ckpt/epoch-00001.safetensors", data);
    Path file = dir.resolve(ref.key());
    byte[] stored = Files.readAllBytes(file);

    Files.write(file, Arrays.copyOf(stored, stored.length - 100)); // truncated
    CorruptObjectException cut = assertThrows(CorruptObjectException.class, () -> s.find(ref.key()));
    assertEquals(ref.key(), cut.key());
    assertEquals(ref.sha256(), cut.expected());
    assertEquals(sha256(Arrays.copyOf(data, data.length - 100)), cut.actual());
    assertTrue(cut.getMessage().contains(ref.key()) && cut.getMessage().contains(ref.sha256())
        && cut.getMessage().contains(cut.actual()) && cut.getMessage().contains("3996 bytes but 4096"), cut.getMessage());
    assertInstanceOf(StoreException.class, cut, "a StoreException too");

    byte[] flipped = stored.clone();
    flipped[flipped.length - 1000] ^= 0x10; // one bit of the data
    Files.write(file, flipped);
    CorruptObjectException flip = assertThrows(CorruptObjectException.class, () -> s.get(ref));
    assertEquals(ref.sha256(), flip.expected());
    assertThrows(CorruptObjectException.class, () -> s.read(ref.key()));

    Files.write(file, Arrays.copyOf(stored, 30)); // cut inside the header
    assertThrows(CorruptObjectException.class, () -> s.find(ref.key()));
    assertThrows(CorruptObjectException.class, () -> s.stat(ref.key()));
    Files.write(file, new byte[0]); // truncated to nothing
    assertThrows(CorruptObjectException.class, () -> s.find(ref.key()));

    s.put(ref.key(), data); // rewriting repairs it
    assertArrayEquals(data, s.get(ref));
  }

  @Test
  void olderObjectsWithoutADigest_readUnverified() throws Exception {
    LocalObjectStore s = new LocalObjectStore(dir);
    Files.createDirectories(dir.resolve("runs/old"));
    Files.write(dir.resolve("runs/old/result.json"), bytes("{\"runKey\":\"old\"}"));
    ObjectStore.Blob b = s.read("runs/old/result.json").orElseThrow();
    assertFalse(b.verified());
    assertArrayEquals(bytes("{\"runKey\":\"old\"}"), b.data());
    assertEquals(sha256(b.data()), b.sha256());
    assertEquals(new ObjectStore.Stat(b.data().length, null, null), s.stat("runs/old/result.json").orElseThrow());
    assertTrue(s.exists("runs/old/result.json"));
    assertEquals(Optional.empty(), s.stat("runs/old/none.json"));
  }

  @Test
  void aPutThatFailsAtAnyStep_leavesNoNewObjectAndNoTemporaryFile() throws Exception {
    for (String failAt : List.of("written", "verified")) {
      Path root = dir.resolve(failAt);
      LocalObjectStore ok = new LocalObjectStore(root);
      BlobRef old = ok.put("runs/k/result.json", bytes("old"));
      LocalObjectStore s = new LocalObjectStore(root, step -> {
        if (step.equals(failAt)) throw new java.io.IOException("injected failure after " + step);
      });
      StoreException e = assertThrows(StoreException.class, () -> s.put("runs/k/result.json", bytes("new")));
      assertTrue(e.getMessage().contains("runs/k/result.json") && e.getMessage().contains("nothing was published"), e.getMessage());
      assertArrayEquals(bytes("old"), s.get(old), "the old object stays: " + failAt);
      assertThrows(StoreException.class, () -> s.put("runs/k/fresh.json", bytes("new")));
      assertFalse(s.exists("runs/k/fresh.json"), "no new key: " + failAt);
      try (Stream<Path> files = Files.list(root.resolve(".tmp"))) {
        assertEquals(0, files.count(), "temporary file removed: " + failAt);
      }
      assertEquals(List.of("runs/k/result.json"), s.list(""));
    }
  }

  @Test
  void aPutOnAFullDisk_failsCleanly() throws Exception {
    try (Tmpfs disk = Tmpfs.mount(dir.resolve("small"), "1m")) {
      LocalObjectStore s = new LocalObjectStore(disk.dir());
      byte[] small = new byte[100_000];
      BlobRef kept = s.put("features/small", small);
      StoreException e = assertThrows(StoreException.class, () -> s.put("features/big", new byte[2 << 20]));
      assertTrue(e.getMessage().contains("features/big") && e.getMessage().contains("No space left"), e.getMessage());
      assertFalse(s.exists("features/big"));
      assertEquals(List.of("features/small"), s.list(""));
      try (Stream<Path> files = Files.list(disk.dir().resolve(".tmp"))) {
        assertEquals(0, files.count(), "the partial temporary file is removed");
      }
      assertArrayEquals(small, s.get(kept));
      s.put("features/again", new byte[100_000]); // the space came back
    }
  }

  @Test
  void keyValidation_saysWhatIsWrong() {
    assertEquals("runs/ab/targets/Caltech-101.json", ObjectStore.checkKey("runs/ab/targets/Caltech-101.json"));
    StoreException dots = assertThrows(StoreException.class, () -> ObjectStore.checkKey("runs/x/targets/../../../etc/passwd"));
    assertTrue(dots.getMessage().contains("'..' segment") && dots.getMessage().contains("runs/x/targets/../../../etc/passwd"),
        dots.getMessage());
    StoreException ctl = assertThrows(StoreException.class, () -> ObjectStore.checkKey("runs/../../evil\n; rm -rf"));
    assertFalse(ctl.getMessage().contains("\n"), "the control character is shown escaped: " + ctl.getMessage());
    assertTrue(ctl.getMessage().contains("control character") && ctl.getMessage().contains("\\u000a"), ctl.getMessage());
    assertTrue(assertThrows(StoreException.class, () -> ObjectStore.checkKey("/abs")).getMessage().contains("starts with '/'"));
    assertTrue(assertThrows(StoreException.class, () -> ObjectStore.checkKey("a\\b")).getMessage().contains("backslash"));
    assertTrue(assertThrows(StoreException.class, () -> ObjectStore.checkKey("a//b")).getMessage().contains("empty segment"));
    assertTrue(assertThrows(StoreException.class, () -> ObjectStore.checkKey(".tmp/x")).getMessage().contains("reserved"));
    assertEquals("runs/", ObjectStore.checkPrefix("runs/"));
    assertEquals("", ObjectStore.checkPrefix(""));
    assertEquals("runs/ab/ckpt/epoch-", ObjectStore.checkPrefix("runs/ab/ckpt/epoch-"));
    assertThrows(StoreException.class, () -> ObjectStore.checkPrefix("../"));
    assertThrows(StoreException.class, () -> new LocalObjectStore(dir).list("runs/../../"));
  }
}
