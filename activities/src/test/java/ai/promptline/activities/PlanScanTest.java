package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanScanTest {
  @TempDir Path dir;

  /** 10 datasets × 4 methods × 5 shot counts × 50 seeds = 10,000 runs. */
  static CampaignPlan tenThousand() {
    List<DatasetRef> datasets = IntStream.range(0, 10).mapToObj(i -> new DatasetRef("D" + i, "/d", "fp" + i)).toList();
    List<CampaignSpec.MethodSpec> methods = List.of("coop", "cocoop", "maple", "vpt").stream()
        .map(m -> new CampaignSpec.MethodSpec(m, TrainParams.coopDefaults(10))).toList();
    return CampaignPlan.of(new CampaignSpec("big", "e", datasets, new ModelRef("ViT-B/16", "/w", "sha"), methods, List.of(1, 2, 4, 8, 16),
        IntStream.rangeClosed(1, 50).boxed().toList(), "base2novel", 8, 0));
  }

  static void finish(LocalObjectStore store, CampaignPlan.PlannedRun p, Map<String, Double> cost) {
    RunResult r = new RunResult(p.runKey(), p.config(), "m", Stages.FINISHED, new EvalResult(80, 60, 68.6, 10, 10), false, null, cost, "cpu()");
    store.put(TrackingActivitiesImpl.resultKey(p.runKey()), TrackingActivitiesImpl.write(r));
  }

  /**
   * Finished: every coop run (2,500; wall 10 + shots s), cocoop on D0 seeds 1–10 (50; 100 s) and
   * cocoop on D1 seeds 1–3 written before cost existed (15; no cost). Expected by hand:
   * <ul>
   *   <li>to run: 10,000 − 2,565 = 7,435
   *   <li>by similar: cocoop D0 seeds 11–50, 5 shots = 200 runs × 100 s
   *   <li>by method: the other cocoop runs, 2,500 − 250 − 15 = 2,235 × 100 s (cocoop's median)
   *   <li>by the overall median: maple and vpt, 5,000 runs. Samples read: 8 per group, coop 50 groups
   *       (80 each of 11, 12, 14, 18, 26 s) and cocoop D0 5 groups (40 × 100 s) = 440; the median
   *       (items 220 and 221 in order) is 14 s
   *   <li>estimate: 200 × 100 + 2,235 × 100 + 5,000 × 14 = 313,500 s
   * </ul>
   */
  @Test
  void tenThousandPlannedRuns_finishedByRunKey_andTheEstimateFromSimilarRuns() {
    long t0 = System.nanoTime();
    CampaignPlan plan = tenThousand();
    assertEquals(10_000, plan.runs().size());
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    int written = 0;
    for (CampaignPlan.PlannedRun p : plan.runs()) {
      RunConfig c = p.config();
      if (c.method().equals("coop")) finish(store, p, Map.of("wall_s", 10.0 + c.shots()));
      else if (c.method().equals("cocoop") && c.dataset().name().equals("D0") && c.seed() <= 10) finish(store, p, Map.of("wall_s", 100.0));
      else if (c.method().equals("cocoop") && c.dataset().name().equals("D1") && c.seed() <= 3) finish(store, p, Map.of());
      else continue;
      written++;
    }
    assertEquals(2_565, written);
    long t1 = System.nanoTime();

    PlanScan scan = PlanScan.scan(plan.runs(), store, 16);
    long t2 = System.nanoTime();
    System.out.printf("plan of 10,000 runs: %.2f s to generate and write 2,565 results; scan %.2f s (%d ms inside)%n", (t1 - t0) / 1e9,
        (t2 - t1) / 1e9, scan.millis());

    assertEquals(10_000, scan.total());
    assertEquals(2_565, scan.finished());
    assertEquals(7_435, scan.toRun());
    assertEquals(200, scan.bySimilar());
    assertEquals(2_235, scan.byMethod());
    assertEquals(5_000, scan.byMedian());
    assertEquals(0, scan.withoutEstimate());
    assertEquals(440, scan.samples());
    assertEquals(313_500.0, scan.estimatedSeconds(), 1e-6);
    CampaignPlan.PlannedRun firstCoop = plan.runs().stream().filter(p -> p.config().method().equals("coop")).findFirst().orElseThrow();
    assertTrue(scan.isFinished(firstCoop.runKey()));
    String summary = scan.summary();
    System.out.println(summary);
    assertTrue(summary.startsWith("10,000 runs planned: 2,565 already finished (found by run key in "), summary);
    assertTrue(summary.contains("7,435 to run. Estimated compute for those: 87h 05m"), summary); // 313,500 s
    assertTrue(summary.contains("for 200; no similar run for 7,235: 2,235 from the same method, 5,000 from the median of all 440"), summary);
  }

  @Test
  void withoutAnyRecordedCost_noEstimate_andNothingToRun() {
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    CampaignPlan plan = CampaignPlan.of(new CampaignSpec("s", "e", List.of(new DatasetRef("D", "/d", "f")), new ModelRef("m", "/w", "sha"),
        List.of(new CampaignSpec.MethodSpec("coop", TrainParams.coopDefaults(1))), List.of(1), List.of(1, 2, 3), "base2novel", 1, 0));
    finish(store, plan.runs().get(0), Map.of()); // finished before cost existed
    PlanScan scan = PlanScan.scan(plan.runs(), store, 4);
    assertEquals(1, scan.finished());
    assertEquals(2, scan.withoutEstimate());
    assertTrue(scan.summary().contains("No compute estimate: no finished run has a recorded cost yet."), scan.summary());
    for (CampaignPlan.PlannedRun p : plan.runs().subList(1, 3)) finish(store, p, Map.of("wall_s", 5.0));
    assertTrue(PlanScan.scan(plan.runs(), store, 4).summary().contains("Nothing to compute: every run is reused."));
  }

  @Test
  void parallel_keepsTheOrder_andRethrowsTheFirstFailure() {
    List<Integer> in = IntStream.range(0, 1000).boxed().toList();
    assertEquals(in.stream().map(i -> i * 2).toList(), PlanScan.parallel(in, i -> i * 2, 7));
    List<String> nulls = new ArrayList<>(PlanScan.parallel(List.of(1, 2), i -> i == 1 ? null : "x", 2));
    assertEquals(java.util.Arrays.asList(null, "x"), nulls);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> PlanScan.parallel(in, i -> {
      if (i == 500) throw new IllegalStateException("store down at " + i);
      return i;
    }, 4));
    assertEquals("store down at 500", e.getMessage());
  }
}
