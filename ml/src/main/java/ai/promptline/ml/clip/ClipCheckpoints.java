package ai.promptline.ml.clip;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The released OpenAI checkpoints and their SHA-256 digests.
 *
 * <p>OpenAI publishes each file under a URL whose path contains the file's SHA-256
 * ({@code <base>/<sha256>/<file>}), and the reference loader verifies it after download. We keep the
 * same table so that {@code --model ViT-B/16 --weights path} can prove the file is the official one
 * before a benchmark number is attributed to it.
 */
public final class ClipCheckpoints {
  private ClipCheckpoints() {}

  /** One official checkpoint. */
  public record Known(String name, String fileName, String sha256) {
    /** Download URL (the path embeds the digest). */
    public URI url() {
      return URI.create("https://openaipublic.azureedge.net/clip/models/" + sha256 + "/" + fileName);
    }
  }

  private static final Map<String, Known> KNOWN = new LinkedHashMap<>();

  static {
    add("RN50", "RN50.pt", "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762");
    add("RN101", "RN101.pt", "8fa8567bab74a42d41c5915025a8e4538c3bdbe8804a470a72f30b0d94fab599");
    add("RN50x4", "RN50x4.pt", "7e526bd135e493cef0776de27d5f42653e6b4c8bf9e0f653bb11773263205fdd");
    add("RN50x16", "RN50x16.pt", "52378b407f34354e150460fe41077663dd5b39c54cd0bfd2b27167a4a06ec9aa");
    add("RN50x64", "RN50x64.pt", "be1cfb55d75a9666199fb2206c106743da0f6468c9d327f3e0d0a543a9919d9c");
    add("ViT-B/32", "ViT-B-32.pt", "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af");
    add("ViT-B/16", "ViT-B-16.pt", "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f");
    add("ViT-L/14", "ViT-L-14.pt", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836");
    add("ViT-L/14@336px", "ViT-L-14-336px.pt", "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02");
  }

  private static void add(String name, String file, String sha) {
    KNOWN.put(name, new Known(name, file, sha));
  }

  /** All known checkpoints, by model name ("ViT-B/16"). */
  public static Map<String, Known> known() {
    return java.util.Collections.unmodifiableMap(KNOWN);
  }

  /** Looks up a model name; also accepts the file-name spelling ("ViT-B-16"). */
  public static Optional<Known> byName(String name) {
    Known k = KNOWN.get(name);
    if (k != null) return Optional.of(k);
    for (Known c : KNOWN.values()) {
      if (c.fileName().equals(name) || c.fileName().equals(name + ".pt")) return Optional.of(c);
    }
    return Optional.empty();
  }

  /** Hex SHA-256 of a file. */
  public static String sha256(Path file) throws IOException {
    if (Files.isDirectory(file)) return directorySha256(file);
    MessageDigest md = digest();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 20];
      int r;
      while ((r = in.read(buf)) > 0) md.update(buf, 0, r);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * The digest of a checkpoint directory (HuggingFace {@code save_pretrained}): SHA-256 over
   * {@code name \n sha256(file) \n} of every regular file directly in it, by name. Any changed,
   * added or removed file changes it.
   */
  private static String directorySha256(Path dir) throws IOException {
    MessageDigest md = digest();
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        md.update((f.getFileName() + "\n" + sha256(f) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The architecture of a checkpoint from its tensor shapes alone (safetensors header, the pickle of
   * a PyTorch archive, an HF directory's config and header), reading no weights: what campaign
   * planning needs to check a method against the model.
   *
   * @throws IOException for a file that is no checkpoint; IllegalArgumentException for a state
   *     dict that is not CLIP
   */
  public static ClipConfig config(Path file) throws IOException {
    Path f = file;
    if (Files.isDirectory(file)) {
      f = file.resolve("model.safetensors");
      if (!Files.isRegularFile(f)) {
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
          return ClipModel.load(file, m).config(); // sharded / .bin: the full reader
        }
      }
    }
    Map<String, ai.djl.ndarray.types.Shape> shapes;
    ClipConfig meta = null;
    if (TorchArchive.isZip(f)) {
      shapes = TorchArchive.shapes(f);
    } else {
      shapes = Safetensors.readShapes(f);
      String json = Safetensors.readMetadata(f).get(ClipWeights.CONFIG_METADATA_KEY);
      if (json != null) meta = ClipConfig.fromJson(json);
    }
    if (meta != null) return meta;
    if (shapes.containsKey("text_model.embeddings.token_embedding.weight")) {
      Map<String, ai.djl.ndarray.types.Shape> mapped = new java.util.LinkedHashMap<>();
      shapes.forEach((k, v) -> {
        String n = CheckpointReader.openAiName(k);
        if (n == null) return;
        if (n.endsWith("in_proj_weight")) v = new ai.djl.ndarray.types.Shape(3 * v.get(0), v.get(1));
        else if (n.endsWith("in_proj_bias")) v = new ai.djl.ndarray.types.Shape(3 * v.get(0));
        else if (n.equals("text_projection") || n.equals("visual.proj")) v = new ai.djl.ndarray.types.Shape(v.get(1), v.get(0));
        mapped.put(n, v);
      });
      shapes = mapped;
    }
    return ClipConfig.inferFrom(shapes);
  }

  /**
   * Verifies that {@code file} is the official checkpoint {@code modelName}.
   *
   * @throws IllegalArgumentException for an unknown name or a digest mismatch (wrong or truncated file)
   */
  public static void verify(String modelName, Path file) throws IOException {
    Known k = byName(modelName).orElseThrow(() -> new IllegalArgumentException(
        "unknown CLIP model '" + modelName + "'; known: " + String.join(", ", KNOWN.keySet())));
    String actual = sha256(file);
    if (!actual.equals(k.sha256())) {
      throw new IllegalArgumentException(
          file + " is not the official " + k.name() + " checkpoint: SHA-256 " + actual + ", expected "
              + k.sha256() + " (" + Files.size(file) + " bytes; a wrong or truncated download?)");
    }
  }

  /**
   * Downloads an official checkpoint into {@code dir} (if not already there and verified) and
   * returns its path. Needs network access; never used by tests.
   */
  public static Path download(String modelName, Path dir) throws IOException, InterruptedException {
    Known k = byName(modelName).orElseThrow(() -> new IllegalArgumentException("unknown CLIP model '" + modelName + "'"));
    Files.createDirectories(dir);
    Path target = dir.resolve(k.fileName());
    if (Files.exists(target) && sha256(target).equals(k.sha256())) return target;
    Path tmp = Files.createTempFile(dir, k.fileName(), ".part");
    try {
      HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();
      HttpResponse<Path> resp = http.send(HttpRequest.newBuilder(k.url()).GET().build(), HttpResponse.BodyHandlers.ofFile(tmp));
      if (resp.statusCode() != 200) throw new IOException("download of " + k.url() + " failed: HTTP " + resp.statusCode());
      verify(k.name(), tmp);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
