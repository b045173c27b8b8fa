package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run limit: where it comes from, that --yes lifts it, and that it is judged before anything is opened. */
class CampaignLimitsTest {
  @TempDir static Path dir;
  static DemoAssets.Assets assets;

  @BeforeAll
  static void assets() {
    assets = DemoAssets.ensure(dir.resolve("assets"));
  }

  static CampaignFile file(List<Integer> shots, List<Integer> seeds, Integer maxRuns, String root) {
    return new CampaignFile("limits", null, new CampaignFile.Model("tiny", assets.weights().toString(), null),
        List.of(new CampaignFile.Dataset("Scenes", root)), List.of(new CampaignFile.Method("zsclip", null)), shots, seeds, null, null, null,
        null, maxRuns);
  }

  @Test
  void limit_fromFlagThenFileThenEnvironmentThenDefault_andYesLiftsIt() {
    String root = assets.datasetRoot().toString();
    CampaignFile three = file(List.of(1), List.of(1, 2, 3), null, root);
    var e = assertThrows(IllegalArgumentException.class, () -> three.plan(dir, Map.of("PROMPTLINE_MAX_RUNS", "2")::get));
    assertTrue(e.getMessage().contains("the grid has 3 runs") && e.getMessage().contains("over the limit of 2 (PROMPTLINE_MAX_RUNS)"),
        e.getMessage());
    assertEquals(3, three.plan(dir, Map.of("PROMPTLINE_MAX_RUNS", "2")::get, new CampaignFile.Limits(null, true)).expand().size());
    assertEquals(3, three.plan(dir, Map.of("PROMPTLINE_MAX_RUNS", "2")::get, new CampaignFile.Limits(3, false)).expand().size());
    CampaignFile capped = file(List.of(1), List.of(1, 2, 3), 10, root);
    assertEquals(3, capped.plan(dir, Map.of("PROMPTLINE_MAX_RUNS", "2")::get).expand().size(), "the file's maxRuns beats the environment");
    var f = assertThrows(IllegalArgumentException.class, () -> capped.plan(dir, k -> null, new CampaignFile.Limits(2, false)));
    assertTrue(f.getMessage().contains("over the limit of 2 (--max-runs)"), f.getMessage());
    assertEquals(CampaignFile.DEFAULT_MAX_RUNS, 5000);
  }

  @Test
  void absurdGrid_isRefusedFromItsCountAlone_beforeAnyDatasetIsOpened() {
    List<Integer> thousand = java.util.stream.IntStream.rangeClosed(1, 1000).boxed().toList();
    CampaignFile huge = file(thousand, thousand, null, dir.resolve("not-even-there").toString());
    long t0 = System.nanoTime();
    var e = assertThrows(IllegalArgumentException.class, () -> huge.plan(dir, k -> null));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(e.getMessage().contains("the grid has 1000000 runs") && e.getMessage().contains("--yes"), e.getMessage());
    assertTrue(ms < 2000, "refused after " + ms + " ms");
  }

  @Test
  void didYouMean_picksTheNearestName_andNothingFarAway() {
    assertEquals("coop", DidYouMean.closest("cooop", List.of("cocoop", "coop", "maple")));
    assertEquals("seeds", DidYouMean.closest("seedz", List.of("shots", "seeds", "name")));
    assertEquals("EuroSAT", DidYouMean.closest("eurosta", List.of("EuroSAT", "ImageNet")));
    assertNull(DidYouMean.closest("banana", List.of("coop", "maple")));
    assertEquals("", DidYouMean.hint("zzzz", List.of("coop")));
  }
}
