package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.workers.Settings;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.TrainParams;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code campaign compare ID|FILE...} on a local store: ids resolve through the stored plan, bad ones fail in one line. */
class CompareCommandTest {
  @TempDir Path dir;
  private static final ObjectMapper JSON = new ObjectMapper();

  static CampaignSpec spec(String name, int epochs) {
    return new CampaignSpec(name, "e", List.of(new DatasetRef("EuroSAT", "/d", "f1")), new ModelRef("ViT-B/16", "/w", "sha"),
        List.of(new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(epochs))), List.of(16), List.of(1, 2), "base2novel", 1, 0);
  }

  /** Stores the plan (as the submitter does) and finished results with base {@code base + seed}, novel {@code novel + seed}. */
  static CampaignPlan submitted(LocalObjectStore store, CampaignSpec spec, double base, double novel) throws Exception {
    CampaignPlan plan = CampaignPlan.of(spec);
    store.put(CampaignPlan.fullPlanKey(plan.campaignKey()), JSON.writeValueAsBytes(plan));
    for (CampaignPlan.PlannedRun p : plan.runs()) {
      double b = base + p.config().seed();
      double n = novel + p.config().seed();
      RunResult r = new RunResult(p.runKey(), p.config(), null, Stages.FINISHED, new EvalResult(b, n, EvalResult.harmonicMean(b, n), 9, 9),
          false, null);
      store.put("runs/" + p.runKey() + "/result.json", JSON.writeValueAsBytes(r));
    }
    return plan;
  }

  /** Runs {@code campaign compare-new ARGS} (the new command, beside the one CampaignCommand registers) against the local store. */
  CliRun compare(String... args) {
    return Settings.withEnvironment(Map.of("PROMPTLINE_MINIO_ENDPOINT", "file:" + dir.resolve("store"),
        "PROMPTLINE_MLFLOW_URI", "file:" + dir.resolve("mlflow")), () -> {
          CommandLine cl = Main.newCommandLine();
          cl.getSubcommands().get("campaign").addSubcommand("compare-new", new CompareCommand());
          StringWriter out = new StringWriter();
          StringWriter err = new StringWriter();
          cl.setOut(new PrintWriter(out, true));
          cl.setErr(new PrintWriter(err, true));
          String[] all = new String[args.length + 2];
          all[0] = "campaign";
          all[1] = "compare-new";
          System.arraycopy(args, 0, all, 2, args.length);
          int code = cl.execute(all);
          return new CliRun(code, out.toString(), err.toString());
        });
  }

  @Test
  void twoCampaignIds_printTheSideBySideTable_inEachFormat() throws Exception {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    CampaignPlan a = submitted(store, spec("baseline", 10), 80, 60); // seeds: 81/61, 82/62 → 81.5 ± 0.71, 61.5 ± 0.71
    CampaignPlan b = submitted(store, spec("longer", 20), 84, 70); // 85.5, 71.5 → Δ base +4, Δ novel +10
    CliRun csv = compare("campaign-" + a.campaignKey(), "campaign-" + b.campaignKey(), "--format", "csv");
    assertEquals(0, csv.code(), csv.err());
    assertTrue(csv.out().contains("dataset,EuroSAT,coop,16,base2novel,baseline,campaign-" + a.campaignKey() + ",2,2,81.5000,0.7071,61.5000,0.7071,"),
        csv.out());
    assertTrue(csv.out().contains(",longer,campaign-" + b.campaignKey() + ",2,2,85.5000,0.7071,71.5000,0.7071,"), csv.out());
    assertTrue(csv.out().contains(",4.0000,10.0000,"), "differences longer − baseline: " + csv.out());

    CliRun text = compare("campaign-" + a.campaignKey(), "campaign-" + b.campaignKey(), "--store-only");
    assertEquals(0, text.code(), text.err());
    assertTrue(text.out().contains("81.50 ± 0.71") && text.out().contains("+4.00") && text.out().contains("+10.00"), text.out());
    CliRun md = compare("campaign-" + a.campaignKey(), "--format", "markdown");
    assertEquals(0, md.code(), md.err());
    assertTrue(md.out().startsWith("| dataset | method | shots | baseline n |"), md.out());
  }

  @Test
  void unknownOrMalformedIds_andMisusedOptions_failInOneLine() throws Exception {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    CampaignPlan a = submitted(store, spec("baseline", 10), 80, 60);
    CliRun unknown = compare("campaign-" + a.campaignKey(), "campaign-0123456789abcdef");
    assertEquals(2, unknown.code());
    assertEquals(1, unknown.err().lines().count(), unknown.err());
    assertTrue(unknown.err().startsWith("error: no campaign campaign-0123456789abcdef: ") && unknown.err().contains("campaigns/0123456789abcdef/plan.json"),
        unknown.err());
    assertEquals("", unknown.out(), "nothing printed for the known one either");

    CliRun malformed = compare("campaign-XYZ");
    assertEquals(2, malformed.code());
    assertTrue(malformed.err().contains("'campaign-XYZ' is not a campaign id"), malformed.err());
    CliRun neither = compare(dir.resolve("nope.yaml").toString());
    assertEquals(2, neither.code());
    assertTrue(neither.err().contains("is neither a campaign id"), neither.err());
    CliRun twoPublished = compare("campaign-" + a.campaignKey(), "campaign-" + a.campaignKey(), "--published", "x.csv");
    assertEquals(2, twoPublished.code());
    assertTrue(twoPublished.err().contains("--published compares one campaign"), twoPublished.err());
    CliRun format = compare("campaign-" + a.campaignKey(), "--format", "html");
    assertEquals(2, format.code());
    assertTrue(format.err().contains("--format html: unknown format"), format.err());
  }

  @Test
  void aCampaignFile_isPlannedHere_andAnExistingFileNamedLikeAnIdIsAFile() throws Exception {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    CampaignSpec spec = spec("from-file", 10);
    Path file = Files.writeString(dir.resolve("c.yaml"), "name: from-file\n");
    CompareCommand.Resolved r = CompareCommand.resolve(file.toString(), store, p -> spec);
    assertEquals(CampaignPlan.of(spec), r.plan());
    assertEquals(file, r.file());
    Path named = Files.writeString(dir.resolve("campaign-abcdef12"), "name: x\n");
    assertEquals(CampaignPlan.of(spec), CompareCommand.resolve(named.toString(), store, p -> spec).plan());
    assertThrows(IllegalArgumentException.class, () -> CompareCommand.resolve("campaign-abcdef12", store, p -> spec),
        "relative to the working directory that file does not exist: an id, unknown");
  }
}
