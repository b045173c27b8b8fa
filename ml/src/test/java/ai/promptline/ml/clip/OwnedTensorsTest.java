package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loaded weights are torch-owned: a view of a loaded tensor (a transpose, as the HuggingFace name
 * mapping makes) stays valid after the tensor itself is closed and its Java buffer collected. DJL's
 * {@code create(buffer)} hands torch the buffer's memory, so without the copy the view reads freed
 * memory (seen as 6e23-sized image features, now and then, in ClipFormatsTest).
 */
class OwnedTensorsTest {
  @TempDir Path dir;

  @Test
  void viewsOfLoadedTensorsOutliveTheirOriginal() throws Exception {
    int rows = 256;
    int cols = 256;
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) values[i] = (i % 977) * 0.25f;
    float[] expected = new float[values.length];
    for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) expected[c * rows + r] = values[r * cols + c];
    Path file = dir.resolve("w.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Safetensors.write(file, Map.of("w", m.create(values, new Shape(rows, cols))));
    }
    try (NDManager m = NDManager.newBaseManager()) {
      List<NDArray> views = new ArrayList<>();
      for (int k = 0; k < 8; k++) {
        NDArray w = Safetensors.read(file, m).get("w");
        views.add(w.transpose());
        w.close();
      }
      churn();
      for (NDArray v : views) assertArrayEquals(expected, v.toFloatArray(), "a view of a closed, collected original");
    }
  }

  /** Collects unreachable direct buffers and reuses their memory with other bytes. */
  private static void churn() throws InterruptedException {
    List<ByteBuffer> keep = new ArrayList<>();
    for (int round = 0; round < 5; round++) {
      System.gc();
      Thread.sleep(50);
      for (int i = 0; i < 64; i++) {
        ByteBuffer b = ByteBuffer.allocateDirect(256 * 256 * 4).order(ByteOrder.nativeOrder());
        while (b.hasRemaining()) b.putInt(0x7f7f7f7f);
        keep.add(b);
      }
    }
    keep.clear();
  }
}
