package ai.promptline.ml.data;

import ai.promptline.ml.data.image.Images;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a loaded dataset before any training, and reports <em>all</em> problems at once in one
 * {@link DatasetException} (count + first entries): entries that would read outside the image root
 * (absolute paths, {@code ../} escapes, symbolic links out of it), missing or empty image files, files that are
 * not JPEG/PNG/BMP/GIF (deep mode: that do not decode), labels outside {@code [0, classes)}, two
 * class names for one label, names that disagree with the declared class list, classes without
 * training (or, for evaluation-only targets, test) images, and an empty train split.
 */
public final class DatasetValidator {
  /** How thoroughly images are checked. */
  public enum Mode {
    /** Files exist, are non-empty and start with an image signature (reads 12 bytes per file). */
    STANDARD,
    /** STANDARD plus a full decode of every image and byte-level fingerprinting. */
    DEEP
  }

  private static final int KEEP = 100;

  private DatasetValidator() {}

  private static final class Problems {
    final List<String> first = new ArrayList<>();
    int count;

    void add(String p) {
      count++;
      if (first.size() < KEEP) first.add(p);
    }
  }

  /** Validates and returns the class names in label order; throws {@link DatasetException} on any problem. */
  static List<String> validate(Datasets.Spec spec, DatasetReaders.Loaded l, Mode mode) {
    Problems pr = new Problems();
    Splits s = l.splits();
    List<String> declared = l.declaredClassNames();
    int classes = declared != null ? declared.size() : spec.classes();
    // A declared class list (classnames.txt, variants.txt, folders) is authoritative; the nominal
    // class count of the benchmark only bounds labels for datasets whose split file is the sole source.
    if (!l.testOnly() && s.train().isEmpty()) pr.add("train split is empty");
    if (l.testOnly() && s.test().isEmpty()) pr.add("test split is empty");

    Map<Integer, String> names = new TreeMap<>();
    Map<Integer, String> firstSeenAt = new HashMap<>();
    Set<Integer> reportedConflict = new HashSet<>();
    Set<String> checkedFiles = new HashSet<>();
    Path root = l.imageRoot().toAbsolutePath().normalize();
    Path realRoot = realPath(root);
    int maxLabel = -1;
    for (String split : new String[] {"train", "val", "test"}) {
      List<SplitItem> items = s.get(split);
      for (int i = 0; i < items.size(); i++) {
        SplitItem it = items.get(i);
        String where = split + "[" + i + "] " + it.relPath();
        if (it.label() < 0 || (classes > 0 && it.label() >= classes)) {
          pr.add("label out of range: " + where + " has label " + it.label()
              + (classes > 0 ? " (classes: " + classes + ")" : "") + " '" + it.className() + "'");
        } else {
          maxLabel = Math.max(maxLabel, it.label());
          if (declared != null && !declared.get(it.label()).equals(it.className())) {
            pr.add("class name mismatch: " + where + " says '" + it.className() + "' for label " + it.label()
                + ", class list says '" + declared.get(it.label()) + "'");
          }
          String prev = names.putIfAbsent(it.label(), it.className());
          if (prev == null) {
            firstSeenAt.put(it.label(), where);
          } else if (!prev.equals(it.className()) && reportedConflict.add(it.label())) {
            pr.add("inconsistent class names for label " + it.label() + ": '" + prev + "' ("
                + firstSeenAt.get(it.label()) + ") vs '" + it.className() + "' (" + where + ")");
          }
        }
        if (checkedFiles.add(it.relPath())) {
          String escape = escapes(root, realRoot, it.relPath());
          if (escape != null) pr.add(escape + ": " + where + " (entries must name files inside " + l.imageRoot() + ")");
          else checkImage(l.imageRoot().resolve(it.relPath()), where, mode, pr);
        }
      }
    }
    if (classes <= 0) classes = maxLabel + 1;
    List<SplitItem> coverage = l.testOnly() ? s.test() : s.train();
    Set<Integer> present = new HashSet<>();
    for (SplitItem it : coverage) present.add(it.label());
    List<String> out = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      String n = declared != null ? declared.get(c) : names.get(c);
      if (!present.contains(c) && !coverage.isEmpty()) {
        pr.add("class " + c + (n == null ? "" : " '" + n + "'") + " has no " + (l.testOnly() ? "test" : "train") + " images");
      }
      out.add(n == null ? "<missing class " + c + ">" : n);
    }
    if (pr.count > 0) throw new DatasetException(l.name(), pr.first, pr.count);
    return out;
  }

  /**
   * Why an entry would read outside the image root, or null: an absolute path, one that leaves the
   * root after normalisation ({@code ../outside/x.png}), or one whose real path (symbolic links
   * resolved) is outside the root's real path.
   */
  static String escapes(Path base, Path realBase, String rel) {
    Path given;
    try {
      given = Path.of(rel);
    } catch (java.nio.file.InvalidPathException e) {
      return "invalid path";
    }
    if (given.isAbsolute() || rel.startsWith("/") || rel.startsWith("\\")) return "absolute path";
    Path p = base.resolve(given).normalize();
    if (!p.startsWith(base)) return "path outside the dataset";
    if (realBase != null && Files.exists(p)) {
      try {
        if (!p.toRealPath().startsWith(realBase)) return "symbolic link out of the dataset";
      } catch (IOException e) {
        return null; // unreadable: checkImage reports it
      }
    }
    return null;
  }

  private static Path realPath(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return null; // a missing root is reported by the reader
    }
  }

  private static void checkImage(Path p, String where, Mode mode, Problems pr) {
    byte[] head = new byte[12];
    int n;
    try (InputStream in = Files.newInputStream(p)) {
      n = in.readNBytes(head, 0, head.length);
    } catch (java.nio.file.NoSuchFileException e) {
      pr.add("missing image: " + where + " (" + p + ")");
      return;
    } catch (IOException e) {
      pr.add("unreadable image: " + where + " (" + p + "): " + e.getMessage());
      return;
    }
    if (n == 0) {
      pr.add("empty image file: " + where + " (" + p + ")");
    } else if (!looksLikeImage(head, n)) {
      pr.add("not an image (unknown file signature): " + where + " (" + p + ")");
    } else if (mode == Mode.DEEP) {
      try {
        Images.readRgb(p);
      } catch (RuntimeException e) {
        pr.add("undecodable image: " + where + ": " + e.getMessage());
      }
    }
  }

  /** JPEG, PNG, BMP or GIF signature. */
  static boolean looksLikeImage(byte[] h, int n) {
    if (n >= 3 && (h[0] & 0xff) == 0xFF && (h[1] & 0xff) == 0xD8 && (h[2] & 0xff) == 0xFF) return true;
    if (n >= 8 && (h[0] & 0xff) == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G') return true;
    if (n >= 2 && h[0] == 'B' && h[1] == 'M') return true;
    return n >= 4 && h[0] == 'G' && h[1] == 'I' && h[2] == 'F' && h[3] == '8';
  }
}
