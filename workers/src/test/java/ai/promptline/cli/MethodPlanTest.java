package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
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
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Methods in campaign files: each gets its reference recipe, options are validated against the
 * method and only non-default ones enter the run key, and methods that cannot run on the model are
 * refused at plan time with the reason.
 */
class MethodPlanTest {
  @TempDir static Path dir;
  static DemoAssets.Assets assets;
  static Path resnet;

  @BeforeAll
  static void data() throws Exception {
    assets = DemoAssets.ensure(dir.resolve("assets"));
    resnet = dir.resolve("rn.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Safetensors.write(resnet, ClipWeights.random(ClipConfig.tinyResNet(), 1, m), ClipWeights.metadataFor(ClipConfig.tinyResNet()));
    }
  }

  private static CampaignSpec plan(String methods, Path weights) throws Exception {
    Path f = Files.createTempFile(dir, "campaign", ".yaml");
    Files.writeString(f, "name: m\nmodel: {name: tiny, weights: " + weights + "}\n"
        + "datasets: [{name: Synthetic, root: " + assets.datasetRoot() + "}]\n"
        + "methods: " + methods + "\nshots: [2]\nseeds: [1]\n");
    return CampaignFile.read(f).plan(f.getParent());
  }

  @Test
  void eachMethodGetsItsReferenceRecipe_andDefaultOptionsStayOutOfTheKey() throws Exception {
    CampaignSpec spec = plan("[{name: coop}, {name: maple, options: {depth: 2}}, {name: rpo, options: {k: 24}}, {name: mrpo, options: {depth: 2}}]",
        assets.weights());
    Map<String, RunConfig> runs = new java.util.HashMap<>();
    spec.expand().forEach(r -> runs.put(r.method(), r));
    assertEquals(200, runs.get("coop").train().epochs());
    assertEquals(0.002, runs.get("coop").train().lr());
    assertEquals(5, runs.get("maple").train().epochs());
    assertEquals(4, runs.get("maple").train().batchSize());
    assertEquals(0.0035, runs.get("maple").train().lr());
    assertEquals(2, runs.get("maple").train().nCtx());
    assertEquals(Map.of(), runs.get("rpo").options(), "k: 24 is RPO's default: not part of the key");
    assertEquals(Map.of("depth", "2"), runs.get("mrpo").options());
    RunConfig withoutOptions = new RunConfig(runs.get("rpo").dataset(), runs.get("rpo").model(), "rpo", 2, 1,
        "base2novel", runs.get("rpo").train());
    assertEquals(ContentKeys.runKey(withoutOptions), ContentKeys.runKey(runs.get("rpo")));
    assertTrue(ContentKeys.canonicalJson(runs.get("mrpo")).contains("\"options\":{\"depth\":\"2\"}"));
  }

  @Test
  void campaignNamesAreRestrictedToASafeCharacterSet() {
    for (String bad : new String[] {"../../evil\n; rm -rf", "a b", "-x", "x/y"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new ai.promptline.workers.CampaignFile(bad, null, null, null, null, null, null, null, null, null).plan(dir));
      assertTrue(e.getMessage().startsWith("campaign file: 'name' is '") && e.getMessage().contains("use letters, digits"), e.getMessage());
      assertTrue(!e.getMessage().contains("\n"), "control characters are shown escaped: " + e.getMessage());
    }
  }

  @Test
  void aTrainedMethodWithZeroEpochsIsRefusedAtPlanTime() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: coop, train: {epochs: 0}}]", assets.weights()));
    assertEquals("campaign file: methods[coop].train.epochs is 0, but 'coop' learns by training (its recipe: 200 epochs);"
        + " give epochs >= 1, or use zsclip for a method without training", e.getMessage());
    assertEquals(0, plan("[{name: zsclip}]", assets.weights()).expand().get(0).train().epochs(), "zero-shot trains nothing");
  }

  @Test
  void methodsThatCannotRunAreRefusedWithTheReason() {
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> plan("[{name: mapel}]", assets.weights()));
    assertTrue(unknown.getMessage().contains("unknown method 'mapel'; known methods: cocoop, coop, deep-text, instance, ivlp, linear-probe, linear-probe-rpo, maple, mrpo, prismer, rpo, vpt, zsclip"),
        unknown.getMessage());
    IllegalArgumentException option = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: maple, options: {k: 3}}]", assets.weights()));
    assertTrue(option.getMessage().contains("method 'maple' has no option 'k'; its options: nCtx, ctxInit, depth"), option.getMessage());
    IllegalArgumentException deep = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: maple, options: {depth: 9}}]", assets.weights()));
    assertTrue(deep.getMessage().contains("option depth=9 must be between 1 and the model's 3 layers"), deep.getMessage());
    IllegalArgumentException rn = assertThrows(IllegalArgumentException.class, () -> plan("[{name: vpt}]", resnet));
    assertTrue(rn.getMessage().contains("method 'vpt' prompts the ViT image tower") && rn.getMessage().contains("ModifiedResNet"),
        rn.getMessage());
    IllegalArgumentException notInt = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: rpo, options: {k: many}}]", assets.weights()));
    assertTrue(notInt.getMessage().contains("option 'k' must be a non-negative integer, got 'many'"), notInt.getMessage());
    IllegalArgumentException ctx = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: coop, options: {nCtx: 8}}]", assets.weights()));
    assertTrue(ctx.getMessage().contains("give nCtx and ctxInit under 'train:'"), ctx.getMessage());
  }

  @Test
  void zsclipTemplatesAreCheckedAgainstTheDatasetsAtPlanTime() throws Exception {
    CampaignSpec spec = plan("[{name: zsclip, options: {templates: single}}]", assets.weights());
    assertEquals(Map.of(), spec.expand().get(0).options(), "templates: single is the default: not part of the key");
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: zsclip, options: {templates: ensemble}}]", assets.weights()));
    assertTrue(none.getMessage().contains("methods[zsclip].options: zsclip templates=ensemble has template lists for")
        && none.getMessage().contains("' has none (use templates=single") && none.getMessage().contains("OxfordPets"), none.getMessage());
    IllegalArgumentException mode = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: zsclip, options: {templates: many}}]", assets.weights()));
    assertTrue(mode.getMessage().contains("templates must be one of single, ensemble, coop-ensemble, got 'many'"), mode.getMessage());
  }

  /** instance: candidatesPerClass and topK cannot exceed the shots (plan() here plans 2 shots). */
  @Test
  void instanceOptionsAboveTheShotsAreRefusedAtPlanTime() throws Exception {
    IllegalArgumentException top = assertThrows(IllegalArgumentException.class, () -> plan("[{name: instance}]", assets.weights()));
    assertEquals("campaign file: method 'instance' at 2 shots: option topK=4 averages that many prompts per class out of 2 per"
        + " class; set topK to at most 2 or train with more shots", top.getMessage());
    IllegalArgumentException k = assertThrows(IllegalArgumentException.class,
        () -> plan("[{name: instance, options: {candidatesPerClass: 3, topK: 2}}]", assets.weights()));
    assertTrue(k.getMessage().contains("option candidatesPerClass=3 draws that many distinct prompts per class from 2 per class;"
        + " set candidatesPerClass to at most 2"), k.getMessage());
    CampaignSpec ok = plan("[{name: instance, options: {topK: 2}}]", assets.weights());
    RunConfig r = ok.expand().get(0);
    assertEquals(100, r.train().epochs(), "CoOp's 4-shot recipe (rn50_ep100)");
    assertEquals(Map.of("topK", "2"), r.options());
  }
}
