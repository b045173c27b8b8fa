package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.tracking.MlflowTracker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which keys the Java side takes from the credentials file that services.sh writes: the
 * bucket-scoped worker key before the root key, MLflow's basic-auth user; env overrides win; no
 * message or toString carries a secret.
 */
class SettingsCredentialsTest {
  static final String ROOT_SECRET = "rootsecret0123456789abcdef";
  static final String WORKER_SECRET = "workersecret0123456789abcd";
  static final String MLFLOW_PASSWORD = "fake-mlflow-" + "password-0123456789"; // a test value, not a credential

  @TempDir Path dir;

  Path file(String... lines) throws Exception {
    Path f = dir.resolve("credentials.env");
    Files.write(f, List.of(lines));
    return f;
  }

  Path servicesFile() throws Exception {
    return file("# written by services.sh",
        "PROMPTLINE_MINIO_ACCESS_KEY=plroot", "PROMPTLINE_MINIO_SECRET_KEY=" + ROOT_SECRET,
        "PROMPTLINE_MINIO_WORKER_ACCESS_KEY=plworker", "PROMPTLINE_MINIO_WORKER_SECRET_KEY=" + WORKER_SECRET,
        "PROMPTLINE_MINIO_WORKER_BUCKETS=promptline,promptline-*",
        "PROMPTLINE_MLFLOW_ADMIN_USERNAME=admin", "PROMPTLINE_MLFLOW_ADMIN_PASSWORD=adminpassword0123456789",
        "PROMPTLINE_MLFLOW_USERNAME=promptline-worker", "PROMPTLINE_MLFLOW_PASSWORD=" + MLFLOW_PASSWORD);
  }

  static Settings settings(Path creds, String... kv) {
    Map<String, String> env = new HashMap<>();
    env.put("PROMPTLINE_CREDENTIALS_FILE", creds.toString());
    env.put("PROMPTLINE_MINIO_ENDPOINT", "http://127.0.0.1:1");
    for (int i = 0; i < kv.length; i += 2) env.put(kv[i], kv[i + 1]);
    return Settings.from(env);
  }

  @Test
  void workerKey_isPreferredOverTheRootKey_withItsBucketScope() throws Exception {
    Settings.S3Key key = settings(servicesFile()).s3Key();
    assertEquals("plworker", key.access());
    assertEquals(WORKER_SECRET, key.secret());
    assertEquals("promptline,promptline-*", key.buckets());
  }

  @Test
  void fileWithoutWorkerKey_fallsBackToTheRootKey() throws Exception {
    // e.g. deploy/compose's credentials.env, or one written before the worker key existed
    Settings.S3Key key = settings(file("PROMPTLINE_MINIO_ACCESS_KEY=plroot", "PROMPTLINE_MINIO_SECRET_KEY=" + ROOT_SECRET)).s3Key();
    assertEquals("plroot", key.access());
    assertNull(key.buckets(), "the root key is not scoped");
    Settings.S3Key legacy = settings(file("MINIO_ROOT_USER=minio", "MINIO_ROOT_PASSWORD=" + ROOT_SECRET)).s3Key();
    assertEquals("minio", legacy.access());
  }

  @Test
  void environmentKeys_overrideTheFile() throws Exception {
    Settings.S3Key key = settings(servicesFile(), "PROMPTLINE_MINIO_ACCESS_KEY", "envkey",
        "PROMPTLINE_MINIO_SECRET_KEY", "envsecret123").s3Key();
    assertEquals("envkey", key.access());
    assertNull(key.buckets());
    assertNull(settings(dir.resolve("absent.env")).s3Key());
  }

  @Test
  void bucketOutsideTheWorkerScope_isRefusedNamingTheBucketTheScopeAndTheFix() throws Exception {
    Settings s = settings(servicesFile(), "PROMPTLINE_BUCKET", "it-abc");
    IllegalStateException e = assertThrows(IllegalStateException.class, s::store);
    String m = e.getMessage();
    assertTrue(m.contains("'it-abc'") && m.contains("promptline,promptline-*") && m.contains("promptline-it-abc")
        && m.contains("PROMPTLINE_MINIO_ACCESS_KEY"), m);
    assertFalse(m.contains(WORKER_SECRET) || m.contains(ROOT_SECRET), "no secret in the message: " + m);
  }

  @Test
  void scopeMatching_exactNamesAndPrefixes() {
    assertTrue(Settings.allows("promptline,promptline-*", "promptline"));
    assertTrue(Settings.allows("promptline,promptline-*", "promptline-it-x1"));
    assertFalse(Settings.allows("promptline,promptline-*", "promptlinex"));
    assertFalse(Settings.allows("promptline,promptline-*", "mlflow-artifacts"));
    assertFalse(Settings.allows("promptline,promptline-*", "it-x1"));
    assertTrue(Settings.allows(" exp , lab-* ", "lab-1"));
  }

  @Test
  void mlflowLogin_fromTheFile_orTheEnvironment_orNone() throws Exception {
    Settings.Login fromFile = settings(servicesFile()).mlflowLogin();
    assertEquals("promptline-worker", fromFile.username());
    assertEquals(MLFLOW_PASSWORD, fromFile.password());
    assertFalse(fromFile.toString().contains(MLFLOW_PASSWORD), fromFile.toString());

    Settings.Login fromEnv = settings(servicesFile(), "PROMPTLINE_MLFLOW_USERNAME", "alice",
        "PROMPTLINE_MLFLOW_PASSWORD", "alicepw12345").mlflowLogin();
    assertEquals("alice", fromEnv.username());
    assertEquals("alicepw12345", fromEnv.password());

    assertNull(settings(file("PROMPTLINE_MINIO_ACCESS_KEY=a", "PROMPTLINE_MINIO_SECRET_KEY=" + ROOT_SECRET)).mlflowLogin());
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> settings(dir.resolve("none.env"), "PROMPTLINE_MLFLOW_USERNAME", "bob").mlflowLogin());
    assertTrue(e.getMessage().contains("PROMPTLINE_MLFLOW_PASSWORD"), e.getMessage());
  }

  @Test
  void tracker_withALogin_isTheMlflowTracker_andSettingsPrintNoSecret() throws Exception {
    Settings s = settings(servicesFile(), "PROMPTLINE_MLFLOW_URI", "http://127.0.0.1:1");
    assertInstanceOf(MlflowTracker.class, ((ai.promptline.activities.tracking.RetryingTracker) s.tracker()).inner());
    Settings env = settings(servicesFile(), "PROMPTLINE_MINIO_ACCESS_KEY", "envkey",
        "PROMPTLINE_MINIO_SECRET_KEY", ROOT_SECRET, "PROMPTLINE_MLFLOW_PASSWORD", MLFLOW_PASSWORD);
    for (String secret : List.of(ROOT_SECRET, MLFLOW_PASSWORD))
      assertFalse(env.toString().contains(secret), env.toString());
    assertFalse(env.s3Key().toString().contains(ROOT_SECRET));
  }
}
