package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code method list} and the {@code method probe} contract, checked against the reference goldens
 * the ML module keeps (ml/src/test/resources/golden/methods/, produced by the reference code).
 */
class MethodCommandTest {
  private static final Path GOLDEN = Path.of("..", "ml", "src", "test", "resources", "golden", "methods").toAbsolutePath().normalize();

  /**
   * The full tiny CLIP of the goldens, expanded from its compact form (token embedding stored as
   * its non-zero rows; see the ML module's TinyClipFixture, which this mirrors for the CLI).
   */
  static Path weights() throws Exception {
    Path out = Path.of("target", "golden-methods", "tiny_clip.safetensors").toAbsolutePath();
    if (Files.isRegularFile(out)) return out;
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
      ai.promptline.ml.clip.Safetensors.Contents c =
          ai.promptline.ml.clip.Safetensors.readContents(GOLDEN.resolve("tiny_clip_compact.safetensors"), m);
      java.util.Map<String, ai.djl.ndarray.NDArray> sd = new java.util.LinkedHashMap<>(c.tensors());
      long[] ids = sd.remove("token_embedding.ids").toLongArray();
      ai.djl.ndarray.NDArray rows = sd.remove("token_embedding.rows");
      int vocab = Integer.parseInt(c.metadata().get("token_embedding.vocab"));
      int width = (int) rows.getShape().get(1);
      float[] r = rows.toFloatArray();
      float[] table = new float[vocab * width];
      for (int i = 0; i < ids.length; i++) System.arraycopy(r, i * width, table, (int) ids[i] * width, width);
      sd.put("token_embedding.weight", m.create(table, new ai.djl.ndarray.types.Shape(vocab, width)));
      Files.createDirectories(out.getParent());
      ai.promptline.ml.clip.Safetensors.write(out, sd);
    }
    return out;
  }

  @Test
  void listPrintsOneLinePerMethodWithNeedsAndDefaults() {
    CliRun r = CliRun.of("method", "list");
    assertEquals(0, r.code(), r.err());
    List<String> lines = r.out().strip().lines().toList();
    assertEquals(13, lines.size(), r.out());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("linear-probe ") && l.contains("needs: raw features, val split")
        && l.contains("recipe: fitted (no epochs)")), r.out());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("instance ") && l.contains("needs: features, sample ids")
        && l.contains("recipe: 100 epochs, batch 32, lr 0.002") && l.contains("candidatesPerClass=2") && l.contains("topK=4")), r.out());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("maple ") && l.contains("needs: image tower, ViT")
        && l.contains("recipe: 5 epochs, batch 4, lr 0.0035") && l.contains("depth=9")), r.out());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("cocoop ") && l.contains("needs: features")), r.out());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("rpo ") && l.contains("k=24") && l.contains("prompt=\"a photo of a _.\"")), r.out());
    CliRun explained = CliRun.of("method", "list", "--options");
    assertTrue(explained.out().contains("    depth          prompt depth J"), explained.out());
  }

  /** The exact acceptance interface: the reference RPO golden through the CLI. */
  @Test
  void probeReproducesTheReferenceRpoGolden() throws Exception {
    JsonNode g = new ObjectMapper().readTree(GOLDEN.resolve("rpo.json").toFile());
    String images = String.join(",", List.of("img0.png", "img1.png", "img2.png", "img3.png").stream()
        .map(f -> GOLDEN.resolve(f).toString()).toList());
    CliRun r = CliRun.of("method", "probe", "--method", "rpo", "--weights", weights().toString(),
        "--init", GOLDEN.resolve("rpo_init.safetensors").toString(), "--images", images, "--targets", "3,0,1,2",
        "--classes", "cat,dog,red car,sunflower field", "--lr", "0.05", "--steps", "3", "--k", "3",
        "--prompt", "a photo of a _.");
    assertEquals(0, r.code(), r.err());
    JsonNode out = new ObjectMapper().readTree(r.out());
    assertEquals(4, out.get("steps").size());
    for (int s = 0; s < 4; s++) {
      double want = g.get("steps").get(s).get("loss").asDouble();
      double got = out.get("steps").get(s).get("loss").asDouble();
      assertEquals(want, got, 1e-4 * Math.abs(want), "loss at step " + s);
      for (int i = 0; i < 4; i++) for (int c = 0; c < 4; c++) {
        double e = g.get("steps").get(s).get("logits").get(i).get(c).asDouble();
        assertEquals(e, out.get("steps").get(s).get("logits").get(i).get(c).asDouble(), 1e-3, "logit " + i + "," + c);
      }
    }
    assertTrue(out.get("steps").get(0).get("gradients").has("text_prompt"));
  }

  @Test
  void badInputIsRefusedWithTheFix() throws Exception {
    Path w = weights();
    String img = GOLDEN.resolve("img0.png").toString();
    CliRun unknown = CliRun.of("method", "probe", "--method", "coop2", "--weights", w.toString(), "--images", img,
        "--targets", "0", "--classes", "a,b");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("unknown method 'coop2'; known methods: ") && unknown.err().contains("maple"), unknown.err());
    CliRun option = CliRun.of("method", "probe", "--method", "coop", "--weights", w.toString(), "--images", img,
        "--targets", "0", "--classes", "a,b", "--k", "3");
    assertEquals(2, option.code());
    assertTrue(option.err().contains("method 'coop' has no option 'k'; its options: nCtx, ctxInit"), option.err());
    CliRun deep = CliRun.of("method", "probe", "--method", "maple", "--weights", w.toString(), "--images", img,
        "--targets", "0", "--classes", "a,b", "--depth", "9");
    assertEquals(2, deep.code());
    assertTrue(deep.err().contains("maple depth 9 must be between 1 and the model's 3 layers"), deep.err());
    Path bad = Files.createTempFile("init", ".safetensors");
    try {
      try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
        ai.promptline.ml.clip.Safetensors.write(bad, java.util.Map.of("ctx", m.zeros(new ai.djl.ndarray.types.Shape(3, 64))));
      }
      CliRun init = CliRun.of("method", "probe", "--method", "coop", "--weights", w.toString(), "--images", img,
          "--targets", "0", "--classes", "a,b", "--n-ctx", "4", "--ctx-init", "", "--init", bad.toString());
      assertEquals(2, init.code());
      assertTrue(init.err().contains("coop state does not fit the model: 'ctx' has shape (3, 64), the model's is (4, 64)"), init.err());
    } finally {
      Files.deleteIfExists(bad);
    }
  }

  /** zsclip's template ensemble through the probe: --dataset picks the list; the CoOp ZeroshotCLIP2 golden. */
  @Test
  void probeRunsZsclipTemplateEnsemblesForANamedDataset() throws Exception {
    JsonNode g = new ObjectMapper().readTree(GOLDEN.resolve("zsclip.json").toFile());
    JsonNode euro = null;
    for (JsonNode c : g.get("cases"))
      if (c.get("templates").asText().equals("coop-ensemble") && c.get("dataset").asText().equals("EuroSAT")) euro = c;
    String images = String.join(",", List.of("img0.png", "img1.png", "img2.png", "img3.png").stream()
        .map(f -> GOLDEN.resolve(f).toString()).toList());
    CliRun r = CliRun.of("method", "probe", "--method", "zsclip", "--weights", weights().toString(), "--images", images,
        "--targets", "3,0,1,2", "--classes", "cat,dog,red car,sunflower field", "--steps", "0",
        "--template", "a centered satellite photo of {}.", "--dataset", "EuroSAT", "--option", "templates=coop-ensemble");
    assertEquals(0, r.code(), r.err());
    JsonNode logits = new ObjectMapper().readTree(r.out()).get("steps").get(0).get("logits");
    for (int i = 0; i < 4; i++) for (int c = 0; c < 4; c++)
      assertEquals(euro.get("logits").get(i).get(c).asDouble(), logits.get(i).get(c).asDouble(), 1e-4, "logit " + i + "," + c);
    CliRun unnamed = CliRun.of("method", "probe", "--method", "zsclip", "--weights", weights().toString(), "--images", images,
        "--targets", "3,0,1,2", "--classes", "cat,dog,red car,sunflower field", "--steps", "0", "--option", "templates=ensemble");
    assertEquals(2, unnamed.code());
    assertTrue(unnamed.err().contains("these classes come from no named dataset"), unnamed.err());
  }
}
