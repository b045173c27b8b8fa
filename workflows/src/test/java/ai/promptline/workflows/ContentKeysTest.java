package ai.promptline.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.TrainParams;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContentKeysTest {
  static RunConfig config(String root, int seed) {
    return new RunConfig(new DatasetRef("EuroSAT", root, "fp1"), new ModelRef("ViT-B/16", "/w/vit.pt", "abc"),
        "coop", 16, seed, "base2novel", TrainParams.coopDefaults(200));
  }

  @Test
  void runKey_isStableHexSha256() {
    String k = ContentKeys.runKey(config("/data", 1));
    assertEquals(64, k.length());
    assertTrue(k.matches("[0-9a-f]{64}"));
    assertEquals(k, ContentKeys.runKey(config("/data", 1)));
  }

  @Test
  void runKey_ignoresMachineLocalPaths_butNotContent() {
    assertEquals(ContentKeys.runKey(config("/data", 1)), ContentKeys.runKey(config("/mnt/other", 1)));
    assertNotEquals(ContentKeys.runKey(config("/data", 1)), ContentKeys.runKey(config("/data", 2)));
    RunConfig otherWeights = new RunConfig(new DatasetRef("EuroSAT", "/data", "fp1"),
        new ModelRef("ViT-B/16", "/w/vit.pt", "def"), "coop", 16, 1, "base2novel", TrainParams.coopDefaults(200));
    assertNotEquals(ContentKeys.runKey(config("/data", 1)), ContentKeys.runKey(otherWeights));
  }

  /** Keys computed before ModelRef gained {@code precision}: fp32 configs must keep them. */
  @Test
  void fp32Keys_arePinned() {
    assertEquals("435f0f3c800f140c3e16e25f0215bf2f1b97fdeecd52c08752fe9bc72bc32bc5", ContentKeys.runKey(config("/data", 1)));
    assertEquals("e462c7cf4c70fbd231dc92f467ac8d6595e7fa5956f19d3882c549deee8a84ff", ContentKeys.campaignKey(spec(1, 0)));
  }

  @Test
  void precision_entersTheKeyOnlyWhenNotFp32() {
    RunConfig fp32 = config("/data", 1);
    RunConfig explicit32 = withModel(fp32, fp32.model().withPrecision("FP32"));
    RunConfig fp16 = withModel(fp32, fp32.model().withPrecision("fp16"));
    RunConfig bf16 = withModel(fp32, fp32.model().withPrecision("bf16"));
    assertEquals(ContentKeys.runKey(fp32), ContentKeys.runKey(explicit32));
    assertNotEquals(ContentKeys.runKey(fp32), ContentKeys.runKey(fp16));
    assertNotEquals(ContentKeys.runKey(fp16), ContentKeys.runKey(bf16));
    var e = assertThrows(IllegalArgumentException.class, () -> fp32.model().withPrecision("int8"));
    assertTrue(e.getMessage().contains("model.precision") && e.getMessage().contains("fp16"), e.getMessage());
  }

  private static RunConfig withModel(RunConfig c, ModelRef m) {
    return new RunConfig(c.dataset(), m, c.method(), c.shots(), c.seed(), c.protocol(), c.train());
  }

  @Test
  void canonicalJson_sortsKeysAtEveryLevel() {
    String json = ContentKeys.canonicalJson(config("/data", 1));
    assertTrue(json.indexOf("\"dataset\"") < json.indexOf("\"method\""), json);
    assertTrue(json.indexOf("\"fingerprint\"") < json.indexOf("\"name\""), json);
  }

  @Test
  void campaignKey_ignoresSchedulingKnobs() {
    CampaignSpec a = spec(1, 0);
    CampaignSpec b = spec(4, 30);
    assertEquals(ContentKeys.campaignKey(a), ContentKeys.campaignKey(b));
    assertEquals(4, a.expand().size());
  }

  @Test
  void expand_dropsDuplicateGridPoints() {
    CampaignSpec s = new CampaignSpec("c", "e", List.of(new DatasetRef("EuroSAT", "/d", "f")),
        new ModelRef("m", "/w", "s"), List.of(new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(1))),
        List.of(1), List.of(1, 1), "base2novel", 1, 0);
    assertEquals(1, s.expand().size());
  }

  @Test
  void invalidConfigs_failWithTheFieldName() {
    var e = assertThrows(IllegalArgumentException.class, () -> new RunConfig(new DatasetRef("EuroSAT", "/d", "f"),
        new ModelRef("m", "/w", "s"), "coop", 1, 1, "fewshot", TrainParams.coopDefaults(1)));
    assertTrue(e.getMessage().contains("protocol"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new TrainParams(1, 0, 0.1, 0.9, 0, 1, 1e-5, 4, "", 1));
    assertTrue(e.getMessage().contains("batchSize"), e.getMessage());
  }

  static CampaignSpec spec(int maxParallel, int hb) {
    return new CampaignSpec("demo", "exp", List.of(new DatasetRef("EuroSAT", "/d", "f")), new ModelRef("m", "/w", "s"),
        List.of(new CampaignSpec.MethodSpec("zsclip", TrainParams.coopDefaults(0)),
            new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(2))),
        List.of(4), List.of(1, 2), "base2novel", maxParallel, hb);
  }
}
