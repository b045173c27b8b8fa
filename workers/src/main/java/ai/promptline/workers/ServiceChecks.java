package ai.promptline.workers;

import io.minio.BucketExistsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.errors.ErrorResponseException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

/**
 * Start-time checks of the three services, each failing within seconds with one line that names
 * the service, its endpoint and the fix: {@code worker} runs all three before it polls,
 * {@code campaign run} before it submits, so that a wrong endpoint or refused credentials never
 * leave a worker that cannot record anything, or a campaign that waits forever. Credentials are
 * never part of a message.
 */
public final class ServiceChecks {
  private ServiceChecks() {}

  /** How long one check waits for an answer. */
  static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** A service is unreachable, refuses the credentials, or is not what the endpoint should be. */
  public static final class ServiceException extends IllegalStateException {
    public ServiceException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The endpoints' form, before anything is contacted: a Temporal {@code host:port}, MLflow and
   * MinIO {@code http(s)://host:port} or {@code file:DIR}, and an S3 bucket name.
   */
  public static void checkAddresses(Settings s) {
    String target = s.temporalTarget();
    if (!target.matches("[^\\s:/]+:\\d{1,5}") && !target.matches("dns:///\\S+"))
      throw new ServiceException("PROMPTLINE_TEMPORAL_TARGET is '" + target + "', not a Temporal address; give host:port"
          + " (the default is 127.0.0.1:7233)", null);
    if (!s.mlflowUri().startsWith("file:") && !isHttp(s.mlflowUri()))
      throw new ServiceException("PROMPTLINE_MLFLOW_URI is '" + s.mlflowUri() + "', not an MLflow address; give http://host:port (the"
          + " default is http://127.0.0.1:5000) or file:DIR for a local tracker", null);
    if (!s.storeEndpoint().startsWith("file:") && !isHttp(s.storeEndpoint()))
      throw new ServiceException("PROMPTLINE_MINIO_ENDPOINT is '" + s.storeEndpoint() + "', not an S3 address; give http://host:port"
          + " (the default is http://127.0.0.1:9000) or file:DIR for a local store", null);
    if (!s.storeEndpoint().startsWith("file:") && !s.bucket().matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"))
      throw new ServiceException("PROMPTLINE_BUCKET is '" + s.bucket() + "', not a valid bucket name; use 3-63 lower-case letters,"
          + " digits, '.' and '-' (default: promptline)", null);
  }

  /**
   * A TCP connect to {@code host:port} within {@link #TIMEOUT}: a closed port answers at once, where
   * the clients' own retries would take their full timeout to say so.
   */
  static void probe(String service, String endpoint, String host, int port, String fix) {
    try (java.net.Socket sock = new java.net.Socket()) {
      sock.connect(new java.net.InetSocketAddress(host, port), (int) TIMEOUT.toMillis());
    } catch (java.io.IOException e) {
      throw new ServiceException("cannot reach " + service + " at " + endpoint + " (" + reason(e) + ")" + fix, e);
    }
  }

  /** {@link #probe} of an http(s) URI's host and port. */
  static void probe(String service, String uri, String fix) {
    URI u = URI.create(uri);
    int port = u.getPort() > 0 ? u.getPort() : uri.startsWith("https://") ? 443 : 80;
    probe(service, uri, u.getHost(), port, fix);
  }

  private static boolean isHttp(String uri) {
    if (!uri.startsWith("http://") && !uri.startsWith("https://")) return false;
    try {
      URI u = URI.create(uri);
      return u.getHost() != null && !u.getHost().isEmpty();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** MLflow: {@code GET /health}, then one API call (a search of one experiment), with basic auth when configured. */
  public static void mlflow(Settings s) {
    String uri = s.mlflowUri();
    if (uri.startsWith("file:")) return; // the local JSON tracker: nothing to reach
    String base = uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
    String fix = "; start it: ./promptline services up (or set PROMPTLINE_MLFLOW_URI)";
    checkAddresses(s);
    URI health = URI.create(base + "/health");
    probe("MLflow", uri, fix);
    HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    HttpResponse<String> r;
    try {
      r = http.send(HttpRequest.newBuilder(health).timeout(TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new ServiceException("cannot reach MLflow at " + uri + " (" + reason(e) + ")" + fix, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ServiceException("interrupted while checking MLflow at " + uri, e);
    }
    if (r.statusCode() != 200)
      throw new ServiceException("MLflow at " + uri + " answered HTTP " + r.statusCode() + " on /health (is that address an MLflow"
          + " server?); check PROMPTLINE_MLFLOW_URI (the default is http://127.0.0.1:5000)", null);
    HttpRequest.Builder api = HttpRequest.newBuilder(URI.create(base + "/api/2.0/mlflow/experiments/search")).timeout(TIMEOUT)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"max_results\": 1}"));
    Settings.Login login = s.mlflowLogin();
    if (login != null)
      api.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (login.username() + ":" + login.password()).getBytes(StandardCharsets.UTF_8)));
    try {
      r = http.send(api.build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new ServiceException("cannot reach MLflow's API at " + uri + " (" + reason(e) + ")" + fix, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ServiceException("interrupted while checking MLflow at " + uri, e);
    }
    if (r.statusCode() == 401 || r.statusCode() == 403)
      throw new ServiceException("MLflow at " + uri + " refused the credentials (HTTP " + r.statusCode() + "); set PROMPTLINE_MLFLOW_USERNAME"
          + " and PROMPTLINE_MLFLOW_PASSWORD (or those names in " + s.credentialsFile() + ") to a user of its auth app", null);
    if (r.statusCode() != 200 || !r.body().strip().startsWith("{"))
      throw new ServiceException("MLflow at " + uri + " answered HTTP " + r.statusCode() + " to an API call (experiments/search);"
          + " is that address an MLflow tracking server? check PROMPTLINE_MLFLOW_URI", null);
  }

  /**
   * MinIO: the endpoint answers, accepts the credentials and has the bucket; with {@code create}
   * a missing bucket is created (the worker's check), else it only has to be reachable (it is
   * created by the first worker). Returns whether the bucket exists now.
   */
  public static boolean minio(Settings s, boolean create) {
    String endpoint = s.storeEndpoint();
    if (endpoint.startsWith("file:")) return true;
    String fix = "; start it: ./promptline services up (or set PROMPTLINE_MINIO_ENDPOINT)";
    checkAddresses(s);
    probe("MinIO", endpoint, fix);
    Map<String, String> creds = s.minioCredentials();
    if (creds.get("access") == null || creds.get("secret") == null)
      throw new ServiceException("no MinIO credentials for " + endpoint + ": set PROMPTLINE_MINIO_ACCESS_KEY and PROMPTLINE_MINIO_SECRET_KEY"
          + " or run ./promptline services up (it writes " + s.credentialsFile() + ")", null);
    MinioClient client;
    try {
      client = MinioClient.builder().endpoint(endpoint).credentials(creds.get("access"), creds.get("secret")).build();
    } catch (RuntimeException e) {
      throw new ServiceException("PROMPTLINE_MINIO_ENDPOINT '" + endpoint + "' is not usable (" + e.getMessage() + ")", e);
    }
    client.setTimeout(TIMEOUT.toMillis(), TIMEOUT.toMillis(), TIMEOUT.toMillis());
    String bucket = s.bucket();
    try {
      boolean exists = client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build());
      if (!exists && create) {
        client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
        exists = true;
      }
      return exists;
    } catch (ErrorResponseException e) {
      String code = e.errorResponse() == null ? "" : e.errorResponse().code();
      if (code.equals("InvalidAccessKeyId") || code.equals("SignatureDoesNotMatch") || code.equals("AccessDenied")
          || code.equals("InvalidToken") || code.equals("ExpiredToken"))
        throw new ServiceException("MinIO at " + endpoint + " refused the credentials (" + code + ") for bucket '" + bucket
            + "'; check PROMPTLINE_MINIO_ACCESS_KEY / PROMPTLINE_MINIO_SECRET_KEY or " + s.credentialsFile(), e);
      throw new ServiceException("MinIO at " + endpoint + " refused bucket '" + bucket + "' (" + code + "); set PROMPTLINE_BUCKET to a"
          + " valid bucket name", e);
    } catch (IllegalArgumentException e) { // the client's own check of the bucket name
      throw new ServiceException("PROMPTLINE_BUCKET '" + bucket + "' is not a valid bucket name (" + e.getMessage() + "); use 3-63"
          + " lower-case letters, digits, '.' and '-'", e);
    } catch (Exception e) {
      throw new ServiceException("cannot reach MinIO at " + endpoint + " (" + reason(e) + ")" + fix, e);
    }
  }

  /** A connection failure in a few words: "connection refused", "unknown host x", "no answer within 5 s". */
  public static String reason(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.ConnectException) return t.getMessage() != null && t.getMessage().contains("timed out")
          ? "no answer within " + TIMEOUT.toSeconds() + " s" : "connection refused";
      if (t instanceof java.net.UnknownHostException) return "unknown host " + t.getMessage();
      if (t instanceof java.net.http.HttpTimeoutException || t instanceof java.net.SocketTimeoutException)
        return "no answer within " + TIMEOUT.toSeconds() + " s";
      if (t instanceof javax.net.ssl.SSLException) return "TLS failed: " + t.getMessage();
      if (t instanceof io.grpc.StatusRuntimeException sre) {
        io.grpc.Status st = sre.getStatus();
        if (st.getCause() != null) {
          String inner = reason(st.getCause());
          if (!inner.equals(String.valueOf(st.getCause().getMessage()))) return inner;
        }
        if (st.getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED) return "no answer within " + TIMEOUT.toSeconds() + " s";
        return st.getCode() + (st.getDescription() == null ? "" : ": " + st.getDescription());
      }
    }
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m.replace('\n', ' ');
  }
}
