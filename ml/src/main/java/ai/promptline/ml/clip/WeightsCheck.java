package ai.promptline.ml.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * A cheap structural check of a weights file or folder, reading its first and last bytes and its
 * directory (no tensor data), so that a campaign refuses a broken download when it is planned
 * instead of failing runs later:
 *
 * <ul>
 *   <li>a PyTorch zip ({@code .pt}, {@code .pth}, {@code .bin}): the end-of-central-directory record
 *       is present (a cut download has none), the archive has {@code <root>/data.pkl}, and every
 *       storage its pickle names is in the zip with at least the bytes its tensors need;
 *   <li>safetensors: the header parses, every tensor's byte range matches its shape and dtype, and
 *       the data section has exactly the size the header describes;
 *   <li>a HuggingFace {@code save_pretrained} folder: {@code model.safetensors}, its sharded index
 *       (every shard present) or {@code pytorch_model.bin}, each checked as above, and a
 *       {@code config.json} that parses when there is one;
 *   <li>anything else is described: an HTML page (a login or error page saved in place of the
 *       weights), a Git LFS pointer, a legacy pickle, an empty file.
 * </ul>
 */
public final class WeightsCheck {
  private WeightsCheck() {}

  private static final ObjectMapper JSON = new ObjectMapper();
  /** The zip end-of-central-directory record is 22 bytes plus a comment of at most 65535. */
  private static final int EOCD_SEARCH = 22 + 65535;

  /**
   * What is wrong with {@code path} as a CLIP checkpoint, as "{@code <file> <problem>}", or null
   * when its structure is sound (its values are what the SHA-256 vouches for).
   */
  public static String problem(Path path) {
    try {
      if (Files.isDirectory(path)) return directory(path);
      if (!Files.isRegularFile(path)) return path + " does not exist";
      String p = file(path);
      return p == null ? null : path + " " + p;
    } catch (IOException e) {
      return path + " cannot be read (" + e.getMessage() + ")";
    }
  }

  private static String file(Path f) throws IOException {
    long size = Files.size(f);
    if (size == 0) return "is empty (0 bytes)";
    byte[] head = new byte[(int) Math.min(64, size)];
    try (InputStream in = Files.newInputStream(f)) {
      in.readNBytes(head, 0, head.length);
    }
    if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return zip(f, size);
    if (Safetensors.looksLike(head, size)) return safetensors(f, size);
    String text = new String(head, StandardCharsets.ISO_8859_1).stripLeading();
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.startsWith("<!doctype") || lower.startsWith("<html") || lower.startsWith("<?xml") || lower.startsWith("<head")) {
      return "looks like an HTML page (starts with '" + quote(text, 15) + "'), not weights: a login or error page was saved in"
          + " place of the file";
    }
    if (lower.startsWith("{") || lower.startsWith("[")) return "is a JSON text (starts with '" + quote(text, 20) + "'), not weights";
    if (text.startsWith("version https://git-lfs")) return "is a Git LFS pointer, not the weights (run git lfs pull)";
    if (head.length >= 9) {
      long n = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (n > 1 && n < (100L << 20) && head[8] == '{')
        return "is truncated: its safetensors header says " + n + " bytes but the file has only " + size;
    }
    return "is not a CLIP checkpoint (expected a PyTorch zip archive or a safetensors file); it "
        + CheckpointReader.sniff(head, size);
  }

  private static String quote(String text, int max) {
    String t = text.length() > max ? text.substring(0, max) : text;
    StringBuilder b = new StringBuilder();
    for (char c : t.toCharArray()) b.append(c < 0x20 || c > 0x7e ? '?' : c);
    return b.toString();
  }

  /** Zip: the end record exists (a truncated download lost it), then the archive's own structure. */
  private static String zip(Path f, long size) throws IOException {
    int n = (int) Math.min(size, EOCD_SEARCH);
    ByteBuffer tail = ByteBuffer.allocate(n);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      while (tail.hasRemaining() && ch.read(tail, size - n + tail.position()) > 0) {
        // read the whole tail
      }
    }
    byte[] b = tail.array();
    boolean end = false;
    for (int i = n - 22; i >= 0 && !end; i--)
      end = b[i] == 'P' && b[i + 1] == 'K' && b[i + 2] == 5 && b[i + 3] == 6;
    if (!end) return "is truncated: the zip's central directory is missing (" + size + " bytes)";
    return TorchArchive.storageProblem(f);
  }

  /** Safetensors: header, every tensor's byte range, and a data section of exactly that size. */
  private static String safetensors(Path f, long size) throws IOException {
    JsonNode header;
    long headerLen;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(len, 0);
      headerLen = len.flip().getLong();
    }
    try {
      header = Safetensors.header(f);
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage());
      return "has a safetensors header that does not parse (" + (m.startsWith(f.toString()) ? m.substring(f.toString().length()).strip() : m) + ")";
    }
    long dataSize = size - 8 - headerLen;
    long maxEnd = 0;
    int tensors = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) continue;
      tensors++;
      JsonNode t = e.getValue();
      JsonNode off = t.path("data_offsets");
      if (!off.isArray() || off.size() != 2 || !t.path("shape").isArray())
        return "has a malformed safetensors header: tensor '" + e.getKey() + "' lacks shape or data_offsets";
      long begin = off.get(0).asLong();
      long end = off.get(1).asLong();
      long numel = 1;
      for (JsonNode d : t.path("shape")) numel *= d.asLong();
      long per = switch (t.path("dtype").asText()) {
        case "F64", "I64" -> 8;
        case "F32", "I32" -> 4;
        case "F16", "BF16" -> 2;
        default -> -1;
      };
      if (per < 0) return "has tensor '" + e.getKey() + "' of unsupported dtype " + t.path("dtype").asText();
      if (begin < 0 || end < begin || end - begin != numel * per)
        return "has a malformed safetensors header: tensor '" + e.getKey() + "' spans bytes [" + begin + ", " + end + ") but its shape "
            + t.path("shape") + " needs " + numel * per;
      maxEnd = Math.max(maxEnd, end);
    }
    if (tensors == 0) return "holds no tensors";
    if (maxEnd > dataSize)
      return "is truncated: its header describes " + maxEnd + " bytes of tensors but the file holds " + Math.max(0, dataSize);
    if (maxEnd < dataSize) return "has " + (dataSize - maxEnd) + " bytes after its last tensor (not a whole safetensors file)";
    return null;
  }

  /** A HuggingFace {@code save_pretrained} folder. */
  private static String directory(Path dir) throws IOException {
    Path config = dir.resolve("config.json");
    if (Files.isRegularFile(config)) {
      try {
        JSON.readTree(config.toFile());
      } catch (com.fasterxml.jackson.core.JacksonException e) {
        return config + " is not valid JSON (" + e.getOriginalMessage() + ")";
      }
    }
    Path single = dir.resolve("model.safetensors");
    Path index = dir.resolve("model.safetensors.index.json");
    Path bin = dir.resolve("pytorch_model.bin");
    if (Files.isRegularFile(single)) return problem(single);
    if (Files.isRegularFile(index)) {
      JsonNode map;
      try {
        map = JSON.readTree(index.toFile()).path("weight_map");
      } catch (com.fasterxml.jackson.core.JacksonException e) {
        return index + " is not valid JSON (" + e.getOriginalMessage() + ")";
      }
      java.util.TreeSet<String> shards = new java.util.TreeSet<>();
      map.fields().forEachRemaining(e -> shards.add(e.getValue().asText()));
      if (shards.isEmpty()) return index + " has no weight_map";
      for (String shard : shards) {
        Path s = dir.resolve(shard).normalize();
        if (!s.startsWith(dir.normalize()) || !Files.isRegularFile(s))
          return index + " names shard '" + shard + "', which is not a file in " + dir;
        String p = problem(s);
        if (p != null) return p;
      }
      return null;
    }
    if (Files.isRegularFile(bin)) return problem(bin);
    return dir + " is a folder but not a HuggingFace CLIPModel checkpoint: it has none of model.safetensors,"
        + " model.safetensors.index.json, pytorch_model.bin";
  }
}
