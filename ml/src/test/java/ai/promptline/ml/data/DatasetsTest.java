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
    // cut short: the end marker is gone, which the standard check sees from the last bytes
    var cut = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", folder));
    assertTrue(cut.getMessage().contains("truncated image (JPEG without its end marker FF D9): test[0]"), cut.getMessage());
    // the middle lost, both ends kept: only a decode finds it
    byte[] both = java.util.Arrays.copyOf(b, 22);
    both[20] = (byte) 0xFF;
    both[21] = (byte) 0xD9;
    Files.write(f, both);
    Datasets.open("EuroSAT", folder); // signature and end marker look fine: standard mode passes
    var e = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", folder, DatasetValidator.Mode.DEEP));
    assertTrue(e.getMessage().contains("undecodable image: test[0]"), e.getMessage());
  }

  @Test
  void truncatedPng_duplicateEntries_andSharedImages_areReported() throws Exception {
    Path folder = euroSat(2);
    Splits s = SplitFile.read(folder.resolve("split_zhou_EuroSAT.json"));
    Path png = folder.resolve("2750").resolve(s.train().get(0).relPath());
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "png", out);
    byte[] b = out.toByteArray();
    Files.write(png, java.util.Arrays.copyOf(b, b.length - 12)); // the IEND chunk cut off
    List<SplitItem> train = new ArrayList<>(s.train());
    train.add(train.get(1)); // listed twice
    List<SplitItem> test = new ArrayList<>(s.test());
    test.add(train.get(2)); // a training image also in test
    SplitFile.write(folder.resolve("split_zhou_EuroSAT.json"), new Splits(train, s.val(), test));
    var e = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", folder));
    assertEquals(3, e.count(), e.getMessage());
    assertTrue(e.getMessage().contains("truncated image (PNG without its IEND end chunk): train[0]"), e.getMessage());
    assertTrue(e.getMessage().contains("duplicate entry: train[" + (train.size() - 1) + "]"), e.getMessage());
    assertTrue(e.getMessage().contains("entry in two splits: test[" + (test.size() - 1) + "]"), e.getMessage());
  }

  @Test
  void nonUtf8ClassNames_areRefusedNamingTheFileAndLine() throws Exception {
    Path c = tmp.resolve("latin1");
    FakeTrees.writeImage(c.resolve("img/a.png"), 1);
    FakeTrees.writeImage(c.resolve("img/b.png"), 2);
    byte[] head = "split,path,label,classname\ntrain,img/a.png,0,caf".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] rest = "\ntest,img/b.png,0,cafe\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] all = new byte[head.length + 1 + rest.length];
    System.arraycopy(head, 0, all, 0, head.length);
    all[head.length] = (byte) 0xE9; // latin-1 'é'
    System.arraycopy(rest, 0, all, head.length + 1, rest.length);
    Files.write(c.resolve("manifest.csv"), all);
    var e = assertThrows(DatasetException.class, () -> Datasets.open("csv", c));
    assertTrue(e.getMessage().contains("manifest.csv is not valid UTF-8 text (line 2"), e.getMessage());

    Path j = euroSat(1);
    Path split = j.resolve("split_zhou_EuroSAT.json");
    String text = Files.readString(split);
    int at = text.indexOf(", 0, \"") + 6; // the first character of a class name
    byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    bytes[at] = (byte) 0xC1; // never valid in UTF-8
    Files.write(split, bytes);
    var e2 = assertThrows(DatasetException.class, () -> Datasets.open("EuroSAT", j));
    assertTrue(e2.getMessage().contains("is not valid UTF-8 at line"), e2.getMessage());
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
    FakeTrees.writeImage(c.resolve("img/c.png"), 3);
    Files.write(c.resolve("manifest.csv"), List.of("split,path,label,classname", "train,img/a.png,0,\"red, round\"", "train,img/b.png,1,blue", "test,img/c.png,1,blue"));
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
