package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Environment parsing, file: backends and the credentials file format. */
class SettingsTest {
  @TempDir Path dir;

  @Test
  void defaults_areTheLocalServicesPorts() {
    Settings s = Settings.from(Map.of());
    assertEquals("127.0.0.1:7233", s.temporalTarget());
    assertEquals("default", s.namespace());
    assertEquals("http://127.0.0.1:5000", s.mlflowUri());
    assertEquals("http://127.0.0.1:9000", s.storeEndpoint());
    assertEquals("promptline", s.bucket());
    assertTrue(s.home().isAbsolute());
    assertEquals(".promptline", s.home().getFileName().toString());
    assertEquals(s.home().resolve("credentials.env"), s.credentialsFile());
    assertEquals("http://127.0.0.1:5000", s.mlflowUi());
  }

  @Test
  void ports_andExplicitValues_override() {
    Settings ports = Settings.from(Map.of("PROMPTLINE_TEMPORAL_PORT", "17233", "PROMPTLINE_MLFLOW_PORT", "15000",
        "PROMPTLINE_MINIO_PORT", "19000", "PROMPTLINE_HOME", dir.toString()));
    assertEquals("127.0.0.1:17233", ports.temporalTarget());
    assertEquals("http://127.0.0.1:15000", ports.mlflowUri());
    assertEquals("http://127.0.0.1:19000", ports.storeEndpoint());
    assertEquals(dir.toAbsolutePath(), ports.home());
    assertEquals(dir.toAbsolutePath().resolve("credentials.env"), ports.credentialsFile());

    Settings explicit = Settings.from(Map.of("PROMPTLINE_TEMPORAL_PORT", "17233", "PROMPTLINE_TEMPORAL_TARGET", "temporal:7000",
        "PROMPTLINE_TEMPORAL_NAMESPACE", "research", "PROMPTLINE_MLFLOW_URI", "http://mlflow:80",
        "PROMPTLINE_MINIO_ENDPOINT", "https://s3.example:443", "PROMPTLINE_BUCKET", "exp",
        "PROMPTLINE_CREDENTIALS_FILE", "/etc/promptline/creds.env"));
    assertEquals("temporal:7000", explicit.temporalTarget(), "the target wins over the port");
    assertEquals("research", explicit.namespace());
    assertEquals("http://mlflow:80", explicit.mlflowUri());
    assertEquals("https://s3.example:443", explicit.storeEndpoint());
    assertEquals("exp", explicit.bucket());
    assertEquals(Path.of("/etc/promptline/creds.env"), explicit.credentialsFile());
    assertTrue(explicit.temporalUi().startsWith("http://temporal:"), explicit.temporalUi());
  }

  @Test
  void fileUris_selectTheLocalTrackerAndStore() throws Exception {
    Path mlruns = dir.resolve("mlruns");
    Path objects = dir.resolve("objects");
    Settings s = Settings.from(Map.of("PROMPTLINE_MLFLOW_URI", mlruns.toUri().toString(),
        "PROMPTLINE_MINIO_ENDPOINT", "file:" + objects, "PROMPTLINE_CREDENTIALS_FILE", dir.resolve("none.env").toString()));
    Tracker t = s.tracker();
    assertInstanceOf(FileTracker.class, t);
    t.experimentId("e");
    assertTrue(Files.exists(mlruns.resolve("experiments.json")), "the tracker writes where the URI points");
    ObjectStore store = s.store();
    assertInstanceOf(LocalObjectStore.class, store, "file: needs no credentials");
    store.put("k/v", "x".getBytes(StandardCharsets.UTF_8));
    assertTrue(Files.readString(objects.resolve("k/v")).endsWith("\nx"), "a file where the URI points: digest header, then the bytes");
    assertEquals("x", new String(store.find("k/v").orElseThrow(), StandardCharsets.UTF_8));
    assertEquals("file:" + objects, store.describe());
  }

  @Test
  void minioWithoutCredentials_failsWithAnActionableMessage() {
    Assumptions.assumeTrue(System.getenv("PROMPTLINE_MINIO_ACCESS_KEY") == null || System.getenv("PROMPTLINE_MINIO_SECRET_KEY") == null,
        "credentials in this process's environment");
    Settings s = Settings.from(Map.of("PROMPTLINE_MINIO_ENDPOINT", "http://127.0.0.1:1",
        "PROMPTLINE_CREDENTIALS_FILE", dir.resolve("missing.env").toString()));
    IllegalStateException e = assertThrows(IllegalStateException.class, s::store);
    assertTrue(e.getMessage().contains("PROMPTLINE_MINIO_ACCESS_KEY") && e.getMessage().contains("missing.env"), e.getMessage());
  }

  @Test
  void readEnvFile_handlesExportQuotesCommentsAndBlankLines() throws Exception {
    Path f = dir.resolve("credentials.env");
    Files.writeString(f, String.join("\n",
        "# written by ./promptline services up",
        "",
        "export MINIO_ROOT_USER=promptline",
        "MINIO_ROOT_PASSWORD=\"s3cr3t with spaces\"",
        "  AWS_ACCESS_KEY_ID = 'single'  ",
        "TOKEN=a=b=c",
        "EMPTY=",
        "QUOTED_EMPTY=\"\"",
        "not a pair",
        "=novalue",
        "   # indented comment",
        "ONE_QUOTE=\"",
        ""));
    Map<String, String> m = Settings.readEnvFile(f);
    assertEquals("promptline", m.get("MINIO_ROOT_USER"));
    assertEquals("s3cr3t with spaces", m.get("MINIO_ROOT_PASSWORD"));
    assertEquals("single", m.get("AWS_ACCESS_KEY_ID"));
    assertEquals("a=b=c", m.get("TOKEN"), "split at the first '='");
    assertEquals("", m.get("EMPTY"));
    assertEquals("", m.get("QUOTED_EMPTY"));
    assertEquals("\"", m.get("ONE_QUOTE"), "a lone quote is kept");
    assertTrue(m.keySet().stream().noneMatch(k -> k.startsWith("#") || k.isEmpty() || k.contains(" ")), m.keySet().toString());
    assertThrows(IllegalStateException.class, () -> Settings.readEnvFile(dir.resolve("absent.env")));
  }

  @Test
  void scratch_defaultsUnderHome_withACap_andBadSizesAreNamed() {
    Settings d = Settings.from(Map.of("PROMPTLINE_HOME", dir.toString()));
    assertEquals(dir.toAbsolutePath().resolve("scratch"), d.scratchDir());
    assertEquals(10L << 30, d.scratchMaxBytes());
    assertTrue(d.scratch().enabled());
    assertTrue(Files.isDirectory(dir.resolve("scratch/blobs")));
    Settings s = Settings.from(Map.of("PROMPTLINE_HOME", dir.toString(), "PROMPTLINE_SCRATCH", dir.resolve("tmpfs").toString(),
        "PROMPTLINE_SCRATCH_MAX", "512m"));
    assertEquals(dir.resolve("tmpfs").toAbsolutePath(), s.scratch().dir());
    assertEquals(512L << 20, s.scratch().maxBytes());
    assertEquals(12345, Settings.parseSize("X", "12345"));
    assertEquals(64 << 10, Settings.parseSize("X", "64K"));
    assertEquals(2L << 30, Settings.parseSize("X", "2gb"));
    assertTrue(!Settings.from(Map.of("PROMPTLINE_HOME", dir.toString(), "PROMPTLINE_SCRATCH_MAX", "0")).scratch().enabled());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> Settings.from(Map.of("PROMPTLINE_SCRATCH_MAX", "lots")).scratchMaxBytes());
    assertTrue(bad.getMessage().contains("PROMPTLINE_SCRATCH_MAX='lots'") && bad.getMessage().contains("10g"), bad.getMessage());
  }

  @Test
  void retryBudget_defaultsToFiveMinutes_andIsConfigurable() {
    assertEquals(java.time.Duration.ofMinutes(5), Settings.from(Map.of()).retryBudget());
    assertEquals(java.time.Duration.ofSeconds(300), Settings.from(Map.of("PROMPTLINE_RETRY_BUDGET", "300s")).retryBudget());
    assertEquals(java.time.Duration.ofMinutes(10), Settings.from(Map.of("PROMPTLINE_RETRY_BUDGET", "10m")).retryBudget());
    assertEquals(java.time.Duration.ZERO, Settings.from(Map.of("PROMPTLINE_RETRY_BUDGET", "0")).retryBudget());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Settings.from(Map.of("PROMPTLINE_RETRY_BUDGET", "soon")).retryBudget());
    assertTrue(e.getMessage().startsWith("PROMPTLINE_RETRY_BUDGET: 'soon' is not a duration"), e.getMessage());
  }

  @Test
  void aServerTracker_waitsOutRestarts_aFileOneDoesNot() {
    Tracker server = Settings.from(Map.of("PROMPTLINE_MLFLOW_URI", "http://127.0.0.1:5999")).tracker();
    assertInstanceOf(ai.promptline.activities.tracking.RetryingTracker.class, server);
    assertInstanceOf(FileTracker.class, Settings.from(Map.of("PROMPTLINE_MLFLOW_URI", "file:" + dir)).tracker());
  }
}
