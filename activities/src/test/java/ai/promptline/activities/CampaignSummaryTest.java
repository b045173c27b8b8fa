package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.TrainParams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Seed aggregation (mean, sample std, HM as mean of per-seed HMs), failed-run counting, CSV and Markdown. */
class CampaignSummaryTest {
  private static RunConfig config(String dataset, String method, int shots, int seed) {
    return new RunConfig(new DatasetRef(dataset, "/data/" + dataset, "fp-" + dataset),
        new ModelRef("tiny", "random:tinyVit:1", "abc"), method, shots, seed, "base2novel", TrainParams.coopDefaults(2));
  }

  private static RunResult ok(String dataset, String method, int shots, int seed, double base, double novel, boolean reused) {
    EvalResult e = new EvalResult(base, novel, EvalResult.harmonicMean(base, novel), 100, 100);
    return new RunResult("key-" + dataset + method + shots + seed, config(dataset, method, shots, seed), "run" + seed,
        Stages.FINISHED, e, reused, null);
  }

  private static RunResult failed(String dataset, String method, int shots, int seed, String error) {
    return new RunResult("key-" + dataset + method + shots + seed + "f", config(dataset, method, shots, seed), null,
        Stages.FAILED, null, false, error);
  }

  private static List<RunResult> runs() {
    List<RunResult> r = new ArrayList<>();
    r.add(ok("synthetic", "coop", 4, 1, 80, 70, false));
    r.add(ok("synthetic", "coop", 4, 2, 82, 41, true));
    r.add(failed("synthetic", "coop", 4, 4, "loss became NaN, \"diverged\"\nat epoch 3"));
    r.add(ok("synthetic", "coop", 4, 3, 87, 75, false));
    r.add(ok("synthetic", "zsclip", 4, 1, 60, 65, false));
    r.add(failed("eurosat", "coop", 4, 1, "boom"));
    return r;
  }

  @Test
  void rows_meanAndSampleStdPerConfiguration_failedRunsCounted() {
    CampaignSummary s = CampaignSummary.of(runs());
    assertEquals(3, s.rows().size(), "one row per (dataset, method, shots), in first-seen order");
    CampaignSummary.Row coop = s.rows().get(0);
    assertEquals("synthetic/coop/4shot", coop.key());
    assertEquals(3, coop.seeds());
    assertEquals(1, coop.failed());
    assertEquals(83.0, coop.baseMean(), 1e-12);
    assertEquals(Math.sqrt(13), coop.baseStd(), 1e-12, "sample std (n − 1) of 80, 82, 87");
    assertEquals(62.0, coop.novelMean(), 1e-12);
    assertEquals(Math.sqrt(337), coop.novelStd(), 1e-12, "sample std of 70, 41, 75");
    double[] hms = {EvalResult.harmonicMean(80, 70), EvalResult.harmonicMean(82, 41), EvalResult.harmonicMean(87, 75)};
    double hmMean = (hms[0] + hms[1] + hms[2]) / 3;
    assertEquals(hmMean, coop.hmMean(), 1e-12, "mean of per-seed HMs");
    assertTrue(Math.abs(EvalResult.harmonicMean(83, 62) - coop.hmMean()) > 0.5, "not the HM of the means");
    double v = 0;
    for (double h : hms) v += (h - hmMean) * (h - hmMean);
    assertEquals(Math.sqrt(v / 2), coop.hmStd(), 1e-12);

    CampaignSummary.Row zs = s.rows().get(1);
    assertEquals("synthetic/zsclip/4shot", zs.key());
    assertEquals(1, zs.seeds());
    assertEquals(0.0, zs.baseStd(), 0, "a single seed has std 0");
    assertEquals(60.0, zs.baseMean(), 0);

    CampaignSummary.Row euro = s.rows().get(2);
    assertEquals(0, euro.seeds());
    assertEquals(1, euro.failed());
    assertTrue(Double.isNaN(euro.baseMean()));
  }

  @Test
  void statistics_helpers() {
    assertTrue(Double.isNaN(CampaignSummary.mean(new double[0])));
    assertTrue(Double.isNaN(CampaignSummary.std(new double[0])));
    assertEquals(0, CampaignSummary.std(new double[] {5}), 0);
    assertEquals(Math.sqrt(2), CampaignSummary.std(new double[] {1, 3}), 1e-15);
    assertEquals(2.5, CampaignSummary.mean(new double[] {1, 2, 3, 4}), 0);
  }

  @Test
  void metrics_perConfigurationAndRunCounts_skipConfigurationsWithoutFinishedSeeds() {
    Map<String, Double> m = new LinkedHashMap<>();
    for (Metric x : CampaignSummary.of(runs()).metrics(42)) {
      assertEquals(42, x.timestamp());
      assertEquals(0, x.step());
      assertFalse(m.containsKey(x.key()), "duplicate metric " + x.key());
      m.put(x.key(), x.value());
    }
    assertEquals(83.0, m.get("synthetic/coop/4shot/acc_base_mean"), 1e-12);
    assertEquals(Math.sqrt(13), m.get("synthetic/coop/4shot/acc_base_std"), 1e-12);
    assertEquals(62.0, m.get("synthetic/coop/4shot/acc_novel_mean"), 1e-12);
    assertTrue(m.containsKey("synthetic/coop/4shot/hm_mean") && m.containsKey("synthetic/coop/4shot/hm_std"));
    assertEquals(60.0, m.get("synthetic/zsclip/4shot/acc_base_mean"), 0);
    assertFalse(m.keySet().stream().anyMatch(k -> k.startsWith("eurosat/")), "no NaN metrics for all-failed configurations");
    assertEquals(6.0, m.get("runs_total"));
    assertEquals(2.0, m.get("runs_failed"));
    assertEquals(1.0, m.get("runs_reused"));
    assertEquals(6 * 2 + 3, m.size());
  }

  @Test
  void csv_oneLinePerRun_withEmptyAccuraciesAndQuotedErrorForFailures() {
    String csv = CampaignSummary.of(runs()).csv();
    String[] lines = csv.split("\n", -1);
    assertEquals(1 + 6 + 1, lines.length, "header, six runs, trailing newline:\n" + csv);
    assertEquals("", lines[7]);
    assertEquals("dataset,method,shots,seed,status,acc_base,acc_novel,hm,run_key,mlflow_run_id,reused,error", lines[0]);
    assertEquals("synthetic,coop,4,1,FINISHED,80.0000,70.0000," + String.format(java.util.Locale.ROOT, "%.4f",
        EvalResult.harmonicMean(80, 70)) + ",key-syntheticcoop41,run1,false,", lines[1]);
    assertTrue(lines[2].endsWith(",run2,true,"), lines[2]);
    String fail = lines[3];
    assertTrue(fail.startsWith("synthetic,coop,4,4,FAILED,,,,key-syntheticcoop44f,,false,\""), fail);
    assertTrue(fail.endsWith("\""), fail);
    String err = fail.substring(fail.indexOf('"') + 1, fail.length() - 1);
    assertFalse(err.contains("\""), "inner quotes are neutralised: " + err);
    assertTrue(err.contains("diverged") && err.contains("at epoch 3"), err);
    for (int i = 1; i <= 6; i++) {
      String withoutError = lines[i].contains("\"") ? lines[i].substring(0, lines[i].indexOf('"')) : lines[i];
      assertEquals(11, withoutError.chars().filter(c -> c == ',').count(), "12 columns: " + lines[i]);
    }
  }

  @Test
  void markdown_meanPlusMinusStd_andFailedCount() {
    String md = CampaignSummary.of(runs()).markdown();
    String[] lines = md.split("\n");
    assertEquals("| dataset | method | shots | seeds | base | novel | HM |", lines[0]);
    assertEquals("|---|---|---|---|---|---|---|", lines[1]);
    assertEquals(5, lines.length);
    CampaignSummary.Row coop = CampaignSummary.of(runs()).rows().get(0);
    assertEquals(String.format(java.util.Locale.ROOT, "| synthetic | coop | 4 | 3 (1 failed) | 83.00 ± 3.61 | 62.00 ± 18.36 | %.2f ± %.2f |",
        coop.hmMean(), coop.hmStd()), lines[2]);
    assertTrue(lines[3].startsWith("| synthetic | zsclip | 4 | 1 | 60.00 ± 0.00 | 65.00 ± 0.00 |"), lines[3]);
    assertTrue(lines[4].startsWith("| eurosat | coop | 4 | 0 (1 failed) |"), lines[4]);
  }

  private static RunResult xd(int seed, double source, double v2, double sketch) {
    RunConfig c = new RunConfig(new DatasetRef("ImageNet", "/data", "fp"), new ModelRef("tiny", "w", "abc"), "coop", 16, seed,
        "cross-dataset", TrainParams.coopDefaults(2), List.of(new DatasetRef("ImageNetV2", "/data", "f2"),
            new DatasetRef("ImageNetSketch", "/data", "fs")));
    EvalResult e = new EvalResult(source, 0, 0, 100, 0).withTargets(List.of(
        new Stages.TargetResult("ImageNetV2", "f2", v2, 100), new Stages.TargetResult("ImageNetSketch", "fs", sketch, 100)));
    return new RunResult("xd" + seed, c, "run" + seed, Stages.FINISHED, e, false, null);
  }

  private static List<RunResult> crossDatasetRuns() {
    return List.of(xd(1, 70, 60, 40), xd(2, 72, 64, 46),
        new RunResult("xd3", xd(3, 0, 0, 0).config(), null, Stages.FAILED, null, false, "boom"));
  }

  @Test
  void crossDataset_targetColumns_meanAndStdPerTargetAndOfTheAverage() {
    CampaignSummary s = CampaignSummary.of(crossDatasetRuns());
    CampaignSummary.Row row = s.rows().get(0);
    assertEquals(List.of(new CampaignSummary.TargetStat("ImageNetV2", 2, 62, Math.sqrt(8)),
        new CampaignSummary.TargetStat("ImageNetSketch", 2, 43, Math.sqrt(18)),
        new CampaignSummary.TargetStat("avg", 2, 52.5, Math.sqrt(12.5))), row.targets());
    assertEquals(List.of(), CampaignSummary.of(runs()).rows().get(0).targets(), "no target columns without targets");

    Map<String, Double> m = new LinkedHashMap<>();
    for (Metric x : s.metrics(1)) m.put(x.key(), x.value());
    assertEquals(62.0, m.get("ImageNet/coop/16shot/acc_target/ImageNetV2_mean"), 1e-12);
    assertEquals(Math.sqrt(18), m.get("ImageNet/coop/16shot/acc_target/ImageNetSketch_std"), 1e-12);
    assertEquals(52.5, m.get("ImageNet/coop/16shot/acc_target_avg_mean"), 1e-12);
    assertEquals(71.0, m.get("ImageNet/coop/16shot/acc_base_mean"), 1e-12);

    String[] csv = s.csv().split("\n");
    assertEquals("dataset,method,shots,seed,status,acc_base,acc_novel,hm,acc_target/ImageNetV2,acc_target/ImageNetSketch,"
        + "acc_target_avg,run_key,mlflow_run_id,reused,error", csv[0]);
    assertTrue(csv[1].startsWith("ImageNet,coop,16,1,FINISHED,70.0000,0.0000,0.0000,60.0000,40.0000,50.0000,xd1,run1,"), csv[1]);
    assertTrue(csv[3].startsWith("ImageNet,coop,16,3,FAILED,,,,,,,xd3,,false,\""), csv[3]);

    String[] md = s.markdown().split("\n");
    assertEquals("| dataset | method | shots | seeds | base | novel | HM | ImageNetV2 | ImageNetSketch | target avg |", md[0]);
    assertEquals("|---|---|---|---|---|---|---|---|---|---|", md[1]);
    assertTrue(md[2].endsWith("| 62.00 ± 2.83 | 43.00 ± 4.24 | 52.50 ± 3.54 |"), md[2]);
    assertTrue(md[2].startsWith("| ImageNet | coop | 16 | 2 (1 failed) | 71.00 ± 1.41 |"), md[2]);
  }
}
