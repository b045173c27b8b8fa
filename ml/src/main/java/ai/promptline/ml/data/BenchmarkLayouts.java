package ai.promptline.ml.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Miniature copies of the real benchmarks, laid out exactly where and how the readers expect the
 * real ones (CoOp's {@code $DATA} layout, methods.md §1.1): the same folder, image folder and split
 * source (split_zhou JSON, ImageNet's classnames.txt and wnid folders, FGVC Aircraft's variant
 * lists), the benchmark's real class count, and a few small generated images per class.
 *
 * <p>What they are for: planning a campaign written for the real data (every file under
 * {@code campaigns/}) without the real data, so a campaign file is proven to plan before anyone
 * downloads 100 GB of images, and tests of the readers at the real paths. Class names are made up
 * ({@code "<dataset> class 7"}); the images are tiny solid-colour JPEGs. Nothing here is a
 * benchmark result.
 */
public final class BenchmarkLayouts {
  /** Images written per class and split. */
  public record Counts(int train, int val, int test) {
    public Counts {
      if (train < 1 || val < 0 || test < 1) throw new IllegalArgumentException("need >= 1 train and test image per class, got " + this);
    }
  }

  private BenchmarkLayouts() {}

  /** The registered datasets that have a real layout (the 11 benchmarks and the ImageNet variants). */
  public static List<String> names() {
    List<String> out = new ArrayList<>();
    for (String n : Datasets.names()) {
      Datasets.Kind k = Datasets.spec(n).kind();
      if (k != Datasets.Kind.IMAGEFOLDER && k != Datasets.Kind.CSV && k != Datasets.Kind.SYNTHETIC) out.add(n);
    }
    return out;
  }

  /**
   * Writes the miniature of {@code dataset} under {@code dataRoot/<its folder>} (the {@code $DATA}
   * layout: {@code Datasets.open(dataset, dataRoot)} then opens it) and returns that folder.
   *
   * @throws IllegalArgumentException for a generic dataset kind (imagefolder, csv, synthetic), which
   *     has no fixed layout
   */
  public static Path write(String dataset, Path dataRoot, Counts counts) {
    Datasets.Spec spec = Datasets.spec(dataset);
    Path folder = dataRoot.resolve(spec.folder());
    try {
      Files.createDirectories(folder);
      Path images = spec.imageDir().isEmpty() ? folder : folder.resolve(spec.imageDir());
      switch (spec.kind()) {
        case SPLIT_JSON -> splitJson(spec, folder, images, counts);
        case IMAGENET -> imagenet(spec, folder, images, counts);
        case IMAGENET_V2 -> imagenetV2(spec, folder, images, counts);
        case IMAGENET_WNID_FOLDERS -> wnidFolders(spec, folder, images, counts);
        case AIRCRAFT -> aircraft(spec, folder, images, counts);
        default -> throw new IllegalArgumentException("dataset '" + spec.name() + "' (" + spec.kind()
            + ") has no fixed layout to imitate; use `data synth` for generated benchmarks");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the " + spec.name() + " layout under " + folder + ": " + e.getMessage(), e);
    }
    return folder;
  }

  private static String className(Datasets.Spec spec, int c) {
    return spec.name().toLowerCase(Locale.ROOT) + " class " + c;
  }

  private static void splitJson(Datasets.Spec spec, Path folder, Path images, Counts n) throws IOException {
    List<List<SplitItem>> lists = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    int[] per = {n.train(), n.val(), n.test()};
    for (int c = 0; c < spec.classes(); c++) {
      String name = className(spec, c);
      String dir = name.replace(' ', '_');
      byte[] jpeg = jpeg(c);
      int k = 0;
      for (int s = 0; s < 3; s++) {
        for (int i = 0; i < per[s]; i++, k++) {
          String rel = dir + "/image_" + String.format(Locale.ROOT, "%04d", k + 1) + ".jpg";
          put(images.resolve(rel), jpeg);
          lists.get(s).add(new SplitItem(rel, c, name));
        }
      }
    }
    SplitFile.write(folder.resolve("split_zhou_" + spec.name() + ".json"), new Splits(lists.get(0), lists.get(1), lists.get(2)));
  }

  /** Fake WordNet ids in sorted order, so label = index of the sorted wnid as in the real data. */
  private static String wnid(int c) {
    return String.format(Locale.ROOT, "n%08d", 1_000_000 + c);
  }

  private static void classnames(Datasets.Spec spec, Path folder, int classes) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c = 0; c < classes; c++) b.append(wnid(c)).append(' ').append(className(spec, c)).append('\n');
    Files.writeString(folder.resolve("classnames.txt"), b, StandardCharsets.UTF_8);
  }

  private static void imagenet(Datasets.Spec spec, Path folder, Path images, Counts n) throws IOException {
    classnames(spec, folder, spec.classes());
    for (int c = 0; c < spec.classes(); c++) {
      byte[] jpeg = jpeg(c);
      for (int i = 0; i < n.train(); i++) put(images.resolve("train/" + wnid(c) + "/" + wnid(c) + "_" + i + ".JPEG"), jpeg);
      for (int i = 0; i < n.test(); i++)
        put(images.resolve("val/" + wnid(c) + String.format(Locale.ROOT, "/ILSVRC2012_val_%08d.JPEG", c * n.test() + i + 1)), jpeg);
    }
  }

  private static void imagenetV2(Datasets.Spec spec, Path folder, Path images, Counts n) throws IOException {
    classnames(spec, folder, spec.classes());
    for (int c = 0; c < spec.classes(); c++) {
      byte[] jpeg = jpeg(c);
      for (int i = 0; i < n.test(); i++) put(images.resolve(c + "/" + i + ".jpeg"), jpeg);
    }
  }

  /** ImageNet-Sketch (all 1000 classes) and -A/-R (200-class subsets: every fifth wnid here). */
  private static void wnidFolders(Datasets.Spec spec, Path folder, Path images, Counts n) throws IOException {
    classnames(spec, folder, 1000);
    int step = 1000 / spec.classes();
    for (int c = 0; c < 1000; c += step) {
      byte[] jpeg = jpeg(c);
      for (int i = 0; i < n.test(); i++) put(images.resolve(wnid(c) + "/" + i + ".jpg"), jpeg);
    }
  }

  private static void aircraft(Datasets.Spec spec, Path folder, Path images, Counts n) throws IOException {
    StringBuilder variants = new StringBuilder();
    List<StringBuilder> lists = List.of(new StringBuilder(), new StringBuilder(), new StringBuilder());
    int[] per = {n.train(), n.val(), n.test()};
    int id = 1_000_000;
    for (int c = 0; c < spec.classes(); c++) {
      String v = "variant-" + c;
      variants.append(v).append('\n');
      byte[] jpeg = jpeg(c);
      for (int s = 0; s < 3; s++) {
        for (int i = 0; i < per[s]; i++) {
          String name = String.valueOf(id++);
          put(images.resolve(name + ".jpg"), jpeg);
          lists.get(s).append(name).append(' ').append(v).append('\n');
        }
      }
    }
    Files.writeString(folder.resolve("variants.txt"), variants, StandardCharsets.UTF_8);
    String[] names = {"train", "val", "test"};
    for (int s = 0; s < 3; s++) Files.writeString(folder.resolve("images_variant_" + names[s] + ".txt"), lists.get(s), StandardCharsets.UTF_8);
  }

  private static void put(Path file, byte[] bytes) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, bytes);
  }

  /** A 16×16 JPEG of one colour per class. */
  private static byte[] jpeg(int c) throws IOException {
    BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
    int rgb = (c * 53 % 256) << 16 | (c * 97 % 256) << 8 | (c * 29 % 256);
    for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) img.setRGB(x, y, rgb);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (!ImageIO.write(img, "jpeg", out)) throw new IOException("no JPEG writer");
    return out.toByteArray();
  }
}
