package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.Comparison.Kind;
import ai.promptline.activities.Comparison.Line;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.ml.methods.Methods;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.TrainParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The comparison with made-up run results against the real published data of
 * {@code campaigns/published/}: per-dataset mean ± std and differences, both 11-dataset averages,
 * missing runs and partial campaigns; and the published files themselves (parse, registry names,
 * HM consistency, per-dataset rows reproducing the averages).
 */
class ComparisonTest {
  static final Path PUBLISHED = Path.of("..", "campaigns", "published");
  static final ModelRef MODEL = new ModelRef("ViT-B/16", "/m", "abc", "fp32");

  static RunResult run(String dataset, String method, int shots, int seed, String protocol, Double base, Double novel) {
    RunConfig c = new RunConfig(new DatasetRef(dataset, "/data/" + dataset, "fp"), MODEL, method, shots, seed, protocol,
        TrainParams.coopDefaults(10));
    if (base == null) return new RunResult("k" + seed, c, null, "MISSING", null, false, null);
    EvalResult e = new EvalResult(base, novel == null ? 0 : novel, novel == null ? 0 : EvalResult.harmonicMean(base, novel), 100, 100);
    return new RunResult(dataset + method + seed, c, "id", Stages.FINISHED, e, false, null);
  }

  /** Three seeds at published ± 1 (so the seed mean is the published number and the std 1). */
  static List<RunResult> atPublished(String method, List<String> datasets) {
    List<Published> pub = Published.read(PUBLISHED);
    List<RunResult> out = new ArrayList<>();
    for (String d : datasets) {
      Published p = pub.stream().filter(x -> x.table().equals("b2n-vitb16") && x.method().equals(method) && x.dataset().equals(d))
          .findFirst().orElseThrow();
      for (int s = 1; s <= 3; s++) out.add(run(d, method, 16, s, "base2novel", p.base() + (s - 2), p.novel() - (s - 2)));
    }
    return out;
  }

  static Line line(Comparison c, Kind kind, String dataset, String table) {
    return c.lines().stream().filter(l -> l.kind() == kind && l.dataset().equals(dataset) && l.table().equals(table)).findFirst().orElseThrow();
  }

  @Test
  void perDatasetMeanStdAndDifferences() {
    List<RunResult> runs = List.of(run("eurosat", "coop", 16, 1, "base2novel", 90.0, 50.0), run("eurosat", "coop", 16, 2, "base2novel", 92.0, 54.0),
        run("eurosat", "coop", 16, 3, "base2novel", 94.0, 58.0));
    Comparison c = Comparison.of(runs, Published.read(PUBLISHED));
    Line l = line(c, Kind.DATASET, "EuroSAT", "b2n-vitb16");
    assertEquals("coop", l.method());
    assertEquals(92.0, l.ours().base(), 1e-12);
    assertEquals(2.0, l.oursStd().base(), 1e-12);
    assertEquals(54.0, l.ours().novel(), 1e-12);
    assertEquals(EvalResult.harmonicMean(92, 54), l.ours().hm(), 1e-12, "per-dataset HM = HM of the seed means");
    assertEquals(92.0 - 92.19, l.diff().base(), 1e-9);
    assertEquals(54.0 - 54.74, l.diff().novel(), 1e-9);
    assertEquals(EvalResult.harmonicMean(92, 54) - 68.69, l.diff().hm(), 1e-9);
    assertTrue(c.markdown().contains("| EuroSAT | coop | 16 | 3 | 92.00 ± 2.00 | 54.00 ± 4.00 |"), c.markdown());
    // one dataset of 11: the averages exist but are not compared with the 11-dataset average
    Line avg = line(c, Kind.AVERAGE_HM_OF_MEANS, "Average", "b2n-vitb16");
    assertEquals(1, avg.datasets());
    assertFalse(avg.comparable());
    assertNull(avg.diff().hm());
    assertTrue(avg.note().contains("1 of the 11 datasets"), avg.note());
    List<Metric> m = c.metrics(0);
    assertTrue(m.stream().anyMatch(x -> x.key().equals("compare/b2n-vitb16/EuroSAT/coop/16shot/hm_diff")), m.toString());
    assertTrue(m.stream().noneMatch(x -> x.key().contains("average")), "a non-comparable average logs no metrics");
  }

  @Test
  void elevenDatasetAveragesBothWays() {
    for (String method : List.of("zsclip", "coop", "cocoop", "maple")) {
      Comparison c = Comparison.of(atPublished(method, Comparison.BENCHMARK_11), Published.read(PUBLISHED));
      Line hmOfMeans = line(c, Kind.AVERAGE_HM_OF_MEANS, "Average", "b2n-vitb16");
      Line meanOfHms = line(c, Kind.AVERAGE_MEAN_OF_HMS, "Average", "b2n-vitb16");
      assertTrue(hmOfMeans.comparable() && meanOfHms.comparable(), method);
      assertEquals("verified", hmOfMeans.verification());
      assertEquals("derived from recalled rows", meanOfHms.verification());
      assertEquals(11, hmOfMeans.datasets());
      // the per-dataset numbers average to the README's (2-decimal rounding)
      assertEquals(0, hmOfMeans.diff().base(), 0.006, method);
      assertEquals(0, hmOfMeans.diff().novel(), 0.006, method);
      assertEquals(0, hmOfMeans.diff().hm(), 0.01, method);
      assertEquals(0, meanOfHms.diff().hm(), 0.006, method);
      // the two conventions differ (HM of means ≥ mean of HMs), and the table says which is which
      assertTrue(hmOfMeans.ours().hm() > meanOfHms.ours().hm() + 0.05, method);
      assertTrue(c.markdown().contains("**Average** (HM of mean base/novel; 11 datasets)"));
      assertTrue(c.markdown().contains("**Average** (mean of per-dataset HMs; 11 datasets)"));
    }
    // MaPLe 16 shots has two published averages: the README's and the MRPO seed's re-run
    Comparison c = Comparison.of(atPublished("maple", Comparison.BENCHMARK_11), Published.read(PUBLISHED));
    Line rerun = line(c, Kind.AVERAGE_HM_OF_MEANS, "Average", "mrpo-seed000");
    assertEquals(82.28 - 81.98, rerun.diff().base(), 0.006);
    Line noRows = line(c, Kind.AVERAGE_MEAN_OF_HMS, "Average", "");
    assertFalse(noRows.comparable(), "the seed table has no per-dataset rows to derive a mean of HMs from");
  }

  @Test
  void missingRunsAreMissingNotZeros() {
    List<RunResult> runs = new ArrayList<>(atPublished("cocoop", Comparison.BENCHMARK_11));
    runs.removeIf(r -> r.config().dataset().name().equals("DescribableTextures"));
    for (int s = 1; s <= 3; s++) runs.add(run("dtd", "cocoop", 16, s, "base2novel", null, null));
    runs.removeIf(r -> r.config().dataset().name().equals("UCF101") && r.config().seed() == 3);
    runs.add(run("UCF101", "cocoop", 16, 3, "base2novel", null, null));
    Comparison c = Comparison.of(runs, Published.read(PUBLISHED));
    Line dtd = line(c, Kind.DATASET, "DescribableTextures", "b2n-vitb16");
    assertNull(dtd.ours().base());
    assertNull(dtd.diff().hm());
    assertEquals(0, dtd.seeds());
    Line ucf = line(c, Kind.DATASET, "UCF101", "b2n-vitb16");
    assertEquals(2, ucf.seeds());
    assertEquals(3, ucf.expectedSeeds());
    Line avg = line(c, Kind.AVERAGE_HM_OF_MEANS, "Average", "b2n-vitb16");
    assertNull(avg.ours().hm(), "an average with a missing dataset is missing");
    assertFalse(avg.comparable());
    assertTrue(avg.note().contains("DescribableTextures"), avg.note());
    String md = c.markdown();
    assertTrue(md.contains("| DescribableTextures | cocoop | 16 | 0/3 | missing | missing | missing |"), md);
    assertTrue(md.contains("| UCF101 | cocoop | 16 | 2/3 |"), md);
    assertFalse(md.contains("NaN"), md);
    String csv = c.csv();
    assertTrue(csv.lines().anyMatch(l -> l.startsWith("dataset,DescribableTextures,\"cocoop\",16,base2novel,0,0,3,,,,,,,,,b2n-vitb16")), csv);
  }

  @Test
  void allClassAccuracyAndUnpublishedConfigurations() {
    List<RunResult> runs = List.of(run("flowers102", "zsclip", 4, 1, "all", 65.0, null), run("flowers102", "zsclip", 4, 2, "all", 67.0, null),
        run("Scenes", "coop", 4, 1, "all", 50.0, null));
    Comparison c = Comparison.of(runs, Published.read(PUBLISHED));
    Line f = line(c, Kind.DATASET, "OxfordFlowers", "instance-seed002");
    assertEquals(66.0, f.ours().accuracy(), 1e-12);
    assertEquals(66.0 - 66.14, f.diff().accuracy(), 1e-9);
    RunConfig ens = new RunConfig(new DatasetRef("EuroSAT", "/d", "fp"), MODEL, "zsclip", 16, 1, "base2novel", TrainParams.coopDefaults(0),
        List.of(), Map.of("templates", "ensemble"));
    Line withOptions = Comparison.of(List.of(new RunResult("e", ens, "id", Stages.FINISHED, new EvalResult(60, 70, 64.6, 1, 1), false, null)),
        Published.read(PUBLISHED)).lines().get(0);
    assertEquals("zsclip {templates=ensemble}", withOptions.methodLabel());
    assertTrue(withOptions.note().contains("ours with non-default options"), withOptions.note());
    Line scenes = line(c, Kind.DATASET, "Scenes", "");
    assertFalse(scenes.comparable());
    assertEquals("no published number", scenes.note());
    assertTrue(c.markdown().contains("### All classes"), c.markdown());
    assertTrue(c.lines().stream().noneMatch(l -> l.kind() != Kind.DATASET), "no base-to-novel averages for all-class runs");
  }

  @Test
  void publishedFilesParseAndAreConsistent() {
    List<Published> pub = Published.read(PUBLISHED);
    assertEquals(48 + 10 + 20, pub.size());
    // platform registry names; linear-probe and instance are registered by their own issues, lfa is reference-only
    Set<String> allowed = new java.util.HashSet<>(Methods.names());
    allowed.addAll(Set.of("linear-probe", "instance", "lfa"));
    for (Published p : pub) {
      assertTrue(allowed.contains(p.method()), p.method());
      assertTrue(p.dataset().equals(Published.AVERAGE) || Comparison.BENCHMARK_11.contains(p.dataset()), p.dataset());
      // the seed document's HMs come from unrounded base/novel: up to 0.0073 off the HM of the rounded ones
      if (p.hm() != null)
        assertEquals(EvalResult.harmonicMean(p.base(), p.novel()), p.hm(), p.table().equals("b2n-vitb16") ? 0.006 : 0.008,
            p.table() + " " + p.method() + " " + p.dataset());
    }
    for (String m : List.of("zsclip", "coop", "cocoop", "maple")) {
      List<Published> rows = pub.stream().filter(p -> p.table().equals("b2n-vitb16") && p.method().equals(m)).toList();
      Published avg = rows.stream().filter(p -> p.dataset().equals(Published.AVERAGE)).findFirst().orElseThrow();
      assertEquals(avg.base(), rows.stream().filter(p -> p != avg).mapToDouble(Published::base).average().orElseThrow(), 0.006, m);
      assertEquals(avg.novel(), rows.stream().filter(p -> p != avg).mapToDouble(Published::novel).average().orElseThrow(), 0.006, m);
    }
  }

  @Test
  void badPublishedFilesAreRefusedWithFileAndLine() {
    String header = String.join(",", Published.HEADER);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Published.parse("table,method\n", "x.csv"));
    assertTrue(e.getMessage().contains("x.csv: the first line must be the header"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Published.parse(header + "\nt,coop,CoOp,EuroSAT,B,16,base2novel,1,2\n", "x.csv"));
    assertTrue(e.getMessage().contains("x.csv:2: 9 fields, expected 14"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Published.parse(header + "\nt,coop,CoOp,EuroSAT,B,16,base2novel,90,,50,,v,s,n\n", "x.csv"));
    assertTrue(e.getMessage().contains("x.csv:2: a base2novel row needs base, novel and hm"), e.getMessage());
  }
}
