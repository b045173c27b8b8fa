package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.data.BenchmarkLayouts;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.RunConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every campaign file under {@code campaigns/} plans cleanly against generated miniatures of the real
 * benchmarks laid out at the real paths ({@link BenchmarkLayouts}) and generated checkpoints with the
 * real architectures' shapes at the released file names, and expands to the grid its seed table needs.
 * The miniatures have 16 train images per class, the largest shots of any file (planning refuses
 * shots above a class's images).
 */
class SeedCampaignsPlanTest {
  @TempDir static Path tmp;
  static Path data;
  static Path models;
  static Path campaigns;

  @BeforeAll
  static void layout() throws Exception {
    campaigns = Stream.of(Path.of("campaigns"), Path.of("../campaigns")).filter(Files::isDirectory).findFirst()
        .orElseThrow().toAbsolutePath();
    data = tmp.resolve("data");
    models = tmp.resolve("models");
    for (String name : BenchmarkLayouts.names()) {
      if (!name.startsWith("ImageNet") || name.equals("ImageNet")) BenchmarkLayouts.write(name, data, new BenchmarkLayouts.Counts(16, 1, 1));
    }
    GeneratedCheckpoints.write(models.resolve("ViT-B-16.pt"), ClipConfig.vitB16());
    GeneratedCheckpoints.write(models.resolve("RN50.pt"), ClipConfig.rn50());
  }

  static CampaignSpec plan(String file) {
    Map<String, String> vars = Map.of("PROMPTLINE_DATA", data.toString(), "PROMPTLINE_MODELS", models.toString());
    Path f = campaigns.resolve(file);
    return CampaignFile.read(f).plan(f.getParent(), vars::get);
  }

  static Set<String> methods(CampaignSpec s) {
    return s.expand().stream().map(RunConfig::method).collect(Collectors.toCollection(TreeSet::new));
  }

  static final Set<String> ELEVEN = Set.of("ImageNet", "Caltech101", "OxfordPets", "StanfordCars", "OxfordFlowers", "Food101",
      "FGVCAircraft", "SUN397", "DescribableTextures", "EuroSAT", "UCF101");

  @Test
  void everyCampaignFileIsCoveredHere() throws Exception {
    try (Stream<Path> s = Files.list(campaigns)) {
      Set<String> files = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml"))
          .collect(Collectors.toCollection(TreeSet::new));
      assertEquals(new TreeSet<>(COVERED), files, "add a plan test for every campaign file");
    }
  }

  static final Set<String> COVERED = Set.of("seed000-mrpo-table1.yaml", "cocoop-base2novel.yaml", "seed002-instance-table.yaml",
      "seed003-prismer-ablation.yaml");

  @Test
  void seed000_mapleAgainstMrpo_11Datasets_5Shots_3Seeds() {
    CampaignSpec s = plan("seed000-mrpo-table1.yaml");
    assertEquals(11 * 2 * 5 * 3, s.expand().size());
    assertEquals(Set.of("maple", "mrpo"), methods(s));
    assertEquals(ELEVEN, s.expand().stream().map(c -> c.dataset().name()).collect(Collectors.toSet()));
    assertTrue(s.expand().stream().allMatch(c -> c.protocol().equals(RunConfig.BASE2NOVEL)));
    assertEquals("ViT-B/16", s.model().name());
  }

  @Test
  void cocoopTable_fourMethods_11Datasets_16Shots() {
    CampaignSpec s = plan("cocoop-base2novel.yaml");
    assertEquals(11 * 4 * 3, s.expand().size());
    assertEquals(Set.of("zsclip", "coop", "cocoop", "maple"), methods(s));
    assertTrue(s.expand().stream().allMatch(c -> c.shots() == 16));
  }

  @Test
  void seed002_zeroShotLinearProbeCoOpInstance_RN50_4Shots_allClasses() {
    CampaignSpec s = plan("seed002-instance-table.yaml");
    assertEquals(4 * 4 * 3, s.expand().size());
    assertEquals(Set.of("zsclip", "linear-probe", "coop", "instance"), methods(s));
    assertEquals(Set.of("OxfordFlowers", "Caltech101", "OxfordPets", "FGVCAircraft"),
        s.expand().stream().map(c -> c.dataset().name()).collect(Collectors.toSet()));
    assertTrue(s.expand().stream().allMatch(c -> c.shots() == 4 && c.protocol().equals(RunConfig.ALL)));
    RunConfig coop = s.expand().stream().filter(c -> c.method().equals("coop")).findFirst().orElseThrow();
    assertEquals(16, coop.train().nCtx(), "CoOp's few-shot curves: 16 random context tokens");
    assertEquals("", coop.train().ctxInit());
    assertEquals(100, coop.train().epochs());
    assertEquals("RN50", s.model().name());
  }

  @Test
  void seed003_adaptorAndResamplerAblation_withAFrozenRn50Expert() {
    CampaignSpec s = plan("seed003-prismer-ablation.yaml");
    assertEquals(3 * 7 * 3 * 3, s.expand().size());
    List<RunConfig> prismer = s.expand().stream().filter(c -> c.method().equals("prismer") && c.seed() == 1 && c.shots() == 4
        && c.dataset().name().equals("ImageNet")).toList();
    assertEquals(5, prismer.size(), "five prismer variants");
    assertEquals(5, prismer.stream().map(ai.promptline.workflows.model.ContentKeys::runKey).distinct().count(), "distinct run keys");
    assertEquals(3, prismer.stream().filter(c -> !c.experts().isEmpty()).count(), "three read the expert");
    for (RunConfig c : prismer) {
      for (var e : c.experts()) {
        assertEquals("RN50", e.name());
        assertEquals(models.resolve("RN50.pt").toString(), e.weights());
        assertEquals(64, e.sha256().length(), "the planner records the expert's SHA-256");
      }
    }
  }
}
