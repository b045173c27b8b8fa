package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipCommandTest {


  @Test
  void tokenizePrintsIdsWithSpecials() {
    CliRun r = CliRun.of("clip", "tokenize", "a photo of a dog.", "Annual Crop Land");
    assertEquals(0, r.code());
    assertEquals("49406 320 1125 539 320 1929 269 49407\n49406 2906 9955 973 49407\n", r.out().replace("\r", ""));
  }

  @Test
  void inspectAndClassifyATinyRandomModel(@TempDir Path dir) throws Exception {
    Path w = dir.resolve("tiny.safetensors");
    assertEquals(0, CliRun.of("clip", "random-weights", "--preset", "tiny-vit", "--seed", "3", "--out", w.toString()).code());
    CliRun inspect = CliRun.of("clip", "inspect", "--weights", w.toString());
    assertEquals(0, inspect.code(), inspect.err());
    assertTrue(inspect.out().contains("ViT 32px patch 8, width 64, 2 layers"), inspect.out());
    Path img = dir.resolve("x.png");
    java.awt.image.BufferedImage bi = new java.awt.image.BufferedImage(50, 40, java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 40; y++) for (int x = 0; x < 50; x++) bi.setRGB(x, y, (x * 5) << 16 | (y * 6) << 8 | 90);
    javax.imageio.ImageIO.write(bi, "png", img.toFile());
    CliRun cls = CliRun.of("clip", "classify", "--weights", w.toString(), "--image", img.toString(), "--labels", "dog,cat");
    assertEquals(0, cls.code(), cls.err());
    String[] lines = cls.out().strip().split("\n");
    assertEquals(2, lines.length);
    double p = 0;
    for (String l : lines) p += Double.parseDouble(l.split("\t")[2]);
    assertEquals(1.0, p, 1e-4);
  }

  @Test
  void precisionOptionLoadsLowPrecisionTowers(@TempDir Path dir) throws Exception {
    Path w = dir.resolve("tiny.safetensors");
    assertEquals(0, CliRun.of("clip", "random-weights", "--preset", "tiny-vit", "--seed", "3", "--out", w.toString()).code());
    CliRun fp16 = CliRun.of("clip", "inspect", "--weights", w.toString(), "--precision", "fp16");
    assertEquals(0, fp16.code(), fp16.err());
    assertTrue(fp16.out().contains("precision:   fp16"), fp16.out());
    assertTrue(fp16.out().matches("(?s).*conv/linear/attention/projection:\\s+float16×\\d+.*"), fp16.out());
    assertTrue(fp16.out().matches("(?s).*layernorm:\\s+float32×\\d+.*"), fp16.out());
    CliRun bad = CliRun.of("clip", "inspect", "--weights", w.toString(), "--precision", "int8");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("fp32, fp16, bf16"), bad.err());
  }

  @Test
  void wrongModelNameOrDigestIsOneClearError(@TempDir Path dir) throws Exception {
    Path w = dir.resolve("tiny.safetensors");
    CliRun.of("clip", "random-weights", "--out", w.toString());
    CliRun r = CliRun.of("clip", "inspect", "--weights", w.toString(), "--model", "ViT-B/16");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("error: ") && r.err().contains("not the official ViT-B/16"), r.err());
  }
}
