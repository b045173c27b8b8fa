package ai.promptline.workers;

import ai.promptline.activities.retry.Retrier;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.store.MinioObjectStore;
import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.store.ScratchCache;
import ai.promptline.activities.store.RetryingObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.MlflowTracker;
import ai.promptline.activities.tracking.RetryingTracker;
import ai.promptline.activities.tracking.Tracker;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where the services are, from environment variables with local defaults (the ports that
 * {@code ./promptline services up} uses). Credentials come from the environment or from the
 * credentials file the services script writes (mode 600); they are never printed.
 *
 * <ul>
 *   <li>{@code PROMPTLINE_HOME} — state directory (default {@code <repo>/.promptline})
 *   <li>{@code PROMPTLINE_TEMPORAL_TARGET} (127.0.0.1:7233), {@code PROMPTLINE_TEMPORAL_NAMESPACE} (default)
 *   <li>{@code PROMPTLINE_MLFLOW_URI} (http://127.0.0.1:5000; {@code file:DIR} = local JSON tracker)
 *   <li>{@code PROMPTLINE_MINIO_ENDPOINT} (http://127.0.0.1:9000; {@code file:DIR} = local directory store),
 *       {@code PROMPTLINE_BUCKET} or {@code PROMPTLINE_MINIO_BUCKET} (promptline)
 *   <li>{@code PROMPTLINE_MINIO_ACCESS_KEY} / {@code PROMPTLINE_MINIO_SECRET_KEY}, else
 *       {@code PROMPTLINE_CREDENTIALS_FILE} (default {@code $PROMPTLINE_HOME/credentials.env}): its
 *       bucket-scoped worker key ({@code PROMPTLINE_MINIO_WORKER_ACCESS_KEY/SECRET_KEY}, allowed on
 *       the buckets in {@code PROMPTLINE_MINIO_WORKER_BUCKETS}) when present, else its root key
 *   <li>{@code PROMPTLINE_MLFLOW_USERNAME} / {@code PROMPTLINE_MLFLOW_PASSWORD} (MLflow basic auth),
 *       else the same names in the credentials file; none = requests without credentials
 *   <li>{@code PROMPTLINE_SCRATCH} — the worker's local cache of blobs read from the store (default
 *       {@code $PROMPTLINE_HOME/scratch}), {@code PROMPTLINE_SCRATCH_MAX} its size cap (default 10g;
 *       {@code 0} = no cache)
 *   <li>{@code PROMPTLINE_RETRY_BUDGET} (5m) — how long one MinIO or MLflow call waits out a service
 *       that is down or restarting before it fails (e.g. {@code 300s}, {@code 10m}, {@code 0} = no waiting)
 * </ul>
 */
public record Settings(
    Path home, String temporalTarget, String namespace, String mlflowUri, String storeEndpoint, String bucket,
    Path credentialsFile, Map<String, String> env) {

  /** Without {@code env}: it may hold credentials, which are never printed. */
  @Override
  public String toString() {
    return "Settings[home=" + home + ", temporal=" + temporalTarget + "/" + namespace + ", mlflow=" + mlflowUri
        + ", store=" + storeEndpoint + "/" + bucket + ", credentialsFile=" + credentialsFile + "]";
  }

  public static Settings fromEnv() {
    return from(environment());
  }

  private static volatile Map<String, String> overrides;

  /**
   * The environment the CLI reads: the process's, with the overrides of a running
   * {@link #withEnvironment} (the CLI tests run commands in-process with other endpoints).
   */
  public static Map<String, String> environment() {
    Map<String, String> o = overrides;
    if (o == null) return System.getenv();
    Map<String, String> env = new HashMap<>(System.getenv());
    o.forEach((k, v) -> {
      if (v == null) env.remove(k);
      else env.put(k, v);
    });
    return env;
  }

  /** Runs {@code body} with {@code vars} over the process environment (a null value unsets a variable). */
  public static <T> T withEnvironment(Map<String, String> vars, java.util.function.Supplier<T> body) {
    Map<String, String> before = overrides;
    overrides = new HashMap<>(vars);
    try {
      return body.get();
    } finally {
      overrides = before;
    }
  }

  public static Settings from(Map<String, String> env) {
    Path home = Path.of(env.getOrDefault("PROMPTLINE_HOME", defaultHome().toString())).toAbsolutePath();
    return new Settings(
        home,
        env.getOrDefault("PROMPTLINE_TEMPORAL_TARGET", "127.0.0.1:" + env.getOrDefault("PROMPTLINE_TEMPORAL_PORT", "7233")),
        env.getOrDefault("PROMPTLINE_TEMPORAL_NAMESPACE", "default"),
        env.getOrDefault("PROMPTLINE_MLFLOW_URI", "http://127.0.0.1:" + env.getOrDefault("PROMPTLINE_MLFLOW_PORT", "5000")),
        env.getOrDefault("PROMPTLINE_MINIO_ENDPOINT", "http://127.0.0.1:" + env.getOrDefault("PROMPTLINE_MINIO_PORT", "9000")),
        env.getOrDefault("PROMPTLINE_BUCKET", env.getOrDefault("PROMPTLINE_MINIO_BUCKET", "promptline")),
        Path.of(env.getOrDefault("PROMPTLINE_CREDENTIALS_FILE", home.resolve("credentials.env").toString())),
        Map.copyOf(env));
  }

  /** The repository's {@code .promptline}, found from the launcher's {@code promptline.root}. */
  static Path defaultHome() {
    String root = System.getProperty("promptline.root", System.getenv().getOrDefault("PROMPTLINE_ROOT", "."));
    return Path.of(root).resolve(".promptline");
  }

  /** How long one call to MinIO or MLflow waits out transient faults ({@code PROMPTLINE_RETRY_BUDGET}, default 5 min). */
  public Duration retryBudget() {
    String v = env.get("PROMPTLINE_RETRY_BUDGET");
    if (v == null || v.isBlank()) return Retrier.DEFAULT_BUDGET;
    try {
      return Retrier.parseDuration(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("PROMPTLINE_RETRY_BUDGET: " + e.getMessage());
    }
  }

  /** The tracker; a server one waits out restarts for {@link #retryBudget()}. */
  public Tracker tracker() {
    if (mlflowUri.startsWith("file:")) return new FileTracker(fileUriPath(mlflowUri));
    Login login = mlflowLogin();
    Tracker mlflow = login == null ? new MlflowTracker(mlflowUri) : new MlflowTracker(mlflowUri, login.username(), login.password());
    return new RetryingTracker(mlflow, new Retrier(RetryingTracker.serviceName(mlflowUri), retryBudget()));
  }

  /** The object store; MinIO waits out restarts for {@link #retryBudget()}. */
  public ObjectStore store() {
    if (storeEndpoint.startsWith("file:")) return new LocalObjectStore(fileUriPath(storeEndpoint));
    S3Key key = s3Key();
    if (key == null)
      throw new IllegalStateException("no MinIO credentials: set PROMPTLINE_MINIO_ACCESS_KEY and PROMPTLINE_MINIO_SECRET_KEY"
          + " or run ./promptline services up (it writes " + credentialsFile + ")");
    if (key.buckets() != null && !allows(key.buckets(), bucket))
      throw new IllegalStateException("bucket '" + bucket + "' is outside what the worker key of " + credentialsFile
          + " may use (" + key.buckets() + "): choose a PROMPTLINE_BUCKET matching that, e.g. '"
          + key.buckets().split(",")[0].strip() + "-" + bucket + "', or set PROMPTLINE_MINIO_ACCESS_KEY/SECRET_KEY"
          + " to a key allowed on it");
    ObjectStore minio = new MinioObjectStore(storeEndpoint, key.access(), key.secret(), bucket).ensureBucket();
    return new RetryingObjectStore(minio, new Retrier(RetryingObjectStore.serviceName("MinIO", minio), retryBudget()));
  }

  /** The MinIO access and secret key ({@code access}, {@code secret}; absent when none are configured). Never print them. */
  Map<String, String> minioCredentials() {
    Map<String, String> out = new HashMap<>();
    S3Key k = s3Key();
    if (k != null) {
      out.put("access", k.access());
      out.put("secret", k.secret());
    }
    return out;
  }

  /** The worker's scratch folder: {@code PROMPTLINE_SCRATCH}, else {@code $PROMPTLINE_HOME/scratch}. */
  public Path scratchDir() {
    String dir = env.get("PROMPTLINE_SCRATCH");
    return dir == null || dir.isBlank() ? home.resolve("scratch") : Path.of(dir).toAbsolutePath();
  }

  /** The scratch cache's size cap in bytes ({@code PROMPTLINE_SCRATCH_MAX}: bytes or k/m/g; default 10g; 0 = none). */
  public long scratchMaxBytes() {
    return parseSize("PROMPTLINE_SCRATCH_MAX", env.getOrDefault("PROMPTLINE_SCRATCH_MAX", "10g"));
  }

  /** The worker-local cache of feature blobs, checkpoints and prompts (disabled when the cap is 0). */
  public ScratchCache scratch() {
    return ScratchCache.open(scratchDir(), scratchMaxBytes());
  }

  /** {@code 123}, {@code 64k}, {@code 512m}, {@code 10g} (powers of 1024). */
  static long parseSize(String variable, String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    long unit = 1;
    if (v.endsWith("b")) v = v.substring(0, v.length() - 1);
    if (v.endsWith("k")) unit = 1L << 10;
    else if (v.endsWith("m")) unit = 1L << 20;
    else if (v.endsWith("g")) unit = 1L << 30;
    if (unit > 1) v = v.substring(0, v.length() - 1);
    try {
      long n = Long.parseLong(v.strip());
      if (n < 0) throw new NumberFormatException();
      return Math.multiplyExact(n, unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(variable + "='" + value + "' is not a size; use bytes or a number with k, m or g"
          + " (e.g. 10g), or 0 for none");
    }
  }

  /** A MinIO key; {@code buckets} = the scope of a worker key ({@code a,b-*}), null when unscoped. */
  record S3Key(String access, String secret, String buckets) {
    @Override
    public String toString() {
      return "S3Key[access=" + access + ", secret=***, buckets=" + buckets + "]";
    }
  }

  /** MLflow basic-auth credentials; {@link #toString()} hides the password. */
  public record Login(String username, String password) {
    @Override
    public String toString() {
      return "Login[username=" + username + ", password=***]";
    }
  }

  /**
   * The MinIO key the Java side uses: the environment's, else the credentials file's bucket-scoped
   * worker key, else its root key; null when there is none.
   */
  S3Key s3Key() {
    String a = env.get("PROMPTLINE_MINIO_ACCESS_KEY");
    String s = env.get("PROMPTLINE_MINIO_SECRET_KEY");
    if (a != null && s != null) return new S3Key(a, s, null);
    Map<String, String> file = credentialsFromFile();
    String wa = file.get("PROMPTLINE_MINIO_WORKER_ACCESS_KEY");
    String ws = file.get("PROMPTLINE_MINIO_WORKER_SECRET_KEY");
    if (wa != null && ws != null && !wa.isEmpty() && !ws.isEmpty()) {
      String scope = file.get("PROMPTLINE_MINIO_WORKER_BUCKETS");
      return new S3Key(wa, ws, scope == null || scope.isBlank() ? null : scope);
    }
    a = first(file, "PROMPTLINE_MINIO_ACCESS_KEY", "MINIO_ROOT_USER", "AWS_ACCESS_KEY_ID");
    s = first(file, "PROMPTLINE_MINIO_SECRET_KEY", "MINIO_ROOT_PASSWORD", "AWS_SECRET_ACCESS_KEY");
    return a == null || s == null ? null : new S3Key(a, s, null);
  }

  /**
   * MLflow basic-auth credentials: {@code PROMPTLINE_MLFLOW_USERNAME/PASSWORD} from the
   * environment, else from the credentials file; null when there are none (a server without auth).
   */
  public Login mlflowLogin() {
    String u = env.get("PROMPTLINE_MLFLOW_USERNAME");
    String p = env.get("PROMPTLINE_MLFLOW_PASSWORD");
    if (u == null && p == null) {
      Map<String, String> file = credentialsFromFile();
      u = file.get("PROMPTLINE_MLFLOW_USERNAME");
      p = file.get("PROMPTLINE_MLFLOW_PASSWORD");
    }
    if (u == null || u.isEmpty()) return null;
    if (p == null)
      throw new IllegalStateException("MLflow user '" + u + "' has no password: set PROMPTLINE_MLFLOW_PASSWORD"
          + " (or PROMPTLINE_MLFLOW_PASSWORD in " + credentialsFile + ")");
    return new Login(u, p);
  }

  /** {@code a,b-*}: exact names, or a prefix when the entry ends with {@code *}. */
  static boolean allows(String scope, String bucket) {
    for (String entry : scope.split(",")) {
      String e = entry.strip();
      if (e.isEmpty()) continue;
      if (e.endsWith("*") ? bucket.startsWith(e.substring(0, e.length() - 1)) : bucket.equals(e)) return true;
    }
    return false;
  }

  private Map<String, String> credentialsFromFile() {
    return Files.isReadable(credentialsFile) ? readEnvFile(credentialsFile) : Map.of();
  }

  private static String first(Map<String, String> m, String... keys) {
    for (String k : keys) if (m.get(k) != null) return m.get(k);
    return null;
  }

  /** Parses {@code KEY=VALUE} lines (optional {@code export}, optional quotes, # comments). */
  static Map<String, String> readEnvFile(Path file) {
    Map<String, String> m = new HashMap<>();
    try {
      for (String line : Files.readAllLines(file)) {
        String l = line.strip();
        if (l.isEmpty() || l.startsWith("#")) continue;
        if (l.startsWith("export ")) l = l.substring(7).strip();
        int eq = l.indexOf('=');
        if (eq <= 0) continue;
        String v = l.substring(eq + 1).strip();
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'")))
          v = v.substring(1, v.length() - 1);
        m.put(l.substring(0, eq).strip(), v);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read credentials file " + file + ": " + e.getMessage(), e);
    }
    return m;
  }

  /** The MLflow UI base URL (the tracking URI for a server), for printing. */
  public String mlflowUi() {
    return mlflowUri;
  }

  /** The Temporal Web UI, assumed next to the frontend on the dev server's UI port. */
  public String temporalUi() {
    String host = temporalTarget.contains(":") ? temporalTarget.substring(0, temporalTarget.lastIndexOf(':')) : temporalTarget;
    return "http://" + host + ":" + env.getOrDefault("PROMPTLINE_TEMPORAL_UI_PORT", "8233");
  }

  /** {@code file:///abs}, {@code file:/abs} or {@code file:relative} (against the working directory). */
  static Path fileUriPath(String uri) {
    if (uri.startsWith("file://")) return Path.of(URI.create(uri));
    return Path.of(uri.substring("file:".length())).toAbsolutePath();
  }
}
