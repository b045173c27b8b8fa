package ai.promptline.ml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitsAndSamplingTest {
  @TempDir Path tmp;

  private static SplitItem it(String p, int l) {
    return new SplitItem(p, l, "c" + l);
  }

  @Test
  void splitFile_roundTrips_andKeepsPathsAsWritten() throws Exception {
    Splits s = new Splits(List.of(it("a/1.jpg", 0), it("b/2.jpg", 1)), List.of(it("a/3.jpg", 0)), List.of());
    Path f = tmp.resolve("split.json");
    SplitFile.write(f, s);
    assertEquals(s, SplitFile.read(f));
    Files.writeString(f, "{\"train\": [[\"/x/y.jpg\", \"2\", \"dog\"]]}");
    Splits r = SplitFile.read(f);
    // an absolute entry is kept as written (no longer silently made relative): opening the dataset
    // refuses it, naming it (DatasetsTest#splitEntriesThatLeaveTheImageRoot_areRefusedNamingTheEntry)
    assertEquals(List.of(new SplitItem("/x/y.jpg", 2, "dog")), r.train());
    assertTrue(r.val().isEmpty() && r.test().isEmpty());
  }

  @Test
  void splitFile_malformedEntry_namesSplitAndIndex() throws Exception {
    Path f = tmp.resolve("bad.json");
    Files.writeString(f, "{\"train\": [[\"a.jpg\", 0, \"x\"], [\"b.jpg\", 1]]}");
    var e = assertThrows(IllegalArgumentException.class, () -> SplitFile.read(f));
    assertTrue(e.getMessage().contains("train[1]"), e.getMessage());
    assertThrows(RuntimeException.class, () -> SplitFile.read(tmp.resolve("missing.json")));
  }

  @Test
  void fewShot_smallClassKeepsAllInOrder_groupsByFirstAppearance() {
    List<SplitItem> items = new ArrayList<>();
    items.add(it("b0", 5));
    for (int i = 0; i < 10; i++) items.add(it("a" + i, 2));
    items.add(it("b1", 5));
    List<SplitItem> out = FewShot.sample(items, 4, new PyRandom(1));
    assertEquals(6, out.size());
    assertEquals(5, out.get(0).label()); // label 5 appeared first
    assertEquals(List.of("b0", "b1"), out.subList(0, 2).stream().map(SplitItem::relPath).toList());
    assertTrue(out.subList(2, 6).stream().allMatch(x -> x.label() == 2));
    assertEquals(items, FewShot.sample(items, 0, new PyRandom(1)));
  }

  @Test
  void baseNovel_splitsSortedLabelsAtCeilHalf_andRelabels() {
    List<SplitItem> train = new ArrayList<>();
    for (int l : new int[] {4, 0, 2, 1, 3}) train.add(new SplitItem("t" + l, l, "n" + l));
    List<SplitItem> test = List.of(new SplitItem("x0", 0, "n0"), new SplitItem("x3", 3, "n3"), new SplitItem("x4", 4, "n4"));
    Splits s = new Splits(train, List.of(), test);
    BaseNovel.Subsampled base = BaseNovel.subsampleWithNames(s, Subsample.BASE);
    assertEquals(List.of("n0", "n1", "n2"), base.classNames());
    assertEquals(List.of(new SplitItem("x0", 0, "n0")), base.splits().test());
    assertEquals(List.of(0, 2, 1), base.splits().train().stream().map(SplitItem::label).toList());
    BaseNovel.Subsampled nov = BaseNovel.subsampleWithNames(s, Subsample.NEW);
    assertEquals(List.of("n3", "n4"), nov.classNames());
    assertEquals(List.of(new SplitItem("x3", 0, "n3"), new SplitItem("x4", 1, "n4")), nov.splits().test());
    assertEquals(s, BaseNovel.subsample(s, Subsample.ALL));
    assertEquals(Subsample.NEW, Subsample.parse("new"));
  }

  @Test
  void baseNovel_onRealEuroSat_is5and5() {
    Splits full = SplitFile.read(TestData.coopSplit("EuroSAT"));
    Splits fs = FewShot.trainVal(full, 16, 1);
    BaseNovel.Subsampled b = BaseNovel.subsampleWithNames(fs, Subsample.BASE);
    BaseNovel.Subsampled n = BaseNovel.subsampleWithNames(fs, Subsample.NEW);
    assertEquals(5, b.classNames().size());
    assertEquals(5, n.classNames().size());
    assertEquals(80, b.splits().train().size());
    assertEquals(full.test().size(), b.splits().test().size() + n.splits().test().size());
  }
}
