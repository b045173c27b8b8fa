package ai.promptline.ml.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * Dataset fingerprint: SHA-256 (hex) over a canonical text form of the split content followed by
 * the sorted list of referenced files. It identifies "the same data" across machines, so runs can
 * be compared and cached results reused only when the inputs really match.
 *
 * <p>Canonical form, UTF-8: for each split in order train, val, test a line {@code "#<split> <n>"}
 * then one line {@code relPath \t label \t className} per item in list order (order matters for
 * few-shot sampling); then {@code "#files <n>"} and one line {@code relPath \t size} per distinct
 * file, sorted by path. In deep mode each file line also carries the SHA-256 of the file bytes, which
 * catches re-encoded images that keep their size.
 */
public final class Fingerprint {
  private Fingerprint() {}

  /** Fingerprint of split content only (no file access), e.g. for a split JSON on its own. */
  public static String ofSplits(Splits splits) {
    MessageDigest md = sha256();
    splitsInto(md, splits);
    return HexFormat.of().formatHex(md.digest());
  }

  /** Fingerprint of split content and the files under {@code imageRoot}; deep hashes file bytes. */
  public static String of(Splits splits, Path imageRoot, boolean deep) {
    MessageDigest md = sha256();
    splitsInto(md, splits);
    TreeSet<String> files = new TreeSet<>();
    for (List<SplitItem> l : List.of(splits.train(), splits.val(), splits.test())) {
      for (SplitItem it : l) files.add(it.relPath());
    }
    update(md, "#files " + files.size() + "\n");
    for (String rel : files) {
      Path p = imageRoot.resolve(rel);
      try {
        StringBuilder line = new StringBuilder(rel).append('\t').append(Files.size(p));
        if (deep) line.append('\t').append(HexFormat.of().formatHex(fileHash(p)));
        update(md, line.append('\n').toString());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot fingerprint " + p + ": " + e.getMessage(), e);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static void splitsInto(MessageDigest md, Splits splits) {
    for (String name : new String[] {"train", "val", "test"}) {
      List<SplitItem> items = splits.get(name);
      update(md, "#" + name + " " + items.size() + "\n");
      for (SplitItem it : items) update(md, it.relPath() + "\t" + it.label() + "\t" + it.className() + "\n");
    }
  }

  private static byte[] fileHash(Path p) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(p)) {
      for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
    }
    return md.digest();
  }

  private static void update(MessageDigest md, String s) {
    md.update(s.getBytes(StandardCharsets.UTF_8));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
