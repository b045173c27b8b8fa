package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format: 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {str: str}}}, then the raw
 * little-endian tensor bytes (offsets relative to the end of the header).
 *
 * <p>Reading converts F16 and BF16 to F32 (the CPU engine computes in fp32; see methods.md §6.1 for
 * why that cannot match fp16 reference runs bit-for-bit). I64/I32 tensors are kept integral.
 */
public final class Safetensors {
  private Safetensors() {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_HEADER = 100L << 20;

  /** Tensors plus the string metadata of one file. */
  public record Contents(Map<String, NDArray> tensors, Map<String, String> metadata) {}

  /** Writes fp32/int tensors (in map order) without metadata. */
  public static void write(Path path, Map<String, NDArray> tensors) throws IOException {
    write(path, tensors, Map.of());
  }

  /** Writes tensors (F32, F16, I64, I32 kept as-is; other types converted to F32) and metadata. */
  public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata)
      throws IOException {
    try (OutputStream out = Files.newOutputStream(path)) {
      write(out, tensors, metadata);
    }
  }

  /** Writes the safetensors bytes to a stream (not closed), e.g. for an object-store upload. */
  public static void write(OutputStream out, Map<String, NDArray> tensors, Map<String, String> metadata)
      throws IOException {
    // names in sorted order: the same tensors and metadata always give the same bytes (Map.of and
    // HashMap iterate in an order that differs between JVMs), so content digests are reproducible
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      new java.util.TreeMap<>(metadata).forEach(meta::put);
    }
    Map<String, byte[]> blobs = new LinkedHashMap<>();
    long offset = 0;
    for (Map.Entry<String, NDArray> e : new java.util.TreeMap<>(tensors).entrySet()) {
      NDArray a = e.getValue();
      String dtype;
      NDArray src = a;
      switch (a.getDataType()) {
        case FLOAT32 -> dtype = "F32";
        case FLOAT16 -> dtype = "F16";
        case INT64 -> dtype = "I64";
        case INT32 -> dtype = "I32";
        default -> {
          dtype = "F32";
          src = a.toType(DataType.FLOAT32, false);
        }
      }
      byte[] bytes = toLittleEndian(src);
      if (src != a) src.close();
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", dtype);
      ArrayNode shape = t.putArray("shape");
      for (long d : a.getShape().getShape()) shape.add(d);
      ArrayNode off = t.putArray("data_offsets");
      off.add(offset);
      off.add(offset + bytes.length);
      offset += bytes.length;
      blobs.put(e.getKey(), bytes);
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int pad = (8 - json.length % 8) % 8; // keep the data 8-byte aligned, as the reference writer does
    byte[] headerBytes = new byte[json.length + pad];
    System.arraycopy(json, 0, headerBytes, 0, json.length);
    for (int i = json.length; i < headerBytes.length; i++) headerBytes[i] = ' ';
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    len.putLong(headerBytes.length);
    out.write(len.array());
    out.write(headerBytes);
    for (byte[] b : blobs.values()) out.write(b);
  }

  private static byte[] toLittleEndian(NDArray a) {
    ByteBuffer bb = a.toByteBuffer();
    byte[] out = new byte[bb.remaining()];
    bb.order(ByteOrder.nativeOrder()).get(out);
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new UnsupportedOperationException("big-endian hosts are not supported");
    }
    return out;
  }

  /** Reads every tensor of a file (F16/BF16 converted to F32). */
  public static Map<String, NDArray> read(Path path, NDManager manager) throws IOException {
    return readContents(path, manager).tensors();
  }

  /** Reads only the header: tensor shapes (in file order) and metadata, without tensor data. */
  public static Map<String, Shape> readShapes(Path path) throws IOException {
    Map<String, Shape> shapes = new LinkedHashMap<>();
    JsonNode header = header(path);
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getKey().equals("__metadata__")) shapes.put(e.getKey(), shapeOf(e.getValue()));
    }
    return shapes;
  }

  /** Reads tensors and metadata. */
  public static Contents readContents(Path path, NDManager manager) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      JsonNode header = header(path);
      long headerLen = headerLength(ch, path);
      long dataStart = 8 + headerLen;
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String name = e.getKey();
        JsonNode t = e.getValue();
        if (name.equals("__metadata__")) {
          t.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
          continue;
        }
        String dtype = t.path("dtype").asText();
        Shape shape = shapeOf(t);
        long begin = t.path("data_offsets").path(0).asLong();
        long end = t.path("data_offsets").path(1).asLong();
        long expectedBytes = shape.size() * bytesPer(dtype, name);
        if (end - begin != expectedBytes) {
          throw new IOException(
              path + ": tensor '" + name + "' has " + (end - begin) + " bytes, shape " + shape
                  + " needs " + expectedBytes);
        }
        if (dataStart + end > fileSize) {
          throw new IOException(
              path + " is truncated: tensor '" + name + "' ends at byte " + (dataStart + end)
                  + " but the file has " + fileSize);
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(end - begin));
        ch.read(buf, dataStart + begin);
        buf.flip();
        buf.order(ByteOrder.LITTLE_ENDIAN);
        NDArray a = toArray(buf, dtype, shape, manager);
        a.setName(name);
        tensors.put(name, a);
      }
      return new Contents(tensors, metadata);
    }
  }

  /**
   * A torch-owned copy of an array DJL created over a Java buffer. DJL's {@code create(...)} hands
   * torch the buffer's memory ({@code from_blob}) and only the array it returns keeps the buffer
   * alive: a view of it ({@code reshape}, {@code transpose}, {@code get}) outlives that reference and
   * reads freed memory once the original is closed or collected — loaded weights turned into
   * 1e23-sized garbage now and then. Every loader returns owned copies.
   */
  static NDArray owned(NDArray blob) {
    NDArray o = blob.duplicate();
    blob.close();
    return o;
  }

  static NDArray toArray(ByteBuffer buf, String dtype, Shape shape, NDManager manager) {
    return owned(blobArray(buf, dtype, shape, manager));
  }

  private static NDArray blobArray(ByteBuffer buf, String dtype, Shape shape, NDManager manager) {
    int n = Math.toIntExact(shape.size());
    switch (dtype) {
      case "F32":
        return manager.create(buf.asFloatBuffer(), shape);
      case "F16": {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = Half.toFloat(buf.getShort());
        return manager.create(f, shape);
      }
      case "BF16": {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
        return manager.create(f, shape);
      }
      case "F64": {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) buf.getDouble();
        return manager.create(f, shape);
      }
      case "I64":
        return manager.create(buf.asLongBuffer(), shape);
      case "I32":
        return manager.create(buf.asIntBuffer(), shape);
      default:
        throw new IllegalArgumentException("unsupported safetensors dtype " + dtype);
    }
  }

  private static long bytesPer(String dtype, String name) {
    return switch (dtype) {
      case "F64", "I64" -> 8;
      case "F32", "I32" -> 4;
      case "F16", "BF16" -> 2;
      default -> throw new IllegalArgumentException(
          "tensor '" + name + "' has unsupported dtype " + dtype);
    };
  }

  private static Shape shapeOf(JsonNode t) {
    JsonNode s = t.path("shape");
    long[] dims = new long[s.size()];
    for (int i = 0; i < dims.length; i++) dims[i] = s.get(i).asLong();
    return new Shape(dims);
  }

  /**
   * Whether a file whose first bytes are {@code head} (at least 9 when the file has them) can be a
   * safetensors file: a little-endian u64 header length that fits the file, then a JSON object.
   */
  static boolean looksLike(byte[] head, long fileSize) {
    if (head.length < 9) return false;
    long n = ByteBuffer.wrap(head, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    return n > 1 && n <= fileSize - 8 && head[8] == '{';
  }

  private static long headerLength(FileChannel ch, Path path) throws IOException {
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    if (ch.read(len, 0) != 8) throw new IOException(path + " is too short to be a safetensors file");
    len.flip();
    long n = len.getLong();
    if (n <= 0 || n > MAX_HEADER || n + 8 > ch.size()) {
      throw new IOException(path + " is not a safetensors file (header length " + n + ")");
    }
    return n;
  }

  /** The parsed JSON header of a safetensors file. */
  static JsonNode header(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long n = headerLength(ch, path);
      ByteBuffer hb = ByteBuffer.allocate((int) n);
      ch.read(hb, 8);
      String json = new String(hb.array(), StandardCharsets.UTF_8);
      try {
        JsonNode node = JSON.readTree(json);
        if (node == null || !node.isObject()) throw new IOException("header is not a JSON object");
        return node;
      } catch (IOException e) {
        throw new IOException(path + " is not a safetensors file: " + e.getMessage(), e);
      }
    }
  }

  /** Reads only the metadata map. */
  public static Map<String, String> readMetadata(Path path) throws IOException {
    Map<String, String> metadata = new LinkedHashMap<>();
    header(path).path("__metadata__").fields()
        .forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
    return metadata;
  }
}
