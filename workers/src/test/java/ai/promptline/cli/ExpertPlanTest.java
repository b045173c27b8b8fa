package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.promptline.activities.ModelCache;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipWeights;
import ai.promptline.ml.clip.Safetensors;
import ai.promptline.workers.CampaignFile;
import ai.promptline.workers.DemoAssets;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.RunConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Expert models in campaign files ({@code methods: [{name: prismer, experts: [...]}]}): verified at
 * plan time like the main model (file, sha256, resolution), recorded with their hash into every run
 * config, only for methods that take experts, and part of the run key only when present.
 */
class ExpertPlanTest {
  @TempDir static Path dir;
  static DemoAssets.Assets assets;
  static Path expert48;
  static Path expert32;

  @BeforeAll
  static void data() throws Exception {
    assets = DemoAssets.ensure(dir.resolve("assets"));
    expert48 = dir.resolve("expert48.safetensors");
    expert32 = dir.resolve("expert32.safetensors");
    // a ViT at the demo model's 48 px with another width (64, not 128), and one at 32 px
    ClipConfig c48 = new ClipConfig(ClipConfig.VisionKind.VIT, 32, 48, 64, 1, List.of(), 8, 1, 77, 49408, 64, 1, 1);
    try (NDManager m = NDManager.newBaseManager()) {
      Safetensors.write(expert48, ClipWeights.random(c48, 1, m), ClipWeights.metadataFor(c48));
      Safetensors.write(expert32, ClipWeights.random(ClipConfig.tinyVit(), 2, m), ClipWeights.metadataFor(ClipConfig.tinyVit()));
    }
  }

  private static CampaignSpec plan(String methods) throws Exception {
    Path f = Files.createTempFile(dir, "campaign", ".yaml");
    Files.writeString(f, "name: m\nmodel: {name: tiny, weights: " + assets.weights() + "}\n"
        + "datasets: [{name: Synthetic, root: " + assets.datasetRoot() + "}]\n"
        + "methods: " + methods + "\nshots: [2]\nseeds: [1]\n");
    return CampaignFile.read(f).plan(f.getParent());
  }

  @Test
  void expertsAreVerifiedAndRecordedWithTheirHash_andEnterTheKeyOnlyWhenPresent() throws Exception {
    String sha = ModelCache.sha256(expert48);
    CampaignSpec spec = plan("[{name: prismer, experts: [{name: vit64, weights: " + expert48 + ", sha256: " + sha.toUpperCase() + "}]},"
        + " {name: prismer}]");
    List<RunConfig> runs = spec.expand();
    assertEquals(2, runs.size());
    RunConfig with = runs.get(0);
    assertEquals(1, with.experts().size());
    assertEquals("vit64", with.experts().get(0).name());
    assertEquals(sha, with.experts().get(0).sha256(), "the planner records the file's hash for the workers");
    assertEquals(expert48.toString(), with.experts().get(0).weights());
    assertEquals(List.of(), runs.get(1).experts());
    assertNotEquals(ContentKeys.runKey(with), ContentKeys.runKey(runs.get(1)));
    assertTrue(ContentKeys.canonicalJson(with).contains("\"experts\":[{"), "experts serialised");
    assertTrue(!ContentKeys.canonicalJson(runs.get(1)).contains("experts"), "no experts: not serialised, old keys kept");
    // without sha256 in the file the planner computes it
    assertEquals(sha, plan("[{name: prismer, experts: [{name: e, weights: " + expert48 + "}]}]").expand().get(0).experts().get(0).sha256());
  }

  @Test
  void badExpertsAreRefusedAtPlanTimeWithTheFix() {
    Path missing = dir.resolve("nope/RN50.pt");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: prismer, experts: [{name: RN50, weights: " + missing + "}]}]"));
    assertTrue(e.getMessage().contains("methods[prismer].experts[RN50].weights: " + missing + " does not exist")
        && e.getMessage().contains("give the path of the expert's CLIP checkpoint"), e.getMessage());

    String actual = ModelCache.sha256(expert48);
    e = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: prismer, experts: [{name: vit64, weights: " + expert48 + ", sha256: 0123abcd}]}]"));
    assertTrue(e.getMessage().contains("experts[vit64].weights: " + expert48) && e.getMessage().contains("has sha256 " + actual)
        && e.getMessage().contains("expects 0123abcd") && e.getMessage().contains("update sha256"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: coop, experts: [{name: vit64, weights: " + expert48 + "}]}]"));
    assertTrue(e.getMessage().contains("methods[coop].experts: method 'coop' takes no expert models")
        && e.getMessage().contains("remove 'experts:'") && e.getMessage().contains("(prismer)"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: prismer, experts: [{name: small, weights: " + expert32 + "}]}]"));
    assertTrue(e.getMessage().contains("experts[small]: the expert takes 32 px images but the main model 48 px")
        && e.getMessage().contains("use an expert checkpoint with input resolution 48"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> plan("[{name: prismer, experts: [{name: a, weights: " + expert48
        + "}, {name: a, weights: " + expert48 + "}]}]"));
    assertTrue(e.getMessage().contains("expert 'a' is listed twice"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> plan("[{name: prismer, options: {adaptorLayers: 7}}]"));
    assertTrue(e.getMessage().contains("adaptorLayers=7 must be 'all' or between 0 and the model's 3 image-tower layers"), e.getMessage());
  }
}
