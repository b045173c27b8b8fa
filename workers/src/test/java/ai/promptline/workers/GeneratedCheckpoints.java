package ai.promptline.workers;

import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipWeights;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checkpoints with a real architecture's every tensor name and shape (fp16 safetensors, as
 * {@link ClipWeights#expectedShapes} lists them) and all-zero values, written as sparse files: a
 * ViT-B/16 costs a header on disk, not 300 MB. Planning reads shapes and hashes bytes, so a
 * campaign written for the released weights plans against these at the same path.
 */
final class GeneratedCheckpoints {
  private GeneratedCheckpoints() {}

  static Path write(Path file, ClipConfig config) throws IOException {
    Map<String, Object> header = new LinkedHashMap<>();
    long offset = 0;
    for (Map.Entry<String, Shape> e : ClipWeights.expectedShapes(config).entrySet()) {
      long bytes = e.getValue().size() * 2;
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("dtype", "F16");
      t.put("shape", e.getValue().getShape());
      t.put("data_offsets", List.of(offset, offset + bytes));
      header.put(e.getKey(), t);
      offset += bytes;
    }
    byte[] json = new ObjectMapper().writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    Files.createDirectories(file.getParent());
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
      f.write(json);
      f.setLength(8 + json.length + offset);
    }
    return file;
  }
}
