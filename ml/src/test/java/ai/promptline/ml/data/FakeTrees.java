package ai.promptline.ml.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** Builds fake dataset trees with tiny real images at the paths a split lists. */
final class FakeTrees {
  private FakeTrees() {}

  /** Keeps the first {@code perClass} items of every class in each split (all classes survive). */
  static Splits reduce(Splits s, int perClass) {
    return new Splits(reduce(s.train(), perClass), reduce(s.val(), perClass), reduce(s.test(), perClass));
  }

  private static List<SplitItem> reduce(List<SplitItem> items, int perClass) {
    Map<Integer, Integer> seen = new LinkedHashMap<>();
    List<SplitItem> out = new ArrayList<>();
    for (SplitItem it : items) {
      if (seen.merge(it.label(), 1, Integer::sum) <= perClass) out.add(it);
    }
    return out;
  }

  /** Writes a small image (format from the extension) for every item. */
  static void writeImages(Path imageRoot, Splits s) {
    for (List<SplitItem> l : List.of(s.train(), s.val(), s.test())) {
      for (SplitItem it : l) writeImage(imageRoot.resolve(it.relPath()), it.label());
    }
  }

  static void writeImage(Path file, int seed) {
    try {
      Files.createDirectories(file.getParent());
      BufferedImage img = new BufferedImage(12, 10, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 10; y++) for (int x = 0; x < 12; x++) img.setRGB(x, y, (seed * 40 + x * 20) << 16 | (y * 25) << 8 | 90);
      String name = file.getFileName().toString().toLowerCase();
      String fmt = name.endsWith(".png") ? "png" : name.endsWith(".bmp") ? "bmp" : "jpeg";
      if (!ImageIO.write(img, fmt, file.toFile())) throw new IOException("no writer for " + fmt);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
