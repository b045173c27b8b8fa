package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.MinioObjectStore;
import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.store.ObjectStore.StoreException;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveBucketArgs;
import io.minio.RemoveObjectArgs;
import io.minio.errors.ErrorResponseException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The local services' attack surface: every socket the managed processes listen on is bound to
 * the loopback interface; the worker's MinIO key reaches only the Promptline buckets (no other
 * bucket, no admin API); MLflow's key only its artifact bucket; the credentials file is mode 600.
 */
@Tag("integration")
class ServicesSecurityIT {
  static final String SUFFIX = Long.toString(System.currentTimeMillis(), 36);

  /** A listening TCP or bound UDP socket: /proc/net file, hex local address, port, owning pid. */
  record Socket(String table, String address, int port, long pid) {
    boolean loopback() {
      return address.length() == 8 ? address.endsWith("7F") // 127.0.0.0/8, little-endian
          : address.equals("00000000000000000000000001000000") // ::1
              || address.startsWith("0000000000000000FFFF0000") && address.endsWith("7F"); // ::ffff:127.x
    }
  }

  static List<Socket> boundSockets(List<Long> pids) throws Exception {
    Map<String, Long> inodes = new HashMap<>();
    for (long pid : pids) {
      Path fds = Path.of("/proc/" + pid + "/fd");
      try (var list = Files.list(fds)) {
        for (Path fd : (Iterable<Path>) list::iterator) {
          try {
            String target = Files.readSymbolicLink(fd).toString();
            if (target.startsWith("socket:[")) inodes.put(target.substring(8, target.length() - 1), pid);
          } catch (java.io.IOException closed) {
            // fd closed while listing
          }
        }
      } catch (java.nio.file.NoSuchFileException exited) {
        // a short-lived child
      }
    }
    List<Socket> out = new ArrayList<>();
    for (String table : List.of("tcp", "tcp6", "udp", "udp6")) {
      List<String> lines = Files.readAllLines(Path.of("/proc/net/" + table));
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.strip().split("\\s+");
        Long pid = inodes.get(f[9]);
        if (pid == null) continue;
        String[] local = f[1].split(":");
        boolean bound = table.startsWith("tcp") ? f[3].equals("0A") /* LISTEN */ : f[3].equals("07") /* unconnected */;
        if (bound) out.add(new Socket(table, local[0], Integer.parseInt(local[1], 16), pid));
      }
    }
    return out;
  }

  @Test
  void everyListeningSocketOfTheServices_isOnLoopback() throws Exception {
    Settings s = LocalServices.settings();
    Map<String, Integer> configured = Map.of(
        "temporal", Integer.parseInt(s.temporalTarget().substring(s.temporalTarget().lastIndexOf(':') + 1)),
        "mlflow", java.net.URI.create(s.mlflowUri()).getPort(),
        "minio", java.net.URI.create(s.storeEndpoint()).getPort());
    StringBuilder report = new StringBuilder();
    for (String svc : LocalServices.NAMES) {
      List<Socket> sockets = boundSockets(LocalServices.processGroup(svc));
      Set<Integer> ports = new HashSet<>();
      for (Socket k : sockets) {
        ports.add(k.port());
        report.append(svc).append(' ').append(k).append('\n');
        assertTrue(k.loopback(), svc + " (pid " + k.pid() + ") listens on a non-loopback address: " + k);
      }
      // the inspection sees what it must: the service's own configured port is among them
      assertTrue(ports.contains(configured.get(svc)), svc + ": port " + configured.get(svc) + " not among " + sockets);
    }
    System.out.print(report);
  }

  @Test
  void credentialsFile_isMode600() throws Exception {
    Path f = LocalServices.settings().credentialsFile();
    assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(f), f.toString());
  }

  static MinioClient client(String access, String secret) {
    return MinioClient.builder().endpoint(LocalServices.settings().storeEndpoint()).credentials(access, secret).build();
  }

  static void assertDenied(String what, Executable call) {
    ErrorResponseException e = assertThrows(ErrorResponseException.class, call, what + " must be refused");
    assertEquals("AccessDenied", e.errorResponse().code(), what + ": " + e.getMessage());
  }

  static void put(MinioClient c, String bucket, String key, byte[] data) throws Exception {
    c.putObject(PutObjectArgs.builder().bucket(bucket).object(key).stream(new ByteArrayInputStream(data), data.length, -1).build());
  }

  static byte[] get(MinioClient c, String bucket, String key) throws Exception {
    try (var in = c.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
      return in.readAllBytes();
    }
  }

  @Test
  void workerKey_reachesOnlyThePromptlineBuckets() throws Exception {
    Map<String, String> creds = LocalServices.credentials();
    String workerAccess = creds.get("PROMPTLINE_MINIO_WORKER_ACCESS_KEY");
    String workerSecret = creds.get("PROMPTLINE_MINIO_WORKER_SECRET_KEY");
    assertNotEquals(creds.get("PROMPTLINE_MINIO_ACCESS_KEY"), workerAccess, "the worker key is not the root key");
    MinioClient root = client(creds.get("PROMPTLINE_MINIO_ACCESS_KEY"), creds.get("PROMPTLINE_MINIO_SECRET_KEY"));
    MinioClient worker = client(workerAccess, workerSecret);
    byte[] data = "x".getBytes(StandardCharsets.UTF_8);

    // what the Java side uses is that key, and it works on a fresh promptline-* bucket it creates
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("PROMPTLINE_BUCKET", "promptline-sec-" + SUFFIX);
    Settings settings = Settings.from(env);
    assertEquals(workerAccess, settings.s3Key().access());
    ObjectStore store = settings.store();
    store.put("k", data);
    assertArrayEquals(data, store.find("k").orElseThrow());
    assertArrayEquals(data, get(worker, "promptline-sec-" + SUFFIX, "k"));

    // another bucket (root creates it): no read, no write, no list; no new bucket outside the prefix
    String other = "other-sec-" + SUFFIX;
    root.makeBucket(MakeBucketArgs.builder().bucket(other).build());
    try {
      put(root, other, "secret.txt", data);
      assertDenied("worker GET in " + other, () -> get(worker, other, "secret.txt"));
      assertDenied("worker PUT in " + other, () -> put(worker, other, "planted.txt", data));
      assertDenied("worker LIST in " + other,
          () -> worker.listObjects(ListObjectsArgs.builder().bucket(other).build()).iterator().next().get());
      assertDenied("worker PUT in mlflow-artifacts", () -> put(worker, "mlflow-artifacts", "planted.txt", data));
      assertDenied("worker creates bucket outside promptline-*",
          () -> worker.makeBucket(MakeBucketArgs.builder().bucket("evil-" + SUFFIX).build()));
      assertFalse(root.bucketExists(BucketExistsArgs.builder().bucket("evil-" + SUFFIX).build()));
      // MinioObjectStore's messages name the bucket and endpoint, never the secret
      StoreException e = assertThrows(StoreException.class,
          () -> new MinioObjectStore(settings.storeEndpoint(), workerAccess, workerSecret, other).put("k", data));
      assertTrue(e.getMessage().contains(other) && !e.getMessage().contains(workerSecret), e.getMessage());
    } finally {
      root.removeObject(RemoveObjectArgs.builder().bucket(other).object("secret.txt").build());
      root.removeBucket(RemoveBucketArgs.builder().bucket(other).build());
    }

    // MLflow's key: the artifact bucket only
    MinioClient mlflow = client(creds.get("PROMPTLINE_MLFLOW_S3_ACCESS_KEY"), creds.get("PROMPTLINE_MLFLOW_S3_SECRET_KEY"));
    assertDenied("mlflow key PUT in promptline-sec-*", () -> put(mlflow, "promptline-sec-" + SUFFIX, "planted.txt", data));
    mlflow.bucketExists(BucketExistsArgs.builder().bucket("mlflow-artifacts").build());
  }

  @Test
  void workerKey_cannotUseTheAdminApi() throws Exception {
    Map<String, String> creds = LocalServices.credentials();
    // MinIO's admin API through the MinioAdmin client of the services venv: as root it answers,
    // as the worker (and as MLflow's key) it is refused
    String script = String.join("\n",
        "import os, sys",
        "from minio.credentials import StaticProvider",
        "from minio.error import MinioAdminException",
        "from minio.minioadmin import MinioAdmin",
        "a = MinioAdmin(endpoint=os.environ['PL_EP'], credentials=StaticProvider(os.environ['PL_A'], os.environ['PL_S']), secure=False)",
        "try:",
        "    a.user_list()",
        "    print('ALLOWED')",
        "except MinioAdminException as e:",
        "    print('DENIED', e._code)");
    String endpoint = java.net.URI.create(LocalServices.settings().storeEndpoint()).getAuthority();
    assertEquals("ALLOWED", admin(script, endpoint, creds.get("PROMPTLINE_MINIO_ACCESS_KEY"), creds.get("PROMPTLINE_MINIO_SECRET_KEY")));
    assertEquals("DENIED 403", admin(script, endpoint, creds.get("PROMPTLINE_MINIO_WORKER_ACCESS_KEY"), creds.get("PROMPTLINE_MINIO_WORKER_SECRET_KEY")));
    assertEquals("DENIED 403", admin(script, endpoint, creds.get("PROMPTLINE_MLFLOW_S3_ACCESS_KEY"), creds.get("PROMPTLINE_MLFLOW_S3_SECRET_KEY")));
  }

  static String admin(String script, String endpoint, String access, String secret) throws Exception {
    Path python = LocalServices.home().resolve("venv/bin/python");
    ProcessBuilder pb = new ProcessBuilder(python.toString(), "-c", script).redirectErrorStream(true);
    pb.environment().putAll(Map.of("PL_EP", endpoint, "PL_A", access, "PL_S", secret)); // env, not argv
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    return out;
  }
}
