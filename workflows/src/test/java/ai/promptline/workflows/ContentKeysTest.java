package ai.promptline.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.TrainParams;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.List;
import java.util.Map;
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

  /**
   * Keys of existing configs must never change: finished runs are found by them. These values were
   * computed on main before cross-dataset targets were added.
   */
  @Test
  void keys_ofExistingConfigs_arePinned() {
    assertEquals("435f0f3c800f140c3e16e25f0215bf2f1b97fdeecd52c08752fe9bc72bc32bc5", ContentKeys.runKey(config("/data", 1)));
    assertEquals("e462c7cf4c70fbd231dc92f467ac8d6595e7fa5956f19d3882c549deee8a84ff", ContentKeys.campaignKey(spec(1, 0)));
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

  static RunConfig crossDataset(String sourceRoot, List<DatasetRef> targets) {
    return new RunConfig(new DatasetRef("ImageNet", sourceRoot, "fp-in"), new ModelRef("ViT-B/16", "/w/vit.pt", "abc"),
        "coop", 16, 1, "cross-dataset", TrainParams.coopDefaults(50), targets);
  }

  @Test
  void keys_withoutTargets_areThoseOfConfigsWrittenBeforeTargetsExisted() {
    RunConfig old = config("/data", 1);
    RunConfig explicitEmpty = new RunConfig(old.dataset(), old.model(), old.method(), old.shots(), old.seed(),
        old.protocol(), old.train(), List.of());
    RunConfig nullTargets = new RunConfig(old.dataset(), old.model(), old.method(), old.shots(), old.seed(),
        old.protocol(), old.train(), null);
    assertEquals(ContentKeys.runKey(old), ContentKeys.runKey(explicitEmpty));
    assertEquals(ContentKeys.runKey(old), ContentKeys.runKey(nullTargets));
    assertFalse(ContentKeys.canonicalJson(old).contains("targets"), ContentKeys.canonicalJson(old));
    CampaignSpec a = spec(1, 0);
    CampaignSpec b = new CampaignSpec(a.name(), a.experiment(), a.datasets(), a.model(), a.methods(), a.shots(),
        a.seeds(), a.protocol(), a.maxParallel(), a.heartbeatTimeoutSeconds(), null);
    assertEquals(ContentKeys.campaignKey(a), ContentKeys.campaignKey(b));
    // a result record written before targets existed still reads, with no targets
    RunConfig parsed = JsonMapper.builder().build().convertValue(
        Map.of("dataset", Map.of("name", "EuroSAT", "root", "/d"), "model", Map.of("name", "m", "weights", "/w"),
            "method", "coop", "shots", 1, "seed", 1, "protocol", "all",
            "train", Map.of("epochs", 1, "batchSize", 2, "lr", 0.1)), RunConfig.class);
    assertEquals(List.of(), parsed.targets());
  }

  @Test
  void crossDatasetKey_ignoresTargetRoots_butNotTargetNamesFingerprintsOrOrder() {
    DatasetRef v2 = new DatasetRef("ImageNetV2", "/data", "fp-v2");
    DatasetRef sk = new DatasetRef("ImageNetSketch", "/data", "fp-sk");
    String key = ContentKeys.runKey(crossDataset("/data", List.of(v2, sk)));
    assertEquals(key, ContentKeys.runKey(crossDataset("/mnt/x", List.of(new DatasetRef("ImageNetV2", "/elsewhere", "fp-v2"),
        new DatasetRef("ImageNetSketch", "/y", "fp-sk")))));
    assertNotEquals(key, ContentKeys.runKey(crossDataset("/data", List.of(v2))));
    assertNotEquals(key, ContentKeys.runKey(crossDataset("/data", List.of(sk, v2))), "targets are evaluated in order");
    assertNotEquals(key, ContentKeys.runKey(crossDataset("/data", List.of(v2, new DatasetRef("ImageNetSketch", "/data", "fp-2")))));
    assertFalse(ContentKeys.canonicalJson(crossDataset("/data", List.of(v2))).isEmpty());
    CampaignSpec c1 = crossDatasetSpec(v2, sk);
    CampaignSpec c2 = crossDatasetSpec(new DatasetRef("ImageNetV2", "/other", "fp-v2"), new DatasetRef("ImageNetSketch", "/o", "fp-sk"));
    assertEquals(ContentKeys.campaignKey(c1), ContentKeys.campaignKey(c2));
    assertNotEquals(ContentKeys.campaignKey(c1), ContentKeys.campaignKey(crossDatasetSpec(v2)));
  }

  @Test
  void crossDatasetExpansion_trainsOnTheSource_andEveryRunCarriesTheTargets() {
    DatasetRef v2 = new DatasetRef("ImageNetV2", "/data", "fp-v2");
    CampaignSpec c = crossDatasetSpec(v2);
    List<RunConfig> runs = c.expand();
    assertEquals(1, runs.size());
    assertEquals("EuroSAT", runs.get(0).dataset().name());
    assertEquals("cross-dataset", runs.get(0).protocol());
    assertEquals(List.of(v2), runs.get(0).targets());
  }

  @Test
  void targetRules_failWithTheFix() {
    DatasetRef v2 = new DatasetRef("ImageNetV2", "/data", "fp-v2");
    var e = assertThrows(IllegalArgumentException.class, () -> crossDataset("/data", List.of()));
    assertTrue(e.getMessage().contains("at least one target"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new RunConfig(new DatasetRef("EuroSAT", "/d", "f"),
        new ModelRef("m", "/w", "s"), "coop", 1, 1, "all", TrainParams.coopDefaults(1), List.of(v2)));
    assertTrue(e.getMessage().contains("protocol 'cross-dataset'") && e.getMessage().contains("remove targets"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new CampaignSpec("c", "e", List.of(new DatasetRef("EuroSAT", "/d", "f")),
        new ModelRef("m", "/w", "s"), List.of(new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(1))),
        List.of(1), List.of(1), "base2novel", 1, 0, List.of(v2)));
    assertTrue(e.getMessage().contains("set protocol: cross-dataset"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> crossDataset("/data", List.of(v2, new DatasetRef("imagenet", "/x", "y"))));
    assertTrue(e.getMessage().contains("target 'imagenet' is the source dataset"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> crossDataset("/data", List.of(v2, new DatasetRef("ImageNetV2", "/z", "z"))));
    assertTrue(e.getMessage().contains("listed twice"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> crossDatasetSpec(new DatasetRef("EuroSAT", "/e", "f")));
    assertTrue(e.getMessage().contains("is the source dataset"), e.getMessage());
    // generic kinds (synthetic, imagefolder, csv) are told apart by root or fingerprint, not by name
    DatasetRef synthA = new DatasetRef("Synthetic", "/s/a", "fa");
    RunConfig ok = new RunConfig(synthA, new ModelRef("m", "/w", "s"), "coop", 1, 1, "cross-dataset",
        TrainParams.coopDefaults(1), List.of(new DatasetRef("Synthetic", "/s/b", "fb")));
    assertEquals(1, ok.targets().size());
    e = assertThrows(IllegalArgumentException.class, () -> new RunConfig(synthA, new ModelRef("m", "/w", "s"), "coop", 1, 1,
        "cross-dataset", TrainParams.coopDefaults(1), List.of(new DatasetRef("Synthetic", "/s/a", "other"))));
    assertTrue(e.getMessage().contains("is the source dataset"), e.getMessage());
  }

  static RunConfig withExperts(List<ModelRef> experts) {
    return new RunConfig(new DatasetRef("EuroSAT", "/data", "fp1"), new ModelRef("ViT-B/16", "/w/vit.pt", "abc"),
        "coop", 16, 1, "base2novel", TrainParams.coopDefaults(200), List.of(), Map.of(), experts);
  }

  /**
   * Experts enter the run key by name, sha256 and non-fp32 precision (not their path), in order;
   * without experts the key is the pinned one of configs written before experts existed.
   */
  @Test
  void experts_enterTheKeyByContent_andNoExpertsKeepTheOldKey() {
    String pinned = "435f0f3c800f140c3e16e25f0215bf2f1b97fdeecd52c08752fe9bc72bc32bc5";
    assertEquals(pinned, ContentKeys.runKey(withExperts(List.of())));
    assertEquals(pinned, ContentKeys.runKey(withExperts(null)));
    ModelRef rn = new ModelRef("RN50", "/models/RN50.pt", "sha-rn");
    ModelRef vit = new ModelRef("ViT-L/14", "/models/L14.pt", "sha-l14");
    String one = ContentKeys.runKey(withExperts(List.of(rn)));
    assertNotEquals(pinned, one);
    assertEquals(one, ContentKeys.runKey(withExperts(List.of(new ModelRef("RN50", "/elsewhere/rn50.pt", "sha-rn")))), "path is machine-local");
    assertNotEquals(one, ContentKeys.runKey(withExperts(List.of(new ModelRef("RN50", "/models/RN50.pt", "other")))), "sha256 counts");
    assertNotEquals(one, ContentKeys.runKey(withExperts(List.of(rn.withPrecision("fp16")))), "precision counts");
    assertNotEquals(ContentKeys.runKey(withExperts(List.of(rn, vit))), ContentKeys.runKey(withExperts(List.of(vit, rn))), "order counts");
    String campaign = ContentKeys.campaignKey(spec(1, 0));
    CampaignSpec s = spec(1, 0);
    CampaignSpec withEx = new CampaignSpec(s.name(), s.experiment(), s.datasets(), s.model(),
        List.of(new CampaignSpec.MethodSpec("zsclip", TrainParams.coopDefaults(0)),
            new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(2), Map.of(), List.of(rn))),
        s.shots(), s.seeds(), s.protocol(), 1, 0);
    assertNotEquals(campaign, ContentKeys.campaignKey(withEx));
    assertEquals(List.of(rn), withEx.expand().get(s.seeds().size()).experts(), "runs carry their method's experts");
    var e = assertThrows(IllegalArgumentException.class, () -> withExperts(List.of(rn, new ModelRef("RN50", "/x", "y"))));
    assertTrue(e.getMessage().contains("expert 'RN50' is listed twice"), e.getMessage());
  }

  static CampaignSpec crossDatasetSpec(DatasetRef... targets) {
    return new CampaignSpec("xd", "exp", List.of(new DatasetRef("EuroSAT", "/d", "f")), new ModelRef("m", "/w", "s"),
        List.of(new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(2))), List.of(16), List.of(1),
        "cross-dataset", 1, 0, List.of(targets));
  }

  static CampaignSpec spec(int maxParallel, int hb) {
    return new CampaignSpec("demo", "exp", List.of(new DatasetRef("EuroSAT", "/d", "f")), new ModelRef("m", "/w", "s"),
        List.of(new CampaignSpec.MethodSpec("zsclip", TrainParams.coopDefaults(0)),
            new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(2))),
        List.of(4), List.of(1, 2), "base2novel", maxParallel, hb);
  }
}
