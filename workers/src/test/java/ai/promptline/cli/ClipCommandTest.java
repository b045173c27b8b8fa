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
    assertTrue(inspect.out().contains("architecture: custom ViT (32px, patch 8, width 64"), inspect.out());
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

  @Test
  void inspectNamesTheArchitectureAndRefusesBadFilesInOneLine(@TempDir Path dir) throws Exception {
    // an RN50-layout checkpoint (real geometry and key names of clip.model.CLIP), zero weights
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
      ai.promptline.ml.clip.ClipConfig rn50 = ai.promptline.ml.clip.ClipConfig.rn50();
      java.util.Map<String, ai.djl.ndarray.NDArray> sd = new java.util.LinkedHashMap<>();
      ai.promptline.ml.clip.ClipWeights.expectedShapes(rn50).forEach((k, shape) -> sd.put(k, m.zeros(shape)));
      sd.get("logit_scale").addi(2.6593f);
      Path good = dir.resolve("rn50.safetensors");
      ai.promptline.ml.clip.Safetensors.write(good, sd);
      CliRun ok = CliRun.of("clip", "inspect", "--weights", good.toString());
      assertEquals(0, ok.code(), ok.err());
      assertTrue(ok.out().contains("architecture: RN50\n"), ok.out());
      // the layout Promptline used to expect: downsample conv at .1, BatchNorm at .2
      java.util.Map<String, ai.djl.ndarray.NDArray> old = new java.util.LinkedHashMap<>();
      sd.forEach((k, v) -> old.put(k.replace("downsample.1.", "downsample.2.").replace("downsample.0.", "downsample.1."), v));
      Path bad = dir.resolve("old.safetensors");
      ai.promptline.ml.clip.Safetensors.write(bad, old);
      CliRun r = CliRun.of("clip", "inspect", "--weights", bad.toString());
      assertEquals(2, r.code());
      String line = r.err().strip();
      assertTrue(!line.contains("\n"), line);
      assertTrue(line.contains("does not match the inferred architecture (RN50)")
          && line.contains("visual.layer1.0.downsample.1.weight expected (256) got (256, 64, 1, 1)")
          && line.contains("missing keys (expected shape): visual.layer1.0.downsample.0.weight (256, 64, 1, 1)"), line);
    }
    Path html = dir.resolve("ViT-B-16.pt");
    java.nio.file.Files.writeString(html, "<!DOCTYPE html><html><body>Sign in to continue</body></html>");
    CliRun h = CliRun.of("clip", "inspect", "--weights", html.toString());
    assertEquals(2, h.code());
    assertTrue(h.err().strip().matches("error: .*is not a CLIP checkpoint: expected a PyTorch zip archive.*HTML.*"), h.err());
    Path notClip = dir.resolve("other.safetensors");
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
      ai.promptline.ml.clip.Safetensors.write(notClip, java.util.Map.of("fc.weight", m.zeros(new ai.djl.ndarray.types.Shape(3, 4))));
    }
    CliRun n = CliRun.of("clip", "inspect", "--weights", notClip.toString());
    assertEquals(2, n.code());
    assertTrue(n.err().contains("not a CLIP state dict: missing key 'text_projection'; the file's first tensors: fc.weight (3, 4)"), n.err());
  }
}
