package ai.promptline.activities.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.ObjectStore.StoreException;
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
    assertArrayEquals(bytes("{\"a\":1}"), Files.readAllBytes(dir.resolve("runs/abc/result.json")), "a plain file under the root");
    assertArrayEquals(bytes("{\"a\":1}"), s.get(ref));
    assertTrue(s.exists("runs/abc/result.json"));
    assertEquals(Optional.empty(), s.find("runs/abc/other.json"));
    assertFalse(s.exists("runs/abc/other.json"));

    BlobRef ref2 = s.put("runs/abc/result.json", bytes("x"));
    assertArrayEquals(bytes("x"), s.get(ref2));
    try (Stream<Path> files = Files.list(dir.resolve("runs/abc"))) {
      assertEquals(List.of("result.json"), files.map(p -> p.getFileName().toString()).toList(), "no temporary files left");
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
    Files.write(dir.resolve("features/f.safetensors"), bytes("tensor bytez"));
    StoreException corrupt = assertThrows(StoreException.class, () -> s.get(ref));
    assertTrue(corrupt.getMessage().contains("corrupt") && corrupt.getMessage().contains(ref.sha256()), corrupt.getMessage());
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
    Files.write(dir.resolve("runs/a/.put-123.tmp"), bytes("half written"));
    assertEquals(List.of("runs/a/ckpt/epoch-00002.safetensors", "runs/a/ckpt/epoch-00010.safetensors", "runs/a/x", "runs/a/y",
        "runs/b/x"), s.list("runs/"));
    assertEquals(List.of("runs/a/ckpt/epoch-00002.safetensors", "runs/a/ckpt/epoch-00010.safetensors"), s.list("runs/a/ckpt/"));
    assertEquals(8 - 1, s.list("").size());
    assertEquals(List.of(), s.list("nothing/"));
  }

  @Test
  void keysOutsideTheRoot_areRejected() {
    LocalObjectStore s = new LocalObjectStore(dir.resolve("store"));
    for (String bad : List.of("../x", "a/../../x", "/etc/passwd", "", " ", "a/..", ".")) {
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
}
