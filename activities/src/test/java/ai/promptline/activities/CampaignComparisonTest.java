package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.CampaignComparison.Cell;
import ai.promptline.activities.CampaignComparison.Kind;
import ai.promptline.activities.CampaignComparison.Row;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.TrainParams;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two campaigns on a store: "baseline" (EuroSAT 3 seeds; DescribableTextures 2 of 3 seeds) and
 * "longer" (EuroSAT 3 seeds; DescribableTextures none finished). Every expected number is worked
 * out by hand in the comments.
 */
class CampaignComparisonTest {
  @TempDir Path dir;

  static CampaignSpec spec(String name, int epochs) {
    return new CampaignSpec(name, "e", List.of(new DatasetRef("EuroSAT", "/d", "f1"), new DatasetRef("DescribableTextures", "/d", "f2")),
        new ModelRef("ViT-B/16", "/w", "sha"), List.of(new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(epochs))),
        List.of(16), List.of(1, 2, 3), "base2novel", 1, 0);
  }

  /** Writes a finished result for the plan's run of (dataset, seed). */
  static void finish(LocalObjectStore store, CampaignPlan plan, String dataset, int seed, double base, double novel) {
    CampaignPlan.PlannedRun p = plan.runs().stream().filter(r -> r.config().dataset().name().equals(dataset) && r.config().seed() == seed)
        .findFirst().orElseThrow();
    RunResult r = new RunResult(p.runKey(), p.config(), "mlflow-" + seed, Stages.FINISHED,
        new EvalResult(base, novel, EvalResult.harmonicMean(base, novel), 100, 100), false, null, Map.of("wall_s", 10.0), "cpu()");
    store.put(TrackingActivitiesImpl.resultKey(p.runKey()), TrackingActivitiesImpl.write(r));
  }

  CampaignComparison twoCampaigns() {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    CampaignPlan a = CampaignPlan.of(spec("baseline", 10));
    CampaignPlan b = CampaignPlan.of(spec("longer", 20));
    finish(store, a, "EuroSAT", 1, 80, 60);
    finish(store, a, "EuroSAT", 2, 82, 63);
    finish(store, a, "EuroSAT", 3, 84, 66);
    finish(store, a, "DescribableTextures", 1, 70, 50);
    finish(store, a, "DescribableTextures", 2, 74, 54); // seed 3 never finished
    for (int seed = 1; seed <= 3; seed++) finish(store, b, "EuroSAT", seed, 85, 70);
    return CampaignComparison.of(List.of(
        new CampaignComparison.Input("baseline", a.campaignKey(), CampaignComparison.results(a, store, null, null, 4)),
        new CampaignComparison.Input("longer", b.campaignKey(), CampaignComparison.results(b, store, null, null, 4))));
  }

  @Test
  void perDatasetMeansAndStds_overTheFinishedSeeds() {
    CampaignComparison c = twoCampaigns();
    assertEquals(List.of(6, 6), c.campaigns().stream().map(CampaignComparison.Campaign::planned).toList());
    assertEquals(List.of(5, 3), c.campaigns().stream().map(CampaignComparison.Campaign::finished).toList());
    assertEquals(List.of(Kind.DATASET, Kind.DATASET, Kind.AVERAGE_HM_OF_MEANS, Kind.AVERAGE_MEAN_OF_HMS),
        c.rows().stream().map(Row::kind).toList());

    Cell euro = c.rows().get(0).cells().get(0);
    assertEquals(3, euro.n());
    assertEquals(82.0, euro.base(), 1e-12); // (80 + 82 + 84) / 3
    assertEquals(2.0, euro.baseStd(), 1e-12); // sqrt((4 + 0 + 4) / 2)
    assertEquals(63.0, euro.novel(), 1e-12); // (60 + 63 + 66) / 3
    assertEquals(3.0, euro.novelStd(), 1e-12); // sqrt((9 + 0 + 9) / 2)
    assertEquals(2 * 82.0 * 63 / 145, euro.hm(), 1e-12); // HM of the means = 71.2552
    // per-seed HMs 68.5714 (2·80·60/140), 71.2552 (2·82·63/145), 73.92 (2·84·66/150): sample std 2.6743
    assertEquals(2.674291289, euro.hmStd(), 1e-8);

    Cell dtd = c.rows().get(1).cells().get(0);
    assertEquals(2, dtd.n());
    assertEquals(3, dtd.expected());
    assertEquals(72.0, dtd.base(), 1e-12);
    assertEquals(Math.sqrt(8), dtd.baseStd(), 1e-12); // sqrt((4 + 4) / 1)
    assertEquals(52.0, dtd.novel(), 1e-12);
    assertEquals(2 * 72.0 * 52 / 124, dtd.hm(), 1e-12); // 60.3871
    assertEquals("1 of 3 seed(s) missing", dtd.note());

    Cell longerEuro = c.rows().get(0).cells().get(1);
    assertEquals(85.0, longerEuro.base(), 1e-12);
    assertEquals(0.0, longerEuro.baseStd(), 1e-12, "identical seeds");
    Cell longerDtd = c.rows().get(1).cells().get(1);
    assertTrue(longerDtd.isMissing(), "no finished run: missing, not 0");
    assertEquals(0, longerDtd.n());
    assertNull(longerDtd.base());
  }

  @Test
  void averages_inBothConventions_andMissingWhenADatasetIsMissing() {
    CampaignComparison c = twoCampaigns();
    Cell hmOfMeans = c.rows().get(2).cells().get(0);
    assertEquals(77.0, hmOfMeans.base(), 1e-12); // (82 + 72) / 2
    assertEquals(57.5, hmOfMeans.novel(), 1e-12); // (63 + 52) / 2
    assertEquals(2 * 77.0 * 57.5 / 134.5, hmOfMeans.hm(), 1e-12); // 65.8364
    assertEquals(2, hmOfMeans.n());
    Cell meanOfHms = c.rows().get(3).cells().get(0);
    assertEquals((2 * 82.0 * 63 / 145 + 2 * 72.0 * 52 / 124) / 2, meanOfHms.hm(), 1e-12); // 65.8211
    assertNull(meanOfHms.base());
    assertTrue(c.rows().get(2).cells().get(1).isMissing(), "longer has no DescribableTextures result");
    assertEquals("missing: no finished run on DescribableTextures", c.rows().get(2).cells().get(1).note());
    assertTrue(c.rows().get(3).cells().get(1).isMissing());
  }

  @Test
  void differences_areEachCampaignMinusTheFirst_andNullWhereEitherIsMissing() {
    CampaignComparison c = twoCampaigns();
    CampaignComparison.Diff euro = c.rows().get(0).diffs().get(0);
    assertEquals(3.0, euro.base(), 1e-12); // 85 − 82
    assertEquals(7.0, euro.novel(), 1e-12); // 70 − 63
    assertEquals(2 * 85.0 * 70 / 155 - 2 * 82.0 * 63 / 145, euro.hm(), 1e-12); // 76.7742 − 71.2552 = 5.5190
    CampaignComparison.Diff dtd = c.rows().get(1).diffs().get(0);
    assertNull(dtd.base());
    assertNull(dtd.hm());
    assertNull(c.rows().get(2).diffs().get(0).hm());
  }

  @Test
  void oneCampaign_hasNoDifferenceColumns_andDuplicateNamesAreTold() {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    CampaignPlan a = CampaignPlan.of(spec("same", 10));
    finish(store, a, "EuroSAT", 1, 80, 60);
    List<RunResult> runs = CampaignComparison.results(a, store, null, null, 2);
    assertEquals(6, runs.size());
    assertEquals(1, runs.stream().filter(r -> Stages.FINISHED.equals(r.status())).count());
    assertEquals(5, runs.stream().filter(r -> "MISSING".equals(r.status())).count());
    CampaignComparison one = CampaignComparison.of(List.of(new CampaignComparison.Input("same", a.campaignKey(), runs)));
    assertTrue(one.rows().stream().allMatch(r -> r.diffs().isEmpty()));
    assertTrue(!one.text().contains("Δ"), one.text());
    CampaignComparison twice = CampaignComparison.of(List.of(new CampaignComparison.Input("same", a.campaignKey(), runs),
        new CampaignComparison.Input("same", a.campaignKey(), runs)));
    assertEquals(List.of("same", "same #2"), twice.campaigns().stream().map(CampaignComparison.Campaign::label).toList());
    assertThrows(IllegalArgumentException.class, () -> one.format("html"));
  }

  @Test
  void textTable_isAligned() {
    String t = twoCampaigns().text();
    List<String> lines = t.lines().toList();
    int header = lines.get(0).indexOf("baseline base");
    assertTrue(header > 0, t);
    assertTrue(lines.get(1).startsWith("-------"), t);
    // the rows' cells end in the same column as their headers (right-aligned numbers)
    int end = lines.get(0).indexOf("baseline novel") - 2;
    assertEquals("82.00 ± 2.00", lines.get(2).substring(end - "82.00 ± 2.00".length(), end), t);
    assertTrue(t.contains("missing"), t);
  }

  @Test
  void golden_markdownAndCsv() {
    CampaignComparison c = twoCampaigns();
    String md = c.markdown();
    String csv = c.csv();
    String keyA = CampaignPlan.of(spec("baseline", 10)).campaignKey();
    String keyB = CampaignPlan.of(spec("longer", 20)).campaignKey();
    assertEquals(GOLDEN_MD.replace("KEY_A", keyA).replace("KEY_B", keyB), md);
    assertEquals(GOLDEN_CSV.replace("KEY_A", keyA).replace("KEY_B", keyB), csv);
  }

  static final String GOLDEN_MD = """
      | dataset | method | shots | baseline n | baseline base | baseline novel | baseline HM | longer n | longer base | longer novel | longer HM | Δ base (longer − baseline) | Δ novel (longer − baseline) | Δ HM (longer − baseline) | note |
      |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
      | EuroSAT | coop | 16 | 3 | 82.00 ± 2.00 | 63.00 ± 3.00 | 71.26 ± 2.67 | 3 | 85.00 ± 0.00 | 70.00 ± 0.00 | 76.77 ± 0.00 | +3.00 | +7.00 | +5.52 |  |
      | DescribableTextures | coop | 16 | 2/3 | 72.00 ± 2.83 | 52.00 ± 2.83 | 60.39 ± 2.90 | 0/3 | missing | missing | missing | — | — | — | baseline: 1 of 3 seed(s) missing; longer: missing: no finished run |
      | **average (HM of mean base/novel)** | coop | 16 | 2 | 77.00 | 57.50 | 65.84 | 0/2 | missing | missing | missing | — | — | — | longer: missing: no finished run on DescribableTextures |
      | **average (mean of per-dataset HMs)** | coop | 16 | 2 | — | — | 65.82 | 0/2 | missing | missing | missing | — | — | — | longer: missing: no finished run on DescribableTextures |

      baseline = campaign-KEY_A: 5 of 6 runs finished
      longer = campaign-KEY_B: 3 of 6 runs finished
      Accuracy %, mean ± sample std over seeds; n = finished seeds (averages: datasets). Per-dataset HM: the HM of the
      seed-mean base and novel, ± the std of the per-seed HMs. Averages: the HM of the base and novel averaged over the
      datasets (CoOp/CoCoOp's average rows), and the mean of the per-dataset HMs. missing = no finished run, never 0;
      an average with a missing dataset is missing. Δ = each campaign minus baseline.
      """;

  static final String GOLDEN_CSV = """
      kind,dataset,method,shots,protocol,campaign,campaign_id,n,expected,base,base_std,novel,novel_std,hm,hm_std,diff_base,diff_novel,diff_hm,note
      dataset,EuroSAT,coop,16,base2novel,baseline,campaign-KEY_A,3,3,82.0000,2.0000,63.0000,3.0000,71.2552,2.6743,,,,
      dataset,EuroSAT,coop,16,base2novel,longer,campaign-KEY_B,3,3,85.0000,0.0000,70.0000,0.0000,76.7742,0.0000,3.0000,7.0000,5.5190,
      dataset,DescribableTextures,coop,16,base2novel,baseline,campaign-KEY_A,2,3,72.0000,2.8284,52.0000,2.8284,60.3871,2.9021,,,,1 of 3 seed(s) missing
      dataset,DescribableTextures,coop,16,base2novel,longer,campaign-KEY_B,0,3,,,,,,,,,,missing: no finished run
      average_hm_of_means,average of 2 datasets,coop,16,base2novel,baseline,campaign-KEY_A,2,2,77.0000,,57.5000,,65.8364,,,,,
      average_hm_of_means,average of 2 datasets,coop,16,base2novel,longer,campaign-KEY_B,0,2,,,,,,,,,,missing: no finished run on DescribableTextures
      average_mean_of_hms,average of 2 datasets,coop,16,base2novel,baseline,campaign-KEY_A,2,2,,,,,65.8211,,,,,
      average_mean_of_hms,average of 2 datasets,coop,16,base2novel,longer,campaign-KEY_B,0,2,,,,,,,,,,missing: no finished run on DescribableTextures
      """;
}
