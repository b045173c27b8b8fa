package ai.promptline.ml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.ml.data.image.Images;
import ai.promptline.ml.data.image.RgbImage;
import ai.promptline.ml.data.image.Transforms;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Test transform vs Pillow (tools/golden/pil_transforms_golden.py). */
class TransformsGoldenTest {
  /** Values are stored with 6 decimals; an off-by-one uint8 would be ~0.015 after normalisation. */
  private static final double TOL = 2e-6;

  @Test
  void testTransform_matchesPillowPixelForPixel() throws Exception {
    Path dir = Path.of(TransformsGoldenTest.class.getResource("/golden/pil/pil_transforms.json").toURI()).getParent();
    JsonNode golden = new ObjectMapper().readTree(dir.resolve("pil_transforms.json").toFile());
    for (JsonNode c : golden.get("cases")) {
      String file = c.get("file").asText();
      int size = c.get("size").asInt();
      RgbImage img = Images.readRgb(dir.resolve(file));
      float[] t = Transforms.test(size).apply(img, 0, 0);
      assertEquals(3 * size * size, t.length);
      double maxErr = 0;
      if (c.has("values")) {
        JsonNode v = c.get("values");
        assertEquals(v.size(), t.length, file);
        for (int i = 0; i < t.length; i++) maxErr = Math.max(maxErr, Math.abs(t[i] - v.get(i).asDouble()));
      } else {
        int stride = c.get("probe_stride").asInt();
        JsonNode v = c.get("probe");
        for (int k = 0; k < v.size(); k++) maxErr = Math.max(maxErr, Math.abs(t[k * stride] - v.get(k).asDouble()));
      }
      double sum = 0;
      for (float f : t) sum += f;
      assertEquals(c.get("sum").asDouble(), sum, 1e-2, file + " sum");
      assertTrue(maxErr <= TOL, file + ": max abs error " + maxErr);
    }
  }

  @Test
  void resizedCrop_matchesPillowCropThenResize() throws Exception {
    Path dir = Path.of(TransformsGoldenTest.class.getResource("/golden/pil/pil_transforms.json").toURI()).getParent();
    JsonNode golden = new ObjectMapper().readTree(dir.resolve("pil_transforms.json").toFile());
    for (JsonNode c : golden.get("resized_crops")) {
      RgbImage img = Images.readRgb(dir.resolve(c.get("file").asText()));
      JsonNode b = c.get("box");
      int size = c.get("size").asInt();
      RgbImage r = Transforms.resizedCrop(img, b.get(0).asInt(), b.get(1).asInt(), b.get(2).asInt(), b.get(3).asInt(), size);
      float[] t = new float[3 * size * size];
      Transforms.normalize(r, t, 0);
      double maxErr = 0;
      for (int i = 0; i < t.length; i++) maxErr = Math.max(maxErr, Math.abs(t[i] - c.get("values").get(i).asDouble()));
      assertTrue(maxErr <= TOL, "box " + b + ": max abs error " + maxErr);
    }
  }
}
