package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.ml.data.Datasets;
import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import ai.promptline.workers.CampaignFile;
import ai.promptline.workers.DemoAssets;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.RunConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Campaign files with {@code protocol: cross-dataset}: targets are read like datasets, opened,
 * validated and fingerprinted at plan time; misuse fails with one line naming the fix, before
 * anything is submitted; {@code campaign plan} lists the targets.
 */
class CrossDatasetPlanTest {
  @TempDir static Path dir;
  static DemoAssets.Assets assets;
  static Path targetA;
  static Path targetB;

  @BeforeAll
  static void data() {
    assets = DemoAssets.ensure(dir.resolve("assets"));
    targetA = dir.resolve("target-a");
    SyntheticDataset.generate(targetA, new SyntheticSpec("ShapesA", 6, 1, 1, 2, 32, 7));
    targetB = dir.resolve("target-b");
    SyntheticDataset.generate(targetB, new SyntheticSpec("ShapesB", 3, 1, 1, 2, 32, 8));
  }

  private static Path file(String protocolAndTargets) throws Exception {
    Path f = Files.createTempFile(dir, "campaign", ".yaml");
    Files.writeString(f, "name: xd\nmodel: {name: tiny, weights: " + assets.weights() + "}\n"
        + "datasets: [{name: Synthetic, root: " + assets.datasetRoot() + "}]\n"
        + "methods: [{name: coop, train: {epochs: 1}}]\nshots: [2]\nseeds: [1, 2]\n" + protocolAndTargets);
    return f;
  }

  private static CampaignSpec plan(Path f) {
    return CampaignFile.read(f).plan(f.getParent());
  }

  @Test
  void crossDatasetCampaign_plansTargetsWithFingerprints_andEveryRunCarriesThem() throws Exception {
    Path f = file("protocol: cross-dataset\ntargets:\n  - {name: Synthetic, root: target-a}\n"
        + "  - {name: Synthetic, root: " + targetB + "}\n");
    CampaignSpec spec = plan(f);
    assertEquals("cross-dataset", spec.protocol());
    assertEquals(2, spec.targets().size());
    assertEquals(targetA.toString(), spec.targets().get(0).root(), "relative roots resolve against the file");
    assertEquals(Datasets.open("Synthetic", targetA).fingerprint(), spec.targets().get(0).fingerprint());
    assertEquals(Datasets.open("Synthetic", targetB).fingerprint(), spec.targets().get(1).fingerprint());
    for (RunConfig c : spec.expand()) assertEquals(spec.targets(), c.targets());

    String text = CampaignCommand.planText(spec, new LocalObjectStore(dir.resolve("store")));
    assertTrue(text.contains("protocol cross-dataset: every run is evaluated on 2 target(s)"), text);
    assertTrue(text.contains("target Synthetic") && text.contains(targetA.toString()) && text.contains(targetB.toString()), text);
    assertTrue(text.contains(spec.targets().get(0).fingerprint().substring(0, 16)), text);
    assertTrue(text.contains("2 runs planned: 0 already finished") && text.contains(", 2 to run."), text);
    String plain = CampaignCommand.planText(plan(file("")), new LocalObjectStore(dir.resolve("store")));
    assertTrue(!plain.contains("target"), "no target lines without targets: " + plain);
  }

  @Test
  void misuse_failsWithOneLineNamingTheFix() throws Exception {
    var e = assertThrows(IllegalArgumentException.class, () -> plan(file("protocol: cross-dataset\n")));
    assertTrue(e.getMessage().contains("needs 'targets'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> plan(file("targets: [{name: Synthetic, root: " + targetA + "}]\n")));
    assertTrue(e.getMessage().contains("set protocol: cross-dataset or remove targets"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> plan(file("protocol: xdomain\n")));
    assertTrue(e.getMessage().contains("cross-dataset"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> plan(file(
        "protocol: cross-dataset\ntargets: [{name: Synthetic, root: " + assets.datasetRoot() + "}]\n")));
    assertTrue(e.getMessage().contains("also a source"), e.getMessage());
    // another copy of the source (same dataset name, other folder) is the source too
    Path copy = dir.resolve("copy");
    SyntheticDataset.generate(copy, SyntheticSpec.defaults().withName(DemoAssets.DATASET).withClasses(3).withPerClass(1, 1, 1));
    e = assertThrows(IllegalArgumentException.class, () -> plan(file(
        "protocol: cross-dataset\ntargets: [{name: Synthetic, root: " + copy + "}]\n")));
    assertTrue(e.getMessage().contains("also a source"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> plan(file("protocol: cross-dataset\ntargets:\n"
        + "  - {name: Synthetic, root: " + targetA + "}\n  - {name: Synthetic, root: " + targetA + "/.}\n")));
    assertTrue(e.getMessage().contains("listed twice") || e.getMessage().contains("are both"), e.getMessage());
  }

  @Test
  void brokenTarget_isNamedAtPlanTime_beforeAnythingIsSubmitted() throws Exception {
    Path broken = dir.resolve("broken-target");
    SyntheticDataset.Generated g = SyntheticDataset.generate(broken, new SyntheticSpec("Broken", 2, 1, 1, 1, 32, 3));
    Path victim = g.imageRoot().resolve(g.splits().test().get(0).relPath());
    Files.delete(victim);
    Path f = file("protocol: cross-dataset\ntargets: [{name: Synthetic, root: " + broken + "}]\n");
    CliRun r = CliRun.of("campaign", "run", f.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains(victim.getFileName().toString()), r.err());
    assertTrue(!r.err().contains("Temporal"), "must fail on the input before connecting: " + r.err());
    r = CliRun.of("campaign", "plan", file("protocol: cross-dataset\ntargets: [{name: ImageNetA, root: "
        + dir.resolve("no-such-data") + "}]\n").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("ImageNetA") && r.err().contains("no-such-data"), r.err());
  }
}
