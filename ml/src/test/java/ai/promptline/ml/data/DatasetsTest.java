package ai.promptline.ml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Readers and validation on fake trees built from the real CoOp split files. */
class DatasetsTest {
  @TempDir Path tmp;

  /** $DATA/eurosat with a reduced real split (2 per class per split) and images at its paths. */
  private Path euroSat(int perClass) {
    Path folder = tmp.resolve("data/eurosat");
    Splits s = FakeTrees.reduce(SplitFile.read(TestData.coopSplit("EuroSAT")), perClass);
    SplitFile.write(folder.resolve("split_zhou_EuroSAT.json"), s);
    FakeTrees.writeImages(folder.resolve("2750"), s);
    return folder;
  }

  @Test
  void euroSat_fromDataRoot_realSplitPaths() {
    euroSat(2);
    BenchmarkDataset ds = Datasets.open("EuroSAT", tmp.resolve("data"));
    assertEquals("EuroSAT", ds.name());
    assertEquals(10, ds.classNames().size());
    assertEquals("Annual Crop Land", ds.classNames().get(0));
    assertEquals("a centered satellite photo of Annual Crop Land.", ds.prompt(ds.classNames().get(0)));
    assertEquals(20, ds.train().size());
    assertTrue(Files.isRegularFile(ds.train().get(0).image()));
    BenchmarkDataset.Prepared p = ds.prepare(1, 1, Subsample.NEW);
    assertEquals(5, p.classNames().size());
    assertEquals(5, p.train().size());
    assertEquals(ds.classNames().subList(5, 10), p.classNames());
    assertEquals(64, ds.fingerprint().length());
    assertEquals(ds.fingerprint(), Datasets.open("eurosat", tmp.resolve("data/eurosat")).fingerprint());
  }

  /**
   * Split entries may not read outside the image root: {@code ../} escapes, absolute paths and
   * symbolic links out of the root are refused when the dataset is opened (which planning does),
   * each named, even when the file they point to is a valid image.
   */
  @Test
  void splitEntriesThatLeaveTheImageRoot_areRefusedNamingTheEntry() throws Exception {
    Path folder = euroSat(1);
    Path images = folder.resolve("2750");
    Path outside = tmp.resolve("outside/x.jpg");
    FakeTrees.writeImage(outside, 0);
    Files.createSymbolicLink(images.resolve("link.jpg"), outside);
    Splits s = SplitFile.read(folder.resolve("split_zhou_EuroSAT.json"));
    List<SplitItem> train = new ArrayList<>(s.train());
    String name = train.get(0).className();
    train.add(new SplitItem("../../outside/x.jpg", 0, name));
    train.add(new SplitItem(outside.toAbsolutePath().toString(), 0, name));
    train.add(new SplitItem("link.jpg", 0, name));
    SplitFile.write(folder.resolve("split_zhou_EuroSAT.json"), new Splits(train, s.val(), s.test()));
    DatasetException e = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", tmp.resolve("data")));
    String m = e.getMessage();
    assertTrue(m.contains("3 problems") || m.contains("3 problem"), m);
    assertTrue(m.contains("path outside the dataset: train[10] ../../outside/x.jpg"), m);
    assertTrue(m.contains("absolute path: train[11] " + outside.toAbsolutePath()), m);
    assertTrue(m.contains("symbolic link out of the dataset: train[12] link.jpg"), m);
  }

  @Test
  void oxfordPets_fromDatasetFolder() {
    Path folder = tmp.resolve("oxford_pets");
    Splits s = FakeTrees.reduce(SplitFile.read(TestData.coopSplit("OxfordPets")), 1);
    SplitFile.write(folder.resolve("split_zhou_OxfordPets.json"), s);
    FakeTrees.writeImages(folder.resolve("images"), s);
    BenchmarkDataset ds = Datasets.open("OxfordPets", folder);
    assertEquals(37, ds.classNames().size());
    assertEquals("abyssinian", ds.classNames().get(0));
    assertEquals("a photo of a abyssinian, a type of pet.", ds.prompt("abyssinian"));
    assertEquals(19, ds.prepare(16, 1, Subsample.BASE).classNames().size());
  }

  @Test
  void fingerprint_changesWhenAFileChanges() throws Exception {
    Path folder = euroSat(1);
    String a = Datasets.open("EuroSAT", folder).fingerprint();
    SplitItem first = SplitFile.read(folder.resolve("split_zhou_EuroSAT.json")).train().get(0);
    Files.write(folder.resolve("2750").resolve(first.relPath()), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2});
    assertNotEquals(a, Fingerprint.of(SplitFile.read(folder.resolve("split_zhou_EuroSAT.json")), folder.resolve("2750"), false));
  }

  @Test
  void missingRoot_andMissingSplitFile_areClear() {
    var e1 = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", tmp.resolve("nope")));
    assertTrue(e1.getMessage().contains("root folder not found"), e1.getMessage());
    var e2 = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", tmp));
    assertTrue(e2.getMessage().startsWith("dataset EuroSAT: split file not found"), e2.getMessage());
    var e3 = assertThrows(IllegalArgumentException.class, () -> Datasets.open("NoSuchSet", tmp));
    assertTrue(e3.getMessage().contains("known: ImageNet"), e3.getMessage());
  }

  @Test
  void missingAndUnreadableImages_areAllCounted() throws Exception {
    Path folder = euroSat(2);
    Splits s = SplitFile.read(folder.resolve("split_zhou_EuroSAT.json"));
    Path img = folder.resolve("2750");
    Files.delete(img.resolve(s.train().get(0).relPath()));
    Files.delete(img.resolve(s.test().get(3).relPath()));
    Files.writeString(img.resolve(s.val().get(1).relPath()), "not an image");
    Files.write(img.resolve(s.val().get(2).relPath()), new byte[0]);
    var e = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", folder));
    assertEquals(4, e.count(), e.getMessage());
    assertTrue(e.getMessage().contains("missing image: train[0] " + s.train().get(0).relPath()), e.getMessage());
    assertTrue(e.getMessage().contains("not an image"), e.getMessage());
    assertTrue(e.getMessage().contains("empty image file"), e.getMessage());
  }

  @Test
  void deepMode_findsTruncatedImages() throws Exception {
    Path folder = euroSat(1);
    Splits s = SplitFile.read(folder.resolve("split_zhou_EuroSAT.json"));
    Path f = folder.resolve("2750").resolve(s.test().get(0).relPath());
    byte[] b = Files.readAllBytes(f);
    Files.write(f, java.util.Arrays.copyOf(b, 20));
    Datasets.open("EuroSAT", folder); // header looks fine: standard mode passes
    var e = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", folder, DatasetValidator.Mode.DEEP));
    assertTrue(e.getMessage().contains("undecodable image: test[0]"), e.getMessage());
  }

  @Test
  void labelOutOfRange_andInconsistentNames_areReported() {
    Path folder = euroSat(1);
    Splits s = SplitFile.read(folder.resolve("split_zhou_EuroSAT.json"));
    List<SplitItem> train = new ArrayList<>(s.train());
    train.set(1, new SplitItem(train.get(1).relPath(), 10, "Atlantis"));
    List<SplitItem> test = new ArrayList<>(s.test());
    test.set(0, new SplitItem(test.get(0).relPath(), 0, "Annual Crops"));
    SplitFile.write(folder.resolve("split_zhou_EuroSAT.json"), new Splits(train, s.val(), test));
    var e = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", folder));
    assertTrue(e.getMessage().contains("label out of range: train[1]"), e.getMessage());
    assertTrue(e.getMessage().contains("inconsistent class names for label 0"), e.getMessage());
    // label 1's only train item was relabelled, so class 1 has no train images any more
    assertTrue(e.getMessage().contains("class 1 'Forest' has no train images"), e.getMessage());
    assertEquals(3, e.count());
  }

  @Test
  void aircraft_readsVariantFiles() throws Exception {
    Path f = tmp.resolve("fgvc_aircraft");
    Files.createDirectories(f);
    Files.write(f.resolve("variants.txt"), List.of("707-320", "A300B4", "Cessna 172"));
    Files.write(f.resolve("images_variant_train.txt"), List.of("0001 707-320", "0002 A300B4", "0003 Cessna 172"));
    Files.write(f.resolve("images_variant_val.txt"), List.of("0004 A300B4"));
    Files.write(f.resolve("images_variant_test.txt"), List.of("0005 Cessna 172"));
    for (int i = 1; i <= 5; i++) FakeTrees.writeImage(f.resolve("images/000" + i + ".jpg"), i);
    BenchmarkDataset ds = Datasets.open("FGVCAircraft", f);
    assertEquals(List.of("707-320", "A300B4", "Cessna 172"), ds.classNames());
    assertEquals(new SplitItem("0003.jpg", 2, "Cessna 172"), ds.splits().train().get(2));
    Files.write(f.resolve("images_variant_test.txt"), List.of("0005 Boeing 999"));
    var e = assertThrows(DatasetException.class, () -> Datasets.open("FGVCAircraft", f));
    assertTrue(e.getMessage().contains("label out of range: test[0] 0005.jpg"), e.getMessage());
  }

  @Test
  void imagenet_andImagenetA_useSortedWnids() throws Exception {
    Path f = tmp.resolve("imagenet");
    Files.createDirectories(f);
    Files.write(f.resolve("classnames.txt"), List.of("n02 goldfish", "n01 tench", "n03 great white shark"));
    for (String split : List.of("train", "val")) {
      for (String w : List.of("n01", "n02", "n03")) FakeTrees.writeImage(f.resolve("images/" + split + "/" + w + "/a.JPEG"), 1);
    }
    BenchmarkDataset ds = Datasets.open("ImageNet", tmp);
    assertEquals(List.of("tench", "goldfish", "great white shark"), ds.classNames());
    assertEquals(ds.splits().val(), ds.splits().test());
    assertEquals(new SplitItem("train/n02/a.JPEG", 1, "goldfish"), ds.splits().train().get(1));

    Path a = tmp.resolve("imagenet-adversarial");
    Files.createDirectories(a);
    Files.copy(f.resolve("classnames.txt"), a.resolve("classnames.txt"));
    FakeTrees.writeImage(a.resolve("imagenet-a/n03/x.jpg"), 2);
    FakeTrees.writeImage(a.resolve("imagenet-a/n02/y.jpg"), 2);
    Files.writeString(a.resolve("imagenet-a/README.txt"), "ignored");
    BenchmarkDataset ia = Datasets.open("imagenet-a", a);
    assertEquals(List.of("goldfish", "great white shark"), ia.classNames());
    assertTrue(ia.splits().train().isEmpty());
    assertEquals(2, ia.splits().test().size());
  }

  @Test
  void imageFolder_csv_andSynthetic() throws Exception {
    Path f = tmp.resolve("folder");
    FakeTrees.writeImage(f.resolve("train/cat/1.png"), 1);
    FakeTrees.writeImage(f.resolve("train/dog/2.png"), 2);
    FakeTrees.writeImage(f.resolve("test/dog/3.jpg"), 3);
    BenchmarkDataset ds = Datasets.open("imagefolder", f);
    assertEquals(List.of("cat", "dog"), ds.classNames());
    assertEquals(new SplitItem("test/dog/3.jpg", 1, "dog"), ds.splits().test().get(0));

    Path c = tmp.resolve("csvset");
    FakeTrees.writeImage(c.resolve("img/a.png"), 1);
    FakeTrees.writeImage(c.resolve("img/b.png"), 2);
    Files.write(c.resolve("manifest.csv"), List.of("split,path,label,classname", "train,img/a.png,0,\"red, round\"", "train,img/b.png,1,blue", "test,img/b.png,1,blue"));
    BenchmarkDataset cs = Datasets.open("csv", c);
    assertEquals(List.of("red, round", "blue"), cs.classNames());
    Files.write(c.resolve("manifest.csv"), List.of("split,path,label,classname", "train,img/a.png,x,red", "dev,img/b.png,1,blue"));
    var e = assertThrows(DatasetException.class, () -> Datasets.open("csv", c));
    assertEquals(2, e.count(), e.getMessage());

    SyntheticDataset.Generated g = SyntheticDataset.generate(tmp.resolve("syn"), SyntheticSpec.defaults().withPerClass(1, 1, 1).withName("Demo"));
    BenchmarkDataset sd = Datasets.open("synthetic", g.root());
    assertEquals("Demo", sd.name());
    assertEquals(g.classNames(), sd.classNames());
  }

  @Test
  void imagenetV2_usesIntegerFolders_andReportsEmptyClasses() throws Exception {
    Path f = tmp.resolve("imagenetv2");
    Files.createDirectories(f);
    Files.write(f.resolve("classnames.txt"), List.of("n01 tench", "n02 goldfish"));
    FakeTrees.writeImage(f.resolve("imagenetv2-matched-frequency-format-val/1/a.jpeg"), 1);
    var e = assertThrows(DatasetException.class, () -> Datasets.open("ImageNetV2", tmp));
    assertTrue(e.getMessage().contains("class 0 'tench' has no test images"), e.getMessage());
    FakeTrees.writeImage(f.resolve("imagenetv2-matched-frequency-format-val/0/b.jpeg"), 1);
    BenchmarkDataset ds = Datasets.open("imagenet-v2", tmp);
    assertEquals(List.of(new SplitItem("0/b.jpeg", 0, "tench"), new SplitItem("1/a.jpeg", 1, "goldfish")), ds.splits().test());
  }
}
