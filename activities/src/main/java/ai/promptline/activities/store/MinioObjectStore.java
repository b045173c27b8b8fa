package ai.promptline.activities.store;

import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages.BlobRef;
import io.minio.BucketExistsArgs;
import io.minio.CopyObjectArgs;
import io.minio.CopySource;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.ObjectWriteResponse;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MinIO (or any S3) through the MinIO Java client. Each object carries the SHA-256 of its bytes as
 * user metadata ({@code x-amz-meta-sha256}).
 *
 * <p>A put is write, verify, publish: the bytes go to {@code .tmp/<uuid>} in the bucket in one
 * single-part PUT; the temporary object is checked (its size, its recorded sha256, and its ETag,
 * which for a single-part upload is the MD5 the server computed over what it stored, against the
 * MD5 computed here; where the ETag is no plain MD5, e.g. under server-side encryption, the bytes
 * are read back and hashed instead); only then a server-side copy publishes it under the final key
 * with its metadata, and the temporary object is deleted. A failure at any step leaves nothing new
 * under the final key and removes the temporary object (best effort: {@code .tmp/} is never listed
 * or read as data, and leftovers older than an hour are removed by {@link #ensureBucket}).
 *
 * <p>Reads fetch the bytes and the metadata in one GET and re-hash the bytes.
 */
public final class MinioObjectStore implements ObjectStore {
  private static final Logger LOG = LoggerFactory.getLogger(MinioObjectStore.class);
  private static final String SHA_META = "sha256";
  private static final String SHA_HEADER = "x-amz-meta-sha256";

  /** How a put checks the temporary object before publishing it. */
  enum Verify {
    /** size, recorded sha256 and ETag == MD5 (falls back to READ_BACK where the ETag is no MD5) */
    ETAG,
    /** size and recorded sha256 from a stat, then the bytes are read back and hashed */
    READ_BACK
  }

  /** Test seam for the failure paths: called after each step of a put with the temporary key. */
  interface Steps {
    Steps NONE = (step, tmpKey) -> {};

    void after(String step, String tmpKey) throws Exception;
  }

  private final MinioClient client;
  private final String endpoint;
  private final String bucket;
  private final Verify verify;
  private final Steps steps;

  public MinioObjectStore(String endpoint, String accessKey, String secretKey, String bucket) {
    this(endpoint, accessKey, secretKey, bucket, Verify.ETAG, Steps.NONE);
  }

  MinioObjectStore(String endpoint, String accessKey, String secretKey, String bucket, Verify verify, Steps steps) {
    this.endpoint = endpoint;
    this.bucket = bucket;
    this.verify = verify;
    this.steps = steps;
    this.client = MinioClient.builder().endpoint(endpoint).credentials(accessKey, secretKey).build();
    // the client's default is 5 minutes per connect/read/write: a hung server would outlive the compute
    // activities' 60 s heartbeat timeout; fail the call instead, which the retrying store repeats
    client.setTimeout(10_000, 30_000, 30_000);
  }

  /** Creates the bucket when it does not exist yet, and removes stale temporary objects. */
  public MinioObjectStore ensureBucket() {
    try {
      if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build()))
        client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
    } catch (Exception e) {
      throw new StoreException(
          "cannot reach bucket '" + bucket + "' at " + endpoint + " (" + e.getMessage()
              + "); is MinIO up? try: ./promptline services up", e);
    }
    sweepTemp(ZonedDateTime.now().minusHours(1));
    return this;
  }

  /** Removes temporary objects last modified before {@code cutoff} (writers killed mid-put); best effort. */
  void sweepTemp(ZonedDateTime cutoff) {
    try {
      for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(TEMP_PREFIX).recursive(true).build())) {
        Item i = r.get();
        if (i.lastModified() != null && i.lastModified().isBefore(cutoff)) removeQuietly(i.objectName());
      }
    } catch (Exception e) {
      LOG.debug("cannot sweep {} in {}: {}", TEMP_PREFIX, describe(), e.getMessage());
    }
  }

  @Override
  public BlobRef put(String key, byte[] data) {
    ObjectStore.checkKey(key);
    String sha = ContentKeys.sha256Hex(data);
    String md5 = md5Hex(data);
    String tmp = TEMP_PREFIX + UUID.randomUUID();
    String step = "upload";
    try (InputStream in = new ByteArrayInputStream(data)) {
      // one part whatever the size (up to the client's 5 GiB part limit), so the ETag is the MD5
      long partSize = Math.max(PutObjectArgs.MIN_MULTIPART_SIZE, data.length);
      client.putObject(PutObjectArgs.builder().bucket(bucket).object(tmp).stream(in, data.length, partSize)
          .userMetadata(Map.of(SHA_META, sha)).contentType("application/octet-stream").build());
      steps.after("written", tmp);
      step = "verify";
      verifyTemp(key, tmp, data, sha, md5);
      steps.after("verified", tmp);
      step = "publish";
      ObjectWriteResponse copied = client.copyObject(CopyObjectArgs.builder().bucket(bucket).object(key)
          .source(CopySource.builder().bucket(bucket).object(tmp).build()).build());
      String etag = unquote(copied.etag());
      if (isMd5(etag) && !etag.equals(md5)) {
        removeQuietly(key); // a bad copy is not left published
        throw new StoreException("cannot write '" + key + "' to " + describe() + ": the published copy has ETag " + etag
            + " but the bytes' MD5 is " + md5 + " (removed)");
      }
      steps.after("published", tmp);
    } catch (StoreException e) {
      removeQuietly(tmp);
      throw e;
    } catch (Exception e) {
      removeQuietly(tmp);
      throw new StoreException("cannot write '" + key + "' to " + describe() + " (" + step + " failed): "
          + e.getMessage(), e);
    }
    removeQuietly(tmp);
    return new BlobRef(key, sha, data.length);
  }

  private void verifyTemp(String key, String tmp, byte[] data, String sha, String md5) throws Exception {
    StatObjectResponse st = client.statObject(StatObjectArgs.builder().bucket(bucket).object(tmp).build());
    String recorded = st.userMetadata().get(SHA_META);
    if (st.size() != data.length || !sha.equals(recorded))
      throw new StoreException("cannot write '" + key + "' to " + describe() + ": the uploaded object has " + st.size()
          + " bytes and sha256 " + recorded + ", expected " + data.length + " and " + sha + " (nothing was published)");
    String etag = unquote(st.etag());
    if (verify == Verify.ETAG && isMd5(etag)) {
      if (!etag.equals(md5))
        throw new StoreException("cannot write '" + key + "' to " + describe() + ": the server stored bytes with MD5 " + etag
            + " but " + md5 + " were sent (nothing was published)");
      return;
    }
    byte[] back;
    try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(tmp).build())) {
      back = in.readAllBytes();
    }
    String actual = ContentKeys.sha256Hex(back);
    if (!actual.equals(sha))
      throw new StoreException("cannot write '" + key + "' to " + describe() + ": the uploaded bytes read back with sha256 "
          + actual + ", expected " + sha + " (nothing was published)");
  }

  /** GETs whose body the server ended early (or refused as unreadable) before the object counts as corrupt. */
  static final int BODY_ATTEMPTS = 3;
  /** MinIO's answer for an object whose stored parts fail its bitrot check (small objects kept inline). */
  private static final String UNREADABLE = "SlowDownRead";

  private static void pause(int attempt) {
    try {
      Thread.sleep(200L * attempt);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>MinIO checks its own bitrot hashes as it reads: a large object's body is cut short, a small
   * (inline) one is refused with {@code SlowDownRead}. Either, {@value #BODY_ATTEMPTS} times in a row
   * (0.2 s, 0.4 s apart), is reported as a {@link CorruptObjectException}; a server that cannot be
   * reached is a plain {@link StoreException} (worth retrying).
   */
  @Override
  public Optional<Blob> read(String key) {
    ObjectStore.checkKey(key);
    String cut = null;
    String recorded = null;
    for (int attempt = 1; attempt <= BODY_ATTEMPTS; attempt++) {
      byte[] data;
      long length;
      try (GetObjectResponse in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
        recorded = in.headers().get(SHA_HEADER);
        String len = in.headers().get("Content-Length");
        length = len == null ? -1 : Long.parseLong(len);
        try {
          data = in.readAllBytes();
        } catch (java.io.IOException e) {
          cut = "the server ended the body early (" + e.getMessage() + ")";
          LOG.debug("reading '{}' from {}: {} (attempt {})", key, describe(), cut, attempt);
          pause(attempt);
          continue;
        }
      } catch (ErrorResponseException e) {
        String code = e.errorResponse().code();
        if ("NoSuchKey".equals(code)) return Optional.empty();
        if (UNREADABLE.equals(code) && attempt < BODY_ATTEMPTS) {
          cut = "the server answers " + code + " (" + e.getMessage() + ")";
          pause(attempt);
          continue;
        }
        if (UNREADABLE.equals(code))
          throw new CorruptObjectException(key, describe(), "(unknown)", "(unreadable)",
              "the server answers " + code + " (" + e.getMessage() + ") " + BODY_ATTEMPTS + " times: its own integrity check fails");
        throw new StoreException("cannot read '" + key + "' from " + describe() + ": " + e.getMessage(), e);
      } catch (Exception e) {
        throw new StoreException("cannot read '" + key + "' from " + describe() + ": " + e.getMessage(), e);
      }
      if (recorded == null) return Optional.of(Blob.of(data, false));
      String actual = ContentKeys.sha256Hex(data);
      if (!actual.equals(recorded.toLowerCase(Locale.ROOT)))
        throw new CorruptObjectException(key, describe(), recorded, actual,
            length >= 0 && length != data.length ? "read " + data.length + " of " + length + " bytes" : data.length + " bytes");
      return Optional.of(new Blob(data, actual, true));
    }
    throw new CorruptObjectException(key, describe(), String.valueOf(recorded), "(unreadable)",
        cut + ", " + BODY_ATTEMPTS + " times: the server's own integrity check fails");
  }

  @Override
  public Optional<Stat> stat(String key) {
    ObjectStore.checkKey(key);
    try {
      StatObjectResponse st = client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
      String etag = unquote(st.etag());
      return Optional.of(new Stat(st.size(), st.userMetadata().get(SHA_META), isMd5(etag) ? etag : null));
    } catch (ErrorResponseException e) {
      if ("NoSuchKey".equals(e.errorResponse().code())) return Optional.empty();
      throw new StoreException("cannot stat '" + key + "' in " + describe() + ": " + e.getMessage(), e);
    } catch (Exception e) {
      throw new StoreException("cannot stat '" + key + "' in " + describe() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public List<String> list(String prefix) {
    ObjectStore.checkPrefix(prefix);
    List<String> keys = new ArrayList<>();
    try {
      for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix).recursive(true).build())) {
        String name = r.get().objectName();
        if (!name.startsWith(TEMP_PREFIX)) keys.add(name);
      }
    } catch (Exception e) {
      throw new StoreException("cannot list '" + prefix + "' in " + describe() + ": " + e.getMessage(), e);
    }
    keys.sort(null);
    return keys;
  }

  @Override
  public void delete(String key) {
    ObjectStore.checkKey(key);
    try {
      client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
    } catch (Exception e) {
      throw new StoreException("cannot delete '" + key + "' from " + describe() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String describe() {
    return "s3://" + bucket + " at " + endpoint;
  }

  /** The client, for tests that touch objects behind the store's back (bit rot, truncation). */
  MinioClient client() {
    return client;
  }

  String bucket() {
    return bucket;
  }

  private void removeQuietly(String key) {
    try {
      client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
    } catch (Exception e) {
      LOG.warn("cannot remove '{}' from {}: {} (it is never read as data)", key, describe(), e.getMessage());
    }
  }

  private static boolean isMd5(String etag) {
    return etag != null && etag.length() == 32 && etag.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f');
  }

  private static String unquote(String etag) {
    if (etag == null) return null;
    String e = etag.startsWith("\"") && etag.endsWith("\"") && etag.length() >= 2 ? etag.substring(1, etag.length() - 1) : etag;
    return e.toLowerCase(Locale.ROOT);
  }

  static String md5Hex(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
