package ai.promptline.workers;

import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.store.MinioObjectStore;
import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.MlflowTracker;
import ai.promptline.activities.tracking.Tracker;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
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
 *       {@code PROMPTLINE_CREDENTIALS_FILE} (default {@code $PROMPTLINE_HOME/credentials.env})
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

  public Tracker tracker() {
    if (mlflowUri.startsWith("file:")) return new FileTracker(fileUriPath(mlflowUri));
    return new MlflowTracker(mlflowUri);
  }

  public ObjectStore store() {
    if (storeEndpoint.startsWith("file:")) return new LocalObjectStore(fileUriPath(storeEndpoint));
    Map<String, String> creds = credentials();
    String access = creds.get("access");
    String secret = creds.get("secret");
    if (access == null || secret == null)
      throw new IllegalStateException("no MinIO credentials: set PROMPTLINE_MINIO_ACCESS_KEY and PROMPTLINE_MINIO_SECRET_KEY"
          + " or run ./promptline services up (it writes " + credentialsFile + ")");
    return new MinioObjectStore(storeEndpoint, access, secret, bucket).ensureBucket();
  }

  /** The MinIO access and secret key ({@code access}, {@code secret}; absent when none are configured). Never print them. */
  Map<String, String> minioCredentials() {
    return credentials();
  }

  private Map<String, String> credentials() {
    Map<String, String> out = new HashMap<>();
    String a = env.get("PROMPTLINE_MINIO_ACCESS_KEY");
    String s = env.get("PROMPTLINE_MINIO_SECRET_KEY");
    if (a != null && s != null) {
      out.put("access", a);
      out.put("secret", s);
      return out;
    }
    if (!Files.isReadable(credentialsFile)) return out;
    Map<String, String> file = readEnvFile(credentialsFile);
    out.put("access", first(file, "PROMPTLINE_MINIO_ACCESS_KEY", "MINIO_ROOT_USER", "AWS_ACCESS_KEY_ID"));
    out.put("secret", first(file, "PROMPTLINE_MINIO_SECRET_KEY", "MINIO_ROOT_PASSWORD", "AWS_SECRET_ACCESS_KEY"));
    return out;
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
