package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

  /** A file written byte by byte as the format specifies: F16 and BF16 tensors become fp32. */
  @Test
  void readsHalfAndBfloat16(@TempDir Path dir) throws IOException {
    String header = "{\"__metadata__\":{\"k\":\"v\"},"
        + "\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[8,14]}}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.allocate(8 + h.length + 14).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(h.length).put(h);
    // F16: 1.0, -2.0, 0.5, 65504 (max); BF16: 1.0, -3.0, 1.5
    for (short s : new short[] {0x3c00, (short) 0xc000, 0x3800, 0x7bff}) buf.putShort(s);
    for (short s : new short[] {0x3f80, (short) 0xc040, 0x3fc0}) buf.putShort(s);
    Path f = dir.resolve("x.safetensors");
    Files.write(f, buf.array());
    try (NDManager m = NDManager.newBaseManager()) {
      Safetensors.Contents c = Safetensors.readContents(f, m);
      assertEquals(Map.of("k", "v"), c.metadata());
      assertEquals(new Shape(2, 2), c.tensors().get("h").getShape());
      assertArrayEquals(new float[] {1f, -2f, 0.5f, 65504f}, c.tensors().get("h").toFloatArray());
      assertArrayEquals(new float[] {1f, -3f, 1.5f}, c.tensors().get("b").toFloatArray());
    }
  }

  /** Same tensors and metadata, inserted in other orders: the same bytes (content digests are reproducible across JVMs). */
  @Test
  void writtenBytesDoNotDependOnMapOrder() throws IOException {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.create(new float[] {1, 2, 3});
      NDArray b = m.create(new float[] {4, 5});
      Map<String, NDArray> t1 = new LinkedHashMap<>();
      t1.put("a", a);
      t1.put("b", b);
      Map<String, NDArray> t2 = new LinkedHashMap<>();
      t2.put("b", b);
      t2.put("a", a);
      Map<String, String> m1 = new LinkedHashMap<>();
      m1.put("x", "1");
      m1.put("y", "2");
      Map<String, String> m2 = new LinkedHashMap<>();
      m2.put("y", "2");
      m2.put("x", "1");
      java.io.ByteArrayOutputStream o1 = new java.io.ByteArrayOutputStream();
      java.io.ByteArrayOutputStream o2 = new java.io.ByteArrayOutputStream();
      Safetensors.write(o1, t1, m1);
      Safetensors.write(o2, t2, m2);
      assertArrayEquals(o1.toByteArray(), o2.toByteArray());
    }
  }

  @Test
  void halfSubnormalsAndSpecials() {
    assertEquals(0x1.0p-24f, Half.toFloat((short) 0x0001));
    assertEquals(Float.POSITIVE_INFINITY, Half.toFloat((short) 0x7c00));
    assertTrue(Float.isNaN(Half.toFloat((short) 0x7e00)));
    assertEquals(-0f, Half.toFloat((short) 0x8000));
  }

  @Test
  void roundTripAndGarbage(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("r.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> t = new LinkedHashMap<>();
      t.put("a", m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3)));
      t.put("i", m.create(new long[] {7, 8}));
      Safetensors.write(f, t, Map.of("x", "y"));
      Map<String, NDArray> back = Safetensors.read(f, m);
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, back.get("a").toFloatArray());
      assertArrayEquals(new long[] {7, 8}, back.get("i").toLongArray());
      assertEquals(Map.of("a", new Shape(2, 3), "i", new Shape(2)), Safetensors.readShapes(f));
      Path junk = dir.resolve("junk.safetensors");
      Files.write(junk, "this is not a checkpoint at all".getBytes(StandardCharsets.UTF_8));
      IOException e = assertThrows(IOException.class, () -> Safetensors.read(junk, m));
      assertTrue(e.getMessage().contains("not a safetensors file"), e.getMessage());
    }
  }
}
