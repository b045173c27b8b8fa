package ai.promptline.ml.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.data.Datasets;
import ai.promptline.ml.train.Batch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * zsclip's {@code templates} option against the reference code (golden/methods/zsclip.json, see
 * EDITS.md): {@code single} and {@code coop-ensemble} from KaiyangZhou/CoOp:trainers/zsclip.py
 * {@code ZeroshotCLIP}/{@code ZeroshotCLIP2} build_model + model_inference, {@code ensemble} from
 * openai/CLIP:notebooks/Prompt_Engineering_for_ImageNet.ipynb {@code zeroshot_classifier}, all on
 * the tiny CLIP and the four golden images. Template lists, text features and logits within 1e-4
 * relative.
 */
class ZeroShotTemplatesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static NDManager manager;
  private static ClipModel clip;
  private static JsonNode inputs;
  private static NDArray features;

  @BeforeAll
  static void load() throws Exception {
    Path dir = TinyClipFixture.goldenDir();
    inputs = JSON.readTree(dir.resolve("inputs.json").toFile());
    manager = NDManager.newBaseManager();
    clip = TinyClipFixture.goldenClip(manager);
    NDArray pixels = TinyClipFixture.goldenPixels(inputs, clip.config().imageResolution(), manager);
    features = Features.normalize(clip.encodeImage(pixels));
  }

  @AfterAll
  static void close() {
    clip.close();
    manager.close();
  }

  private static List<String> classes() {
    List<String> c = new ArrayList<>();
    inputs.get("classes").forEach(x -> c.add(x.asText()));
    return c;
  }

  private static MethodContext context(NDManager m, String templates) {
    MethodSpec spec = Methods.spec("zsclip");
    return new MethodContext(clip, ClipTokenizer.getDefault(), m, MethodOptions.of(spec, Map.of("templates", templates)), 1);
  }

  private static NDArray logits(PromptMethod method, ClassSet classes, NDManager m) {
    int[] y = {3, 0, 1, 2};
    try (PromptMethod.Head h = method.bind(classes)) {
      return h.logits(new Batch(0, new int[] {0, 1, 2, 3}, y, m.create(y), features, null));
    }
  }

  @Test
  void matchesTheReferenceZeroShotClassifiers() throws Exception {
    Path dir = Path.of(ZeroShotTemplatesTest.class.getResource("/golden/methods").toURI());
    JsonNode golden = JSON.readTree(dir.resolve("zsclip.json").toFile());
    double worst = 0;
    for (JsonNode c : golden.get("cases")) {
      String mode = c.get("templates").asText();
      String dataset = c.get("dataset").asText();
      String what = "zsclip templates=" + mode + " " + dataset;
      ClassSet classes = new ClassSet(classes(), Datasets.spec(dataset).template(), dataset);
      List<String> expected = new ArrayList<>();
      c.get("templateList").forEach(x -> expected.add(x.asText()));
      List<String> list = ClipTemplates.of(mode, dataset, classes.template());
      assertEquals(expected, list, what + ": template list");
      try (NDManager m = manager.newSubManager(); PromptMethod method = Methods.create("zsclip", context(m, mode))) {
        NDArray text = ZeroShotClip.ensemble(context(m, mode), classes, list);
        worst = Math.max(worst, MethodParityTest.check(what + " text features", MethodParityTest.flat(c.get("textFeatures")), text.toFloatArray()));
        worst = Math.max(worst, MethodParityTest.check(what + " logits", MethodParityTest.flat(c.get("logits")), logits(method, classes, m).toFloatArray()));
      }
    }
    System.out.printf("parity zsclip templates: %d cases, worst relative error %.3g%n", golden.get("cases").size(), worst);
  }

  @Test
  void singleIsTheHandTemplateWithOrWithoutADatasetAndKeepsRunKeys() {
    MethodSpec spec = Methods.spec("zsclip");
    assertEquals(Map.of(), spec.nonDefault(Map.of("templates", "single")), "the default must not enter run keys");
    assertEquals(Map.of("templates", "ensemble"), spec.nonDefault(Map.of("templates", "ensemble")));
    try (NDManager m = manager.newSubManager(); PromptMethod a = Methods.create("zsclip", context(m, "single"));
        PromptMethod b = Methods.create("zsclip",
            new MethodContext(clip, ClipTokenizer.getDefault(), m, MethodOptions.of(spec, Map.of()), 1))) {
      float[] named = logits(a, new ClassSet(classes(), "a photo of a {}, a type of pet.", "OxfordPets"), m).toFloatArray();
      float[] plain = logits(b, new ClassSet(classes(), "a photo of a {}, a type of pet."), m).toFloatArray();
      assertTrue(java.util.Arrays.equals(named, plain), "single ignores the dataset name");
    }
  }

  @Test
  void ensemblesRefuseDatasetsWithoutAListAndUnknownModes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClipTemplates.of("ensemble", "Scenes", "a photo of a {}."));
    assertTrue(e.getMessage().contains("'Scenes' has none") && e.getMessage().contains("EuroSAT") && e.getMessage().contains("templates=single"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ClipTemplates.of("coop-ensemble", null, "a photo of a {}."));
    assertTrue(e.getMessage().contains("no named dataset"), e.getMessage());
    try (NDManager m = manager.newSubManager()) {
      e = assertThrows(IllegalArgumentException.class, () -> Methods.create("zsclip", context(m, "all")));
      assertTrue(e.getMessage().contains("single, ensemble, coop-ensemble"), e.getMessage());
      try (PromptMethod z = Methods.create("zsclip", context(m, "ensemble"))) {
        assertThrows(IllegalArgumentException.class, () -> z.bind(new ClassSet(classes(), "a photo of a {}.", "imagefolder")));
      }
    }
    // aliases resolve; the ImageNet variants follow ZeroshotCLIP2 (hand template appended unless ImageNet itself)
    assertEquals(ClipTemplates.of("ensemble", "OxfordFlowers", "x {}"), ClipTemplates.of("ensemble", "flowers102", "x {}"));
    assertEquals(7, ClipTemplates.of("coop-ensemble", "ImageNet", "{}").size());
    assertEquals(8, ClipTemplates.of("coop-ensemble", "ImageNetV2", "{}").size());
    assertEquals("a photo of a {}.", ClipTemplates.of("coop-ensemble", "ImageNetV2", "{}").get(7));
    for (String d : ClipTemplates.datasets("ensemble"))
      for (String t : ClipTemplates.of("ensemble", d, "{}")) assertTrue(t.contains("{}"), d + ": " + t);
  }
}
