package ai.promptline.activities;

import ai.promptline.ml.data.Datasets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * One published number (a row of {@code campaigns/published/*.csv}): a method's result on a dataset
 * (or {@link #AVERAGE}, the papers' 11-dataset average) at some shots under a protocol, with where it
 * comes from and how well it is verified. {@code method} is the platform's registry name
 * ({@code zsclip}, {@code coop}, ...) or a reference-only name with no platform method ({@code lfa});
 * {@code label} is the paper's name. Accuracies in percent; base/novel/HM for {@code base2novel},
 * {@code accuracy} for {@code all}. {@code dataset} is the platform's canonical name
 * ({@code OxfordFlowers} for Flowers102, {@code DescribableTextures} for DTD).
 */
public record Published(String table, String method, String label, String dataset, String backbone, int shots,
    String protocol, Double base, Double novel, Double hm, Double accuracy, String verification, String source, String notes) {
  /** The dataset name of an average row. */
  public static final String AVERAGE = "Average";

  static final List<String> HEADER = List.of("table", "method", "label", "dataset", "backbone", "shots", "protocol", "base",
      "novel", "hm", "accuracy", "verification", "source", "notes");

  /** Every {@code *.csv} of a folder (sorted by name), or the file itself. */
  public static List<Published> read(Path fileOrFolder) {
    try {
      if (Files.isDirectory(fileOrFolder)) {
        List<Published> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(fileOrFolder)) {
          for (Path p : s.filter(x -> x.getFileName().toString().endsWith(".csv")).sorted().toList()) out.addAll(read(p));
        }
        return out;
      }
      if (!Files.isRegularFile(fileOrFolder))
        throw new IllegalArgumentException("published data: " + fileOrFolder + " does not exist; give a CSV file or a folder of them"
            + " (campaigns/published/)");
      return parse(Files.readString(fileOrFolder, StandardCharsets.UTF_8), fileOrFolder.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses a published-data CSV (header {@link #HEADER}; no quoting: fields hold no commas). */
  public static List<Published> parse(String text, String origin) {
    List<String> lines = text.lines().toList();
    if (lines.isEmpty() || !Arrays.asList(lines.get(0).trim().split(",", -1)).equals(HEADER))
      throw new IllegalArgumentException("published data " + origin + ": the first line must be the header " + String.join(",", HEADER));
    List<Published> out = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.startsWith("#")) continue;
      String[] c = line.split(",", -1);
      String where = "published data " + origin + ":" + (i + 1);
      if (c.length != HEADER.size())
        throw new IllegalArgumentException(where + ": " + c.length + " fields, expected " + HEADER.size() + " (" + String.join(",", HEADER) + ")");
      try {
        Published p = new Published(c[0].trim(), c[1].trim(), c[2].trim(), canonical(c[3].trim()), c[4].trim(),
            Integer.parseInt(c[5].trim()), c[6].trim(), number(c[7]), number(c[8]), number(c[9]), number(c[10]), c[11].trim(),
            c[12].trim(), c[13].trim());
        p.check();
        out.add(p);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private void check() {
    if (table.isEmpty() || method.isEmpty()) throw new IllegalArgumentException("table and method must be given");
    if (protocol.equals("base2novel")) {
      if (base == null || novel == null || hm == null) throw new IllegalArgumentException("a base2novel row needs base, novel and hm");
    } else if (accuracy == null) {
      throw new IllegalArgumentException("a '" + protocol + "' row needs accuracy");
    }
  }

  /** The platform's canonical name of a dataset (aliases resolved); unknown names and {@link #AVERAGE} unchanged. */
  public static String canonical(String dataset) {
    if (dataset.equalsIgnoreCase(AVERAGE)) return AVERAGE;
    try {
      return Datasets.spec(dataset).name();
    } catch (IllegalArgumentException unknown) {
      return dataset;
    }
  }

  private static Double number(String s) {
    String v = s.trim();
    if (v.isEmpty()) return null;
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + v + "' is not a number");
    }
  }

  boolean isAverage() {
    return dataset.equals(AVERAGE);
  }

  String describe() {
    return String.format(Locale.ROOT, "%s %s (%s)", table, label, verification);
  }
}
