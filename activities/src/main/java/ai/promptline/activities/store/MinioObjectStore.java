package ai.promptline.activities.store;

import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages.BlobRef;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * MinIO (or any S3) through the MinIO Java client. Each object carries its SHA-256 as user
 * metadata ({@code x-amz-meta-sha256}); S3 PUTs are atomic per object.
 */
public final class MinioObjectStore implements ObjectStore {
  private final MinioClient client;
  private final String endpoint;
  private final String bucket;

  public MinioObjectStore(String endpoint, String accessKey, String secretKey, String bucket) {
    this.endpoint = endpoint;
    this.bucket = bucket;
    this.client = MinioClient.builder().endpoint(endpoint).credentials(accessKey, secretKey).build();
    // the client's default is 5 minutes per connect/read/write: a hung server would outlive the compute
    // activities' 60 s heartbeat timeout; fail the call instead, which the retrying store repeats
    client.setTimeout(10_000, 30_000, 30_000);
  }

  /** Creates the bucket when it does not exist yet. */
  public MinioObjectStore ensureBucket() {
    try {
      if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build()))
        client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
      return this;
    } catch (Exception e) {
      throw new StoreException(
          "cannot reach bucket '" + bucket + "' at " + endpoint + " (" + e.getMessage()
              + "); is MinIO up? try: ./promptline services up", e);
    }
  }

  @Override
  public BlobRef put(String key, byte[] data) {
    String sha = ContentKeys.sha256Hex(data);
    try (InputStream in = new ByteArrayInputStream(data)) {
      client.putObject(
          PutObjectArgs.builder().bucket(bucket).object(key).stream(in, data.length, -1)
              .userMetadata(Map.of("sha256", sha)).contentType("application/octet-stream").build());
      return new BlobRef(key, sha, data.length);
    } catch (Exception e) {
      throw new StoreException("cannot write '" + key + "' to " + describe() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<byte[]> find(String key) {
    try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
      return Optional.of(in.readAllBytes());
    } catch (ErrorResponseException e) {
      if ("NoSuchKey".equals(e.errorResponse().code())) return Optional.empty();
      throw new StoreException("cannot read '" + key + "' from " + describe() + ": " + e.getMessage(), e);
    } catch (Exception e) {
      throw new StoreException("cannot read '" + key + "' from " + describe() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public List<String> list(String prefix) {
    List<String> keys = new ArrayList<>();
    try {
      for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix).recursive(true).build()))
        keys.add(r.get().objectName());
    } catch (Exception e) {
      throw new StoreException("cannot list '" + prefix + "' in " + describe() + ": " + e.getMessage(), e);
    }
    keys.sort(null);
    return keys;
  }

  @Override
  public void delete(String key) {
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
}
