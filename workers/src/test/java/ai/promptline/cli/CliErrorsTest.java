package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import ai.promptline.workers.DemoAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input gets one clear line on stderr naming the problem and the fix, and a non-zero exit.
 * Campaign files are planned (validated) before any service is contacted: with no services
 * running, these commands fail on the input, never on a connection.
 */
class CliErrorsTest {
  @TempDir Path dir;



  /** Every command and subcommand prints its help for --help and -h (no "Missing required options"). */
  @Test
  void everyCommandHasHelp() {
    java.util.List<java.util.List<String>> paths = new java.util.ArrayList<>();
    collect(Main.newCommandLine(), new java.util.ArrayList<>(), paths);
    assertTrue(paths.size() > 20, "commands found: " + paths);
    for (java.util.List<String> path : paths) {
      for (String flag : new String[] {"--help", "-h"}) {
        java.util.List<String> args = new java.util.ArrayList<>(path);
        args.add(flag);
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), args + ": " + r.err());
        assertTrue(r.out().contains("Usage:"), args + ": " + r.out() + r.err());
      }
    }
  }

  private static void collect(picocli.CommandLine cl, java.util.List<String> path, java.util.List<java.util.List<String>> out) {
    out.add(path);
    for (var e : cl.getSubcommands().entrySet()) {
      if (e.getValue().getCommandSpec().aliases().length > 0 && !e.getKey().equals(e.getValue().getCommandName())) continue;
      java.util.List<String> p = new java.util.ArrayList<>(path);
      p.add(e.getKey());
      collect(e.getValue(), p, out);
    }
  }

  @Test
  void unknownOption_isOneLineNamingTheOption() {
    CliRun r = CliRun.of("demo", "--bogus");
    assertEquals(2, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("--bogus") && r.err().contains("promptline demo --help"), r.err());
  }

  @Test
  void malformedOptionValue_namesTheOption() {
    CliRun r = CliRun.of("demo", "--epochs", "many");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--epochs") && r.err().contains("many"), r.err());
  }

  @Test
  void missingCampaignFile_saysWhichFile() {
    CliRun r = CliRun.of("campaign", "plan", dir.resolve("nope.yaml").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("error: campaign file") && r.err().contains("nope.yaml") && r.err().contains("does not exist"), r.err());
  }

  @Test
  void unknownFieldInCampaignFile_listsTheKnownOnes() throws Exception {
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, "name: x\nshots: [1]\nseedz: [1]\n");
    CliRun r = CliRun.of("campaign", "run", f.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("unknown field 'seedz'") && r.err().contains("seeds"), r.err());
  }

  @Test
  void missingDatasetFolder_namesTheDatasetAndFolder() throws Exception {
    DemoAssets.Assets a = DemoAssets.ensure(dir.resolve("assets"));
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, "name: x\nmodel: {name: tiny, weights: " + a.weights() + "}\n"
        + "datasets: [{name: EuroSAT, root: " + dir.resolve("no-such-data") + "}]\n"
        + "methods: [{name: coop}]\nshots: [1]\nseeds: [1]\n");
    CliRun r = CliRun.of("campaign", "run", f.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("EuroSAT") && r.err().contains("no-such-data"), r.err());
    assertTrue(!r.err().contains("Temporal"), "must fail on the input before connecting: " + r.err());
  }

  @Test
  void unreadableImage_isNamed_beforeAnythingIsSubmitted() throws Exception {
    DemoAssets.Assets a = DemoAssets.ensure(dir.resolve("assets"));
    Path data = dir.resolve("broken");
    SyntheticDataset.Generated g = SyntheticDataset.generate(data, SyntheticSpec.defaults().withPerClass(2, 1, 1));
    Path victim = g.imageRoot().resolve(g.splits().test().get(0).relPath());
    Files.write(victim, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, "name: x\nmodel: {name: tiny, weights: " + a.weights() + "}\n"
        + "datasets: [{name: Synthetic, root: " + data + "}]\nmethods: [{name: coop}]\nshots: [1]\nseeds: [1]\n");
    CliRun r = CliRun.of("campaign", "run", f.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains(victim.getFileName().toString()), r.err());
  }

  @Test
  void unknownMethod_listsTheKnownMethods() throws Exception {
    DemoAssets.Assets a = DemoAssets.ensure(dir.resolve("assets"));
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, "name: x\nmodel: {name: tiny, weights: " + a.weights() + "}\n"
        + "datasets: [{name: Synthetic, root: " + a.datasetRoot() + "}]\nmethods: [{name: cooop}]\n");
    CliRun r = CliRun.of("campaign", "plan", f.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("unknown method 'cooop'") && r.err().contains("coop"), r.err());
  }

  @Test
  void unknownModelPrecision_isRefusedWithTheAcceptedValues() throws Exception {
    DemoAssets.Assets a = DemoAssets.ensure(dir.resolve("assets"));
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, "name: x\nmodel: {name: tiny, weights: " + a.weights() + ", precision: fp8}\n"
        + "datasets: [{name: Synthetic, root: " + a.datasetRoot() + "}]\nmethods: [{name: zsclip}]\n");
    CliRun r = CliRun.of("campaign", "plan", f.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("model.precision") && r.err().contains("fp32, fp16, bf16"), r.err());
  }

  @Test
  void wrongWeightsHash_isRefused() throws Exception {
    DemoAssets.Assets a = DemoAssets.ensure(dir.resolve("assets"));
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, "name: x\nmodel: {name: tiny, weights: " + a.weights() + ", sha256: deadbeef}\n"
        + "datasets: [{name: Synthetic, root: " + a.datasetRoot() + "}]\nmethods: [{name: zsclip}]\n");
    CliRun r = CliRun.of("campaign", "plan", f.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("sha256") && r.err().contains("deadbeef"), r.err());
  }
}
