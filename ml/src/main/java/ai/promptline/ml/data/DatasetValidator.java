package ai.promptline.ml.data;

import ai.promptline.ml.data.image.Images;
import java.io.IOException;
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
 * not JPEG/PNG/BMP/GIF, images cut short (no end marker in their last bytes; deep mode: that do not
 * decode), an entry listed twice or in two splits, class names that are not UTF-8, labels outside
 * {@code [0, classes)}, two class names for one label, names that disagree with the declared class
 * list, classes without training (or, for evaluation-only targets, test) images, and an empty train
 * split.
 */
public final class DatasetValidator {
  /** How thoroughly images are checked. */
  public enum Mode {
    /**
     * Files exist, are non-empty, start with an image signature and end with the format's end
     * marker (reads the first 12 and the last 1,024 bytes of each file).
     */
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
    Map<String, String> listedAt = new HashMap<>(); // relPath -> first "split[i]"
    Set<String> badNames = new HashSet<>();
    boolean valIsTest = s.val().equals(s.test()); // ImageNet: CoOp evaluates on val and calls it both
    for (String split : new String[] {"train", "val", "test"}) {
      List<SplitItem> items = s.get(split);
      for (int i = 0; i < items.size(); i++) {
        SplitItem it = items.get(i);
        String where = split + "[" + i + "] " + it.relPath();
        String before = listedAt.putIfAbsent(it.relPath(), split + "[" + i + "]");
        if (before != null && !(valIsTest && split.equals("test") && before.startsWith("val["))) {
          pr.add(before.startsWith(split + "[") ? "duplicate entry: " + where + " is also " + before + " (list every image once)"
              : "entry in two splits: " + where + " is also " + before + " (train, val and test must not share images)");
        }
        if (it.className().indexOf('\uFFFD') >= 0 && badNames.add(it.className()))
          pr.add("class name is not valid UTF-8: " + where + " has '" + it.className() + "' (U+FFFD marks the undecodable"
              + " bytes); rename it in UTF-8");
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

  /** Bytes read from the end of every image for its end marker. */
  static final int TAIL = 1024;

  private static void checkImage(Path p, String where, Mode mode, Problems pr) {
    byte[] head = new byte[12];
    int n;
    byte[] tail;
    long size;
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.READ)) {
      size = ch.size();
      n = readFully(ch, head, 0);
      tail = new byte[(int) Math.min(size, TAIL)];
      readFully(ch, tail, size - tail.length);
    } catch (java.nio.file.NoSuchFileException e) {
      pr.add("missing image: " + where + " (" + p + ")");
      return;
    } catch (IOException e) {
      pr.add("unreadable image: " + where + " (" + p + "): " + e.getMessage());
      return;
    }
    String truncated;
    if (n == 0) {
      pr.add("empty image file: " + where + " (" + p + ")");
    } else if (!looksLikeImage(head, n)) {
      pr.add("not an image (unknown file signature): " + where + " (" + p + ")");
    } else if ((truncated = truncation(head, n, tail, size)) != null) {
      pr.add("truncated image (" + truncated + "): " + where + " (" + p + ")");
    } else if (mode == Mode.DEEP) {
      try {
        Images.readRgb(p);
      } catch (RuntimeException e) {
        pr.add("undecodable image: " + where + ": " + e.getMessage());
      }
    }
  }

  private static int readFully(java.nio.channels.FileChannel ch, byte[] into, long at) throws IOException {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(into);
    while (b.hasRemaining()) {
      int r = ch.read(b, at + b.position());
      if (r < 0) break;
    }
    return b.position();
  }

  /**
   * Why an image whose signature is fine is cut short, or null: a PNG without its IEND chunk, a
   * JPEG without its end-of-image marker (FF D9), a GIF without its trailer byte (3B) or a BMP
   * shorter than the size its header declares, judged from the first and last bytes only (a
   * partial download or copy keeps the signature and loses the end).
   */
  static String truncation(byte[] h, int n, byte[] tail, long size) {
    if (n >= 8 && (h[0] & 0xff) == 0x89 && h[1] == 'P') {
      for (int i = tail.length - 4; i >= 0; i--)
        if (tail[i] == 'I' && tail[i + 1] == 'E' && tail[i + 2] == 'N' && tail[i + 3] == 'D') return null;
      return "PNG without its IEND end chunk";
    }
    if ((h[0] & 0xff) == 0xFF) {
      for (int i = tail.length - 2; i >= 0; i--) if ((tail[i] & 0xff) == 0xFF && (tail[i + 1] & 0xff) == 0xD9) return null;
      return "JPEG without its end marker FF D9";
    }
    if (h[0] == 'G') {
      int end = tail.length - 1;
      while (end >= 0 && (tail[end] == 0 || tail[end] == '\n' || tail[end] == '\r' || tail[end] == ' ')) end--;
      return end >= 0 && tail[end] == 0x3B ? null : "GIF without its trailer byte 3B";
    }
    if (h[0] == 'B' && n >= 6) {
      long declared = (h[2] & 0xffL) | (h[3] & 0xffL) << 8 | (h[4] & 0xffL) << 16 | (h[5] & 0xffL) << 24;
      return declared > size ? "BMP of " + size + " bytes, its header says " + declared : null;
    }
    return null;
  }

  /** JPEG, PNG, BMP or GIF signature. */
  static boolean looksLikeImage(byte[] h, int n) {
    if (n >= 3 && (h[0] & 0xff) == 0xFF && (h[1] & 0xff) == 0xD8 && (h[2] & 0xff) == 0xFF) return true;
    if (n >= 8 && (h[0] & 0xff) == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G') return true;
    if (n >= 2 && h[0] == 'B' && h[1] == 'M') return true;
    return n >= 4 && h[0] == 'G' && h[1] == 'I' && h[2] == 'F' && h[3] == '8';
  }
}
