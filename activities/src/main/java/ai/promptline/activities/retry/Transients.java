package ai.promptline.activities.retry;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.FileSystemException;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which failures of a remote service are worth waiting out: the service is down, restarting or
 * overloaded (connection refused or reset, timeouts, HTTP 5xx/429/408, S3 "slow down" or "server
 * not initialized"). Everything else — a 4xx, a missing key, corrupt data, a bad host name or
 * certificate, a programming error — is not: retrying it only delays the real message.
 */
public final class Transients {
  private Transients() {}

  /** S3/MinIO error codes that mean "try again later". */
  static final Set<String> S3_CODES = Set.of("SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
      "OperationTimedOut", "XMinioServerNotInitialized", "XMinioReadQuorum", "XMinioWriteQuorum", "XMinioServerBusy");

  private static final Pattern RESPONSE_CODE = Pattern.compile("Response code: (\\d{3})");

  /** Whether {@code e} (or its causes) is a transient fault of a remote service. */
  public static boolean isTransient(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      // a digest mismatch (the integrity check's CorruptObjectException) is data, not the network
      if (t instanceof ai.promptline.activities.store.CorruptObjectException) return false;
    }
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      Boolean verdict = verdict(t);
      if (verdict != null) return verdict;
    }
    return false;
  }

  /** Whether a request that failed this way surely never reached the service (safe to repeat even if not idempotent). */
  public static boolean neverSent(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectException || t instanceof NoRouteToHostException) return true;
      Integer status = httpStatus(t);
      if (status != null) return status == 503 || status == 429;
    }
    return false;
  }

  /** The HTTP status of a failed call, when {@code t} carries one. */
  static Integer httpStatus(Throwable t) {
    if (t instanceof org.mlflow.tracking.MlflowHttpException h) return h.getStatusCode();
    if (t instanceof io.minio.errors.ErrorResponseException r) return r.response() == null ? null : r.response().code();
    if (t instanceof io.minio.errors.ServerException s) return s.statusCode();
    if (t instanceof io.minio.errors.InvalidResponseException && t.getMessage() != null) {
      Matcher m = RESPONSE_CODE.matcher(t.getMessage()); // "Non-XML response from server. Response code: 503, ..."
      if (m.find()) return Integer.parseInt(m.group(1));
    }
    return null;
  }

  /** true/false when {@code t} itself decides, null to look at its cause. */
  private static Boolean verdict(Throwable t) {
    if (t instanceof InterruptedException) return false;
    if (t instanceof io.minio.errors.ErrorResponseException r) {
      String code = r.errorResponse() == null ? null : r.errorResponse().code();
      if (code != null && S3_CODES.contains(code)) return true;
    }
    Integer status = httpStatus(t);
    if (status != null) return status >= 500 || status == 429 || status == 408;
    if (t instanceof UnknownHostException || t instanceof javax.net.ssl.SSLHandshakeException
        || t instanceof javax.net.ssl.SSLPeerUnverifiedException || t instanceof FileSystemException
        || t instanceof FileNotFoundException || t instanceof CharacterCodingException) return false;
    if (t.getClass().getName().startsWith("com.fasterxml.jackson.")) return false; // a response that does not parse
    if (t instanceof java.io.InterruptedIOException && Thread.currentThread().isInterrupted()) return false;
    // refused, reset, broken pipe, timeouts, "unexpected end of stream", "no HTTP response": the network or a restart
    if (t instanceof IOException) return true;
    return null;
  }
}
