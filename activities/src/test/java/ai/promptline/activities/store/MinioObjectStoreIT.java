package ai.promptline.activities.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.ObjectStore.StoreException;
import ai.promptline.workflows.model.Stages.BlobRef;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MinIO store against a real MinIO ({@code PROMPTLINE_IT=1}; endpoint from
 * {@code PROMPTLINE_MINIO_ENDPOINT} or {@code PROMPTLINE_MINIO_PORT}, credentials from the
 * environment or {@code $PROMPTLINE_HOME/credentials.env}), in a bucket of its own that it removes.
 * Objects are corrupted behind the store's back through the S3 API, keeping their original
 * {@code sha256} metadata (bit rot and truncation as a reader meets them). With
 * {@code PROMPTLINE_BENCH=1} it also times puts and reads before/after write-verify-publish.
 */
@Tag("integration")
class MinioObjectStoreIT {
  static String endpoint;
  static String access;
  static String secret;
  static final String BUCKET = "it-integrity-" + Long.toString(System.currentTimeMillis(), 36);
  static MinioObjectStore store;
  static MinioClient client;
  @TempDir Path dir;

  @BeforeAll
  static void connect() throws Exception {
    Assumptions.assumeTrue("1".equals(System.getenv("PROMPTLINE_IT")), "PROMPTLINE_IT=1 runs the tests against real MinIO");
    Map<String, String> env = new HashMap<>(System.getenv());
    endpoint = env.getOrDefault("PROMPTLINE_MINIO_ENDPOINT", "http://127.0.0.1:" + env.getOrDefault("PROMPTLINE_MINIO_PORT", "9000"));
    access = env.get("PROMPTLINE_MINIO_ACCESS_KEY");
    secret = env.get("PROMPTLINE_MINIO_SECRET_KEY");
    if (access == null || secret == null) {
      Path home = Path.of(env.getOrDefault("PROMPTLINE_HOME", env.getOrDefault("PROMPTLINE_ROOT", ".") + "/.promptline"));
      for (String line : Files.readAllLines(home.resolve("credentials.env"))) {
        String l = line.strip().replaceFirst("^export ", "");
        if (l.startsWith("PROMPTLINE_MINIO_ACCESS_KEY=")) access = unquote(l.substring(l.indexOf('=') + 1));
        if (l.startsWith("PROMPTLINE_MINIO_SECRET_KEY=")) secret = unquote(l.substring(l.indexOf('=') + 1));
      }
    }
    store = new MinioObjectStore(endpoint, access, secret, BUCKET).ensureBucket();
    client = store.client();
  }

  @AfterAll
  static void removeBucket() throws Exception {
    if (client == null) return;
    for (String k : rawKeys("")) client.removeObject(RemoveObjectArgs.builder().bucket(BUCKET).object(k).build());
    client.removeBucket(io.minio.RemoveBucketArgs.builder().bucket(BUCKET).build());
  }

  private static String unquote(String v) {
    return v.length() >= 2 && (v.startsWith("\"") || v.startsWith("'")) ? v.substring(1, v.length() - 1) : v;
  }

  /** Every object in the bucket, temporary ones included. */
  static List<String> rawKeys(String prefix) throws Exception {
    List<String> out = new ArrayList<>();
    for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(BUCKET).prefix(prefix).recursive(true).build()))
      out.add(r.get().objectName());
    return out;
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Replaces an object's bytes through the S3 API, keeping its user metadata (the recorded sha256). */
  static void overwriteKeepingMetadata(String key, byte[] bytes) throws Exception {
    Map<String, String> meta = client.statObject(StatObjectArgs.builder().bucket(BUCKET).object(key).build()).userMetadata();
    try (InputStream in = new ByteArrayInputStream(bytes)) {
      client.putObject(PutObjectArgs.builder().bucket(BUCKET).object(key).stream(in, bytes.length, -1).userMetadata(meta).build());
    }
  }

  @Test
  void put_publishesVerifiedObjects_withDigestMetadata_andLeavesNoTemporaryObject() throws Exception {
    byte[] data = random(3 << 20, 1);
    BlobRef ref = store.put("features/a.safetensors", data);
    assertEquals(ObjectStore.checkKey("features/a.safetensors"), ref.key());
    ObjectStore.Blob b = store.read(ref.key()).orElseThrow();
    assertTrue(b.verified());
    assertArrayEquals(data, b.data());
    assertArrayEquals(data, store.get(ref));
    ObjectStore.Stat st = store.stat(ref.key()).orElseThrow();
    assertEquals(new ObjectStore.Stat(data.length, ref.sha256(), MinioObjectStore.md5Hex(data)), st,
        "the published copy keeps the sha256 metadata and its ETag is the MD5");
    byte[] big = random(12 << 20, 2); // over the client's 5 MiB multipart threshold: still one part
    BlobRef bigRef = store.put("features/big.safetensors", big);
    assertEquals(MinioObjectStore.md5Hex(big), store.stat(bigRef.key()).orElseThrow().md5());
    assertArrayEquals(big, store.get(bigRef));
    assertEquals(List.of(), rawKeys(ObjectStore.TEMP_PREFIX), "temporary objects deleted");
    assertEquals(Optional.empty(), store.read("features/none"));
    assertEquals(Optional.empty(), store.stat("features/none"));
  }

  @Test
  void bitRot_andTruncation_inPlace_areDetectedOnRead() throws Exception {
    byte[] data = random(1 << 20, 3);
    BlobRef ref = store.put("runs/k/ckpt/epoch-00002.safetensors", data);
    byte[] flipped = data.clone();
    flipped[123_456] ^= 0x01;
    overwriteKeepingMetadata(ref.key(), flipped);
    assertEquals(ref.sha256(), store.stat(ref.key()).orElseThrow().sha256(), "the recorded digest was kept");
    CorruptObjectException rot = assertThrows(CorruptObjectException.class, () -> store.find(ref.key()));
    assertEquals(ref.key(), rot.key());
    assertEquals(ref.sha256(), rot.expected());
    assertEquals(ai.promptline.workflows.model.ContentKeys.sha256Hex(flipped), rot.actual());
    assertTrue(rot.getMessage().contains(ref.key()) && rot.getMessage().contains(BUCKET), rot.getMessage());
    assertThrows(CorruptObjectException.class, () -> store.get(ref));

    overwriteKeepingMetadata(ref.key(), Arrays.copyOf(data, data.length / 2));
    CorruptObjectException cut = assertThrows(CorruptObjectException.class, () -> store.read(ref.key()));
    assertEquals(ref.sha256(), cut.expected());
    overwriteKeepingMetadata(ref.key(), new byte[0]);
    assertThrows(CorruptObjectException.class, () -> store.read(ref.key()));

    store.put(ref.key(), data); // rewriting repairs it
    assertArrayEquals(data, store.get(ref));
  }

  /**
   * Bit rot on MinIO's own disk (the local services' data folder, when this MinIO is one): MinIO's
   * bitrot check cuts the body short; the store reports that as corruption, not as a retryable
   * error, and never returns wrong bytes.
   */
  @Test
  void bitRotOnMinioDisk_isReportedAsCorruption() throws Exception {
    Path home = Path.of(System.getenv().getOrDefault("PROMPTLINE_HOME", ".promptline"));
    Path data = home.resolve("data/minio").resolve(BUCKET);
    Assumptions.assumeTrue(Files.isDirectory(data), "MinIO's data folder " + data + " is not on this machine");
    for (int size : new int[] {3 << 20, 100_000}) {
      byte[] bytes = random(size, 11);
      String key = "rot/" + size + ".bin";
      store.put(key, bytes);
      Path obj = data.resolve(key);
      Path biggest;
      try (var s = Files.walk(obj)) {
        biggest = s.filter(Files::isRegularFile).max(java.util.Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
      }
      byte[] raw = Files.readAllBytes(biggest);
      raw[raw.length - raw.length / 3] ^= 0x08;
      Files.write(biggest, raw);
      StoreException e = assertThrows(StoreException.class, () -> store.read(key), "never the wrong bytes");
      assertTrue(e instanceof CorruptObjectException, "reported as corruption: " + e);
      System.out.println("on-disk bit rot, " + size + " bytes (" + obj.relativize(biggest) + "): " + e.getClass().getSimpleName()
          + ": " + e.getMessage());
      store.put(key, bytes); // rewriting repairs it
      assertArrayEquals(bytes, store.find(key).orElseThrow());
    }
  }

  @Test
  void scratchCopy_doesNotHideACorruptStoredObject() throws Exception {
    ScratchCache scratch = ScratchCache.open(dir.resolve("scratch"), 64 << 20);
    byte[] data = random(1 << 20, 4);
    String key = "runs/s/ckpt/epoch-00001.safetensors";
    BlobRef ref = store.put(key, data);
    scratch.keep(key, ref, data);
    assertArrayEquals(data, scratch.read(store, key).orElseThrow().data());
    assertEquals(1, scratch.hits(), "served from the verified local copy after a stat");
    byte[] flipped = data.clone();
    flipped[99] ^= 0x40;
    overwriteKeepingMetadata(key, flipped);
    assertThrows(CorruptObjectException.class, () -> scratch.read(store, key),
        "the stored copy's ETag no longer matches the local bytes: the store is read, and reports it");
    assertArrayEquals(data, scratch.get(store, ref), "a read by digest still gets the verified bytes");
  }

  @Test
  void olderObjectsWithoutDigest_readUnverified() throws Exception {
    byte[] data = "{\"runKey\":\"old\"}".getBytes();
    try (InputStream in = new ByteArrayInputStream(data)) {
      client.putObject(PutObjectArgs.builder().bucket(BUCKET).object("runs/old/result.json").stream(in, data.length, -1).build());
    }
    ObjectStore.Blob b = store.read("runs/old/result.json").orElseThrow();
    assertFalse(b.verified());
    assertArrayEquals(data, b.data());
    assertEquals(null, store.stat("runs/old/result.json").orElseThrow().sha256());
  }

  @Test
  void aPutThatFailsAtAnyStep_publishesNothing_andRemovesItsTemporaryObject() throws Exception {
    byte[] data = random(200_000, 5);
    BlobRef old = store.put("runs/f/result.json", "old".getBytes());
    // 1. the process fails right after the upload
    MinioObjectStore failing = with(MinioObjectStore.Verify.ETAG, (step, tmp) -> {
      if (step.equals("written")) throw new java.io.IOException("injected failure after the upload");
    });
    assertThrows(StoreException.class, () -> failing.put("runs/f/result.json", data));
    assertThrows(StoreException.class, () -> failing.put("runs/f/new.bin", data));
    // 2. the uploaded object is not what was sent (changed behind the writer's back): verification refuses it
    for (MinioObjectStore.Verify v : MinioObjectStore.Verify.values()) {
      MinioObjectStore tampering = with(v, (step, tmp) -> {
        if (step.equals("written")) overwriteKeepingMetadata(tmp, random(200_000, 6));
      });
      StoreException e = assertThrows(StoreException.class, () -> tampering.put("runs/f/new.bin", data), v.name());
      assertTrue(e.getMessage().contains("nothing was published"), e.getMessage());
    }
    // 3. the publishing copy fails (its source vanished)
    MinioObjectStore vanishing = with(MinioObjectStore.Verify.ETAG, (step, tmp) -> {
      if (step.equals("verified")) client.removeObject(RemoveObjectArgs.builder().bucket(BUCKET).object(tmp).build());
    });
    StoreException copy = assertThrows(StoreException.class, () -> vanishing.put("runs/f/new.bin", data));
    assertTrue(copy.getMessage().contains("publish failed"), copy.getMessage());

    assertFalse(store.exists("runs/f/new.bin"), "no final key");
    assertArrayEquals("old".getBytes(), store.get(old), "the old object stays");
    assertEquals(List.of(), rawKeys(ObjectStore.TEMP_PREFIX), "no temporary object left");
    assertEquals(List.of("runs/f/result.json"), store.list("runs/f/"));
  }

  @Test
  void temporaryObjects_areNeverListed_andStaleOnesAreSwept() throws Exception {
    byte[] half = random(1000, 7);
    try (InputStream in = new ByteArrayInputStream(half)) {
      client.putObject(PutObjectArgs.builder().bucket(BUCKET).object(".tmp/left-by-a-killed-writer").stream(in, half.length, -1).build());
    }
    store.put("runs/t/x", half);
    assertEquals(List.of("runs/t/x"), store.list("runs/t/"));
    assertFalse(store.list("").stream().anyMatch(k -> k.startsWith(".tmp")), store.list("").toString());
    assertThrows(StoreException.class, () -> store.read(".tmp/left-by-a-killed-writer"), "not readable as data");
    store.sweepTemp(ZonedDateTime.now().minusHours(1));
    assertEquals(List.of(".tmp/left-by-a-killed-writer"), rawKeys(".tmp/"), "a fresh one may belong to a live writer");
    store.sweepTemp(ZonedDateTime.now().plusMinutes(1));
    assertEquals(List.of(), rawKeys(".tmp/"));
  }

  @Test
  void invalidKeys_neverReachTheServer() throws Exception {
    for (String bad : List.of("../x", "runs/../../x", "/abs", "a\\b", "a//b", "runs/x\n", ".tmp/x", "")) {
      assertThrows(StoreException.class, () -> store.put(bad, new byte[1]), bad);
      assertThrows(StoreException.class, () -> store.read(bad), bad);
    }
    assertEquals(List.of(), rawKeys("x"));
  }

  private static MinioObjectStore with(MinioObjectStore.Verify verify, MinioObjectStore.Steps steps) {
    return new MinioObjectStore(endpoint, access, secret, BUCKET, verify, steps);
  }

  /**
   * Times 100 puts of 1 MB and 10 of 50 MB (and reads) before/after write-verify-publish: the modes
   * interleaved put by put (the machine is shared, so load hits all alike), medians reported, and the
   * steps of a verified put (upload, verify, copy, delete) timed through the test seam.
   */
  @Test
  void bench_writeVerifyPublish() throws Exception {
    Assumptions.assumeTrue("1".equals(System.getenv("PROMPTLINE_BENCH")), "PROMPTLINE_BENCH=1 times puts and reads");
    long[] mark = new long[1];
    double[][] stepTimes = new double[3][];
    int[] at = new int[1];
    MinioObjectStore.Steps timing = (step, tmp) -> {
      long now = System.nanoTime();
      int s = switch (step) { case "written" -> 0; case "verified" -> 1; default -> 2; };
      stepTimes[s][at[0]] = (now - mark[0]) / 1e6;
      mark[0] = now;
    };
    MinioObjectStore etag = with(MinioObjectStore.Verify.ETAG, timing);
    MinioObjectStore readBack = with(MinioObjectStore.Verify.READ_BACK, MinioObjectStore.Steps.NONE);
    StringBuilder table = new StringBuilder("\n| puts | plain PUT (before) | write-verify-publish, ETag (after) | same, read-back |"
        + " after: upload / verify / copy / delete | plain GET | verified GET |\n|---|---|---|---|---|---|---|\n");
    for (int[] c : new int[][] {{100, 1 << 20}, {10, 50 << 20}}) {
      int n = c[0];
      byte[] data = random(c[1], 8);
      for (int i = 0; i < 2; i++) { // warm-up
        rawPut("bench/w" + i, data);
        store.put("bench/w" + i, data);
      }
      double[][] t = new double[5][n];
      double[] del = new double[n];
      for (int k = 0; k < 3; k++) stepTimes[k] = new double[n];
      for (int i = 0; i < n; i++) {
        at[0] = i;
        long s0 = System.nanoTime();
        rawPut("bench/raw" + i, data);
        long s1 = System.nanoTime();
        mark[0] = s1;
        etag.put("bench/etag" + i, data);
        long s2 = System.nanoTime();
        del[i] = (s2 - mark[0]) / 1e6;
        readBack.put("bench/back" + i, data);
        long s3 = System.nanoTime();
        try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(BUCKET).object("bench/raw" + i).build())) {
          in.readAllBytes();
        }
        long s4 = System.nanoTime();
        store.find("bench/etag" + i).orElseThrow();
        long s5 = System.nanoTime();
        t[0][i] = (s1 - s0) / 1e6;
        t[1][i] = (s2 - s1) / 1e6;
        t[2][i] = (s3 - s2) / 1e6;
        t[3][i] = (s4 - s3) / 1e6;
        t[4][i] = (s5 - s4) / 1e6;
      }
      double[] med = new double[5];
      for (int k = 0; k < 5; k++) med[k] = median(t[k]);
      table.append(String.format(Locale.ROOT,
          "| %d × %d MB | %.1f ms | %.1f ms (%+.0f%%) | %.1f ms (%+.0f%%) | %.1f / %.1f / %.1f / %.1f ms | %.1f ms | %.1f ms (%+.0f%%) |%n",
          n, c[1] >> 20, med[0], med[1], 100 * (med[1] / med[0] - 1), med[2], 100 * (med[2] / med[0] - 1),
          median(stepTimes[0]), median(stepTimes[1]), median(stepTimes[2]), median(del), med[3], med[4],
          100 * (med[4] / med[3] - 1)));
      for (String k : rawKeys("bench/")) client.removeObject(RemoveObjectArgs.builder().bucket(BUCKET).object(k).build());
    }
    System.out.println("write-verify-publish cost (median per operation), MinIO at " + endpoint + ":" + table);
    assertNotEquals(0, table.length());
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static void rawPut(String key, byte[] data) throws Exception {
    try (InputStream in = new ByteArrayInputStream(data)) {
      client.putObject(PutObjectArgs.builder().bucket(BUCKET).object(key).stream(in, data.length, -1)
          .userMetadata(Map.of("sha256", ai.promptline.workflows.model.ContentKeys.sha256Hex(data)))
          .contentType("application/octet-stream").build());
    }
  }
}
