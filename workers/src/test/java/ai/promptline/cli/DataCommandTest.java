package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataCommandTest {
  @TempDir Path tmp;



  @Test
  void synth_thenVerify_thenFewshot() {
    Path ds = tmp.resolve("syn");
    CliRun s = CliRun.of("data", "synth", "--kind", "shapes", "--out", ds.toString(), "--classes", "4", "--train", "3", "--val", "1", "--test", "2", "--size", "24");
    assertEquals(0, s.code(), s.err());
    CliRun v = CliRun.of("data", "verify", "Synthetic", "--root", ds.toString());
    assertEquals(0, v.code(), v.err());
    assertTrue(v.out().contains("classes:     4"), v.out());
    assertTrue(v.out().contains("fingerprint: "), v.out());
    CliRun f = CliRun.of("data", "fewshot", "--split", ds.resolve("split_promptline_Synthetic.json").toString(), "--shots", "2", "--seed", "1");
    assertEquals(0, f.code(), f.err());
    List<String> lines = f.out().lines().toList();
    assertEquals(8 + 1 + 4, lines.size());
    assertEquals("--", lines.get(8));
  }

  @Test
  void synthScenes_writesTheBenchmarkWithHeldOutNovelNames() {
    Path ds = tmp.resolve("scenes");
    CliRun s = CliRun.of("data", "synth", "--out", ds.toString(), "--train", "2", "--val", "1", "--test", "1");
    assertEquals(0, s.code(), s.err());
    assertTrue(s.out().contains("wrote 24 classes, 48/24/24"), s.out());
    CliRun v = CliRun.of("data", "verify", "Scenes", "--root", ds.toString());
    assertEquals(0, v.code(), v.err());
    assertTrue(v.out().contains("classes:     24"), v.out());
    CliRun bad = CliRun.of("data", "synth", "--out", tmp.resolve("x").toString(), "--classes", "5");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--classes applies to --kind shapes only"), bad.err());
  }

  @Test
  void layout_writesRealBenchmarkLayoutsThatVerify() {
    Path data = tmp.resolve("data");
    CliRun l = CliRun.of("data", "layout", "--out", data.toString(), "--dataset", "EuroSAT", "--dataset", "aircraft");
    assertEquals(0, l.code(), l.err());
    assertTrue(l.out().contains("FGVCAircraft") && l.out().contains(data.resolve("eurosat").toString()), l.out());
    CliRun v = CliRun.of("data", "verify", "FGVCAircraft", "--root", data.toString());
    assertEquals(0, v.code(), v.err());
    assertTrue(v.out().contains("classes:     100"), v.out());
  }

  @Test
  void errors_printOneLineAndExit2() {
    CliRun v = CliRun.of("data", "verify", "EuroSAT", "--root", tmp.resolve("missing").toString());
    assertEquals(2, v.code());
    assertTrue(v.err().startsWith("error: dataset EuroSAT: root folder not found"), v.err());
    CliRun f = CliRun.of("data", "fewshot", "--split", tmp.resolve("nope.json").toString(), "--shots", "1", "--seed", "1");
    assertEquals(2, f.code());
    assertTrue(f.err().contains("split file not found"), f.err());
  }

  @Test
  void fewshot_onRealEuroSatSplit_matchesLibrary() {
    String shared = System.getProperty("promptline.shared", "../shared");
    Path split = Path.of(shared, "data/coop-splits/split_zhou_EuroSAT.json");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(split), "shared splits not present");
    CliRun f = CliRun.of("data", "fewshot", "--split", split.toString(), "--shots", "4", "--seed", "2");
    assertEquals(0, f.code(), f.err());
    var fs = ai.promptline.ml.data.FewShot.trainVal(ai.promptline.ml.data.SplitFile.read(split), 4, 2);
    List<String> expected = new java.util.ArrayList<>();
    fs.train().forEach(it -> expected.add(it.relPath()));
    expected.add("--");
    fs.val().forEach(it -> expected.add(it.relPath()));
    assertEquals(expected, f.out().lines().toList());
  }
}
