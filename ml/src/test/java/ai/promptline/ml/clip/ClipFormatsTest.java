package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints written by the reference code itself ({@code tools/golden/clip_formats.py}: OpenAI's
 * {@code clip} package, open_clip, transformers) load, infer the reference config, and reproduce
 * the reference packages' outputs: fp32 within 1e-4 relative (max |Δ| / max |expected|), and the
 * released fp16 TorchScript under {@link Precision#FP16} within 3 fp16 ulp at the output's scale.
 *
 * <p>Committed here: micro ViT and micro ModifiedResNet in every format. The real geometries
 * (ViT-B/32, ViT-B/16, RN50 at reduced depth) go through the same {@link #checkArchitecture} in
 * {@code ClipReferenceFormatsTest}, which has the reference packages write them first.
 */
class ClipFormatsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One measured comparison, for reports. */
  record Measured(String arch, String file, String what, double error, double bound) {}

  @Test
  void microVitInEveryFormat() throws Exception {
    List<Measured> m = checkArchitecture(resource("micro-vit"));
    assertEquals(4 * 3 + 3, m.size(), "4 formats × image/text/logits + the fp16 TorchScript path");
  }

  @Test
  void microResNetInEveryFormat() throws Exception {
    List<Measured> m = checkArchitecture(resource("micro-rn"));
    assertEquals(3 * 3 + 3, m.size());
  }

  static Path resource(String arch) throws Exception {
    return Path.of(ClipFormatsTest.class.getResource("/golden/clip/formats/" + arch).toURI());
  }

  /**
   * Loads every file listed in {@code dir/manifest.json} and compares it with the reference
   * outputs in {@code dir/expected.safetensors} on the inputs of {@code dir/inputs.safetensors}.
   */
  static List<Measured> checkArchitecture(Path dir) throws Exception {
    JsonNode manifest = JSON.readTree(dir.resolve("manifest.json").toFile());
    ClipConfig expectedConfig = JSON.treeToValue(manifest.get("config"), ClipConfig.class);
    String arch = manifest.get("architecture").asText();
    List<Measured> out = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> in = Safetensors.read(dir.resolve("inputs.safetensors"), m);
      Map<String, NDArray> expected = Safetensors.read(dir.resolve("expected.safetensors"), m);
      NDArray px = in.get("pixels");
      NDArray ids = in.get("ids");
      for (JsonNode f : manifest.get("files")) {
        Path file = dir.resolve(f.get("file").asText());
        String name = arch + "/" + f.get("file").asText();
        try (NDManager s = m.newSubManager(); ClipModel clip = ClipModel.load(file, s)) {
          assertEquals(expectedConfig, clip.config(), name + ": inferred config");
          assertTrue(clip.sourceFormat().startsWith(f.get("format").asText()), name + ": format " + clip.sourceFormat());
          compare(clip, px, ids, expected, f.get("expected").asText(), name, 1e-4, false, out);
        }
        if (f.has("expectedFp16")) {
          try (NDManager s = m.newSubManager(); ClipModel clip = ClipModel.load(file, s, Precision.FP16)) {
            compare(clip, px, ids, expected, f.get("expectedFp16").asText(), name + " fp16", 3, true, out);
          }
        }
      }
    }
    return out;
  }

  private static void compare(ClipModel clip, NDArray px, NDArray ids, Map<String, NDArray> expected, String prefix,
      String name, double bound, boolean ulps, List<Measured> out) {
    NDArray img = clip.encodeImage(px);
    NDArray txt = clip.encodeText(ids);
    NDArray logits = clip.logits(img, txt);
    Map<String, NDArray> got = Map.of("image", img, "text", txt, "logits", logits);
    for (String what : List.of("image", "text", "logits")) {
      float[] e = expected.get(prefix + "." + what).toFloatArray();
      float[] a = got.get(what).toFloatArray();
      assertEquals(e.length, a.length, name + " " + what + " size");
      double maxAbs = 0;
      double maxDiff = 0;
      for (int i = 0; i < e.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(e[i]));
        maxDiff = Math.max(maxDiff, Math.abs(e[i] - a[i]));
      }
      // logits are exp(logit_scale)·cos: a feature rounding moves them by ulps of exp(logit_scale)
      double scale = what.equals("logits") && ulps ? Math.max(maxAbs, clip.logitScale()) : maxAbs;
      double err = ulps ? maxDiff / fp16Ulp(scale) : maxDiff / maxAbs;
      out.add(new Measured(clip.config().toString(), name, what, err, bound));
      System.out.printf("format check %-40s %-7s %s %.3g (bound %.3g)%n", name, what,
          ulps ? "fp16 ulp" : "rel err", err, bound);
      assertTrue(err <= bound, name + " " + what + ": error " + err + (ulps ? " ulp" : " relative") + " > " + bound);
    }
  }

  /** One fp16 ulp at magnitude {@code x}: 2^(exponent(x) − 10). */
  static double fp16Ulp(double x) {
    return Math.scalb(1.0, Math.getExponent(x) - 10);
  }

  /** True when a directory holds a manifest (used by the reference-stage test). */
  static boolean isArchitectureDir(Path p) {
    return Files.isRegularFile(p.resolve("manifest.json"));
  }
}
