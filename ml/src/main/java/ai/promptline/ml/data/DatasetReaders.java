package ai.promptline.ml.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Reads each dataset's split source into {@link Splits} (methods.md §1.1). Reading only parses
 * what the layout says; checking that images exist and labels make sense is
 * {@link DatasetValidator}'s job, so that all problems are reported together.
 */
final class DatasetReaders {
  private static final List<String> IMAGE_EXT = List.of(".jpg", ".jpeg", ".png", ".bmp", ".gif");

  private DatasetReaders() {}

  /**
   * What a reader produced.
   *
   * @param name dataset name (the synthetic reader takes it from its split file)
   * @param imageRoot folder the relative paths refer to
   * @param splits parsed lists
   * @param declaredClassNames class names declared by the layout (classnames.txt, variants.txt), or
   *     null when the split entries are the only source
   * @param testOnly true for evaluation-only targets (ImageNet-V2/-Sketch/-A/-R)
   */
  record Loaded(String name, Path imageRoot, Splits splits, List<String> declaredClassNames, boolean testOnly) {}

  static Loaded read(Datasets.Spec spec, Path folder) {
    try {
      return switch (spec.kind()) {
        case SPLIT_JSON -> splitJson(spec, folder);
        case IMAGENET -> imagenet(spec, folder);
        case IMAGENET_V2 -> imagenetV2(spec, folder);
        case IMAGENET_WNID_FOLDERS -> wnidFolders(spec, folder);
        case AIRCRAFT -> aircraft(spec, folder);
        case IMAGEFOLDER -> imageFolder(spec, folder);
        case CSV -> csv(spec, folder);
        case SYNTHETIC -> synthetic(spec, folder);
      };
    } catch (IOException e) {
      throw DatasetException.of(spec.name(), "cannot read " + folder + ": " + e.getMessage());
    } catch (UncheckedIOException | IllegalArgumentException e) {
      throw DatasetException.of(spec.name(), e.getMessage());
    }
  }

  private static Path requireFile(Datasets.Spec spec, Path file, String what) {
    if (!Files.isRegularFile(file)) throw DatasetException.of(spec.name(), what + " not found: " + file);
    return file;
  }

  private static Path requireDir(Datasets.Spec spec, Path dir, String what) {
    if (!Files.isDirectory(dir)) throw DatasetException.of(spec.name(), what + " not found: " + dir);
    return dir;
  }

  private static Path imageRoot(Datasets.Spec spec, Path folder) {
    return spec.imageDir().isEmpty() ? folder : folder.resolve(spec.imageDir());
  }

  private static Loaded splitJson(Datasets.Spec spec, Path folder) {
    Path split = requireFile(spec, folder.resolve("split_zhou_" + spec.name() + ".json"), "split file");
    Path images = requireDir(spec, imageRoot(spec, folder), "image folder");
    return new Loaded(spec.name(), images, SplitFile.read(split), null, false);
  }

  private static Loaded synthetic(Datasets.Spec spec, Path folder) throws IOException {
    List<Path> splits;
    try (Stream<Path> s = Files.list(folder)) {
      splits = s.filter(p -> p.getFileName().toString().matches("split_promptline_.+\\.json")).sorted().toList();
    }
    if (splits.size() != 1) {
      throw DatasetException.of(spec.name(), "expected exactly one split_promptline_<Name>.json in " + folder + ", found " + splits.size());
    }
    String file = splits.get(0).getFileName().toString();
    String name = file.substring("split_promptline_".length(), file.length() - ".json".length());
    Path images = requireDir(spec, imageRoot(spec, folder), "image folder");
    return new Loaded(name, images, SplitFile.read(splits.get(0)), null, false);
  }

  /** classnames.txt: {@code <wnid> <class name with spaces>} per line, in file order. */
  static LinkedHashMap<String, String> readClassnames(Datasets.Spec spec, Path folder) throws IOException {
    Path f = requireFile(spec, folder.resolve("classnames.txt"), "classnames.txt");
    LinkedHashMap<String, String> out = new LinkedHashMap<>();
    for (String[] kv : keyValueLines(spec, f, "<wnid> <class name>")) out.put(kv[0], kv[1]);
    return out;
  }

  /**
   * Non-blank lines of the form {@code <key> <rest with spaces>}, in file order; a line without a
   * key fails naming the file, the line number and the expected {@code form}.
   */
  static List<String[]> keyValueLines(Datasets.Spec spec, Path f, String form) throws IOException {
    List<String[]> out = new ArrayList<>();
    int n = 0;
    for (String line : utf8Lines(spec, f)) {
      n++;
      String t = line.strip();
      if (t.isEmpty()) continue;
      int sp = t.indexOf(' ');
      if (sp <= 0) throw DatasetException.of(spec.name(), f + " line " + n + " is not '" + form + "': " + line);
      out.add(new String[] {t.substring(0, sp), t.substring(sp + 1).strip()});
    }
    return out;
  }

  /**
   * The lines of a UTF-8 text file; a file in another encoding fails naming it and the first line
   * that does not decode (Java would only say "Input length = 1").
   */
  static List<String> utf8Lines(Datasets.Spec spec, Path f) throws IOException {
    byte[] bytes = Files.readAllBytes(f);
    try {
      StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes));
    } catch (java.nio.charset.CharacterCodingException e) {
      List<String> lines = new String(bytes, StandardCharsets.UTF_8).lines().toList();
      int line = 1;
      while (line <= lines.size() && lines.get(line - 1).indexOf('\uFFFD') < 0) line++;
      throw DatasetException.of(spec.name(), f + " is not valid UTF-8 text (line " + line + ": '" + lines.get(Math.min(line, lines.size()) - 1)
          + "'); re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)");
    }
    return new String(bytes, StandardCharsets.UTF_8).lines().toList();
  }

  /** Sorted non-hidden sub-folders (Dassl's listdir_nohidden(sort=True), folders only). */
  static List<String> subfolders(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
          .filter(n -> !n.startsWith(".")).sorted().toList();
    }
  }

  /**
   * Sorted non-hidden image files of a folder. Upstream uses unsorted {@code os.listdir} order for
   * ImageNet, which depends on the file system; sorting makes our order reproducible.
   */
  static List<String> imageFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
          .filter(n -> !n.startsWith(".") && isImageName(n)).sorted().toList();
    }
  }

  static boolean isImageName(String n) {
    String l = n.toLowerCase(Locale.ROOT);
    return IMAGE_EXT.stream().anyMatch(l::endsWith);
  }

  private static List<SplitItem> scanWnid(Path splitDir, String prefix, Map<String, String> names) throws IOException {
    List<SplitItem> out = new ArrayList<>();
    List<String> folders = subfolders(splitDir);
    for (int label = 0; label < folders.size(); label++) {
      String wnid = folders.get(label);
      // An unknown wnid gets a marker name; the validator reports it against classnames.txt.
      String cname = names.getOrDefault(wnid, "<" + wnid + " not in classnames.txt>");
      for (String f : imageFiles(splitDir.resolve(wnid))) out.add(new SplitItem(prefix + wnid + "/" + f, label, cname));
    }
    return out;
  }

  private static Loaded imagenet(Datasets.Spec spec, Path folder) throws IOException {
    LinkedHashMap<String, String> names = readClassnames(spec, folder);
    Path images = requireDir(spec, imageRoot(spec, folder), "image folder");
    List<SplitItem> train = scanWnid(requireDir(spec, images.resolve("train"), "train folder"), "train/", names);
    List<SplitItem> test = scanWnid(requireDir(spec, images.resolve("val"), "val folder"), "val/", names);
    // Label = index of the sorted wnid; classnames.txt is in that order in CoOp, but sort to be safe.
    List<String> declared = new TreeSet<>(names.keySet()).stream().map(names::get).toList();
    return new Loaded(spec.name(), images, new Splits(train, test, test), declared, false);
  }

  private static Loaded imagenetV2(Datasets.Spec spec, Path folder) throws IOException {
    List<String> declared = new ArrayList<>(readClassnames(spec, folder).values());
    Path images = requireDir(spec, imageRoot(spec, folder), "image folder");
    List<SplitItem> test = new ArrayList<>();
    for (int label = 0; label < declared.size(); label++) {
      Path d = images.resolve(Integer.toString(label));
      if (!Files.isDirectory(d)) continue; // the validator reports classes without images
      for (String f : imageFiles(d)) test.add(new SplitItem(label + "/" + f, label, declared.get(label)));
    }
    return new Loaded(spec.name(), images, new Splits(List.of(), List.of(), test), declared, true);
  }

  private static Loaded wnidFolders(Datasets.Spec spec, Path folder) throws IOException {
    LinkedHashMap<String, String> names = readClassnames(spec, folder);
    Path images = requireDir(spec, imageRoot(spec, folder), "image folder");
    List<SplitItem> test = scanWnid(images, "", names);
    // -A and -R cover 200 of the 1000 classes: labels index the sorted folders actually present.
    List<String> declared = subfolders(images).stream()
        .map(w -> names.getOrDefault(w, "<" + w + " not in classnames.txt>")).toList();
    return new Loaded(spec.name(), images, new Splits(List.of(), List.of(), test), declared, true);
  }

  private static Loaded aircraft(Datasets.Spec spec, Path folder) throws IOException {
    Path variantsFile = requireFile(spec, folder.resolve("variants.txt"), "variants.txt");
    List<String> variants = utf8Lines(spec, variantsFile).stream()
        .map(String::strip).filter(s -> !s.isEmpty()).toList();
    Map<String, Integer> lab = new LinkedHashMap<>();
    for (int i = 0; i < variants.size(); i++) lab.putIfAbsent(variants.get(i), i);
    Path images = requireDir(spec, imageRoot(spec, folder), "image folder");
    List<List<SplitItem>> lists = new ArrayList<>();
    for (String split : List.of("train", "val", "test")) {
      Path f = requireFile(spec, folder.resolve("images_variant_" + split + ".txt"), "images_variant_" + split + ".txt");
      List<SplitItem> items = new ArrayList<>();
      for (String[] kv : keyValueLines(spec, f, "<id> <variant>")) {
        Integer label = lab.get(kv[1]);
        // Unknown variants get label -1: the validator reports them with the others.
        items.add(new SplitItem(kv[0] + ".jpg", label == null ? -1 : label, kv[1]));
      }
      lists.add(items);
    }
    return new Loaded(spec.name(), images, new Splits(lists.get(0), lists.get(1), lists.get(2)), variants, false);
  }

  private static Loaded imageFolder(Datasets.Spec spec, Path folder) throws IOException {
    List<String> splitNames = List.of("train", "val", "test");
    boolean splitLayout = splitNames.stream().anyMatch(s -> Files.isDirectory(folder.resolve(s)));
    TreeSet<String> classes = new TreeSet<>();
    if (splitLayout) {
      for (String s : splitNames) if (Files.isDirectory(folder.resolve(s))) classes.addAll(subfolders(folder.resolve(s)));
    } else {
      classes.addAll(subfolders(folder));
    }
    List<String> declared = List.copyOf(classes);
    List<List<SplitItem>> lists = new ArrayList<>();
    for (String s : splitNames) {
      List<SplitItem> items = new ArrayList<>();
      Path base = splitLayout ? folder.resolve(s) : (s.equals("test") ? folder : null);
      if (base != null && Files.isDirectory(base)) {
        String prefix = splitLayout ? s + "/" : "";
        for (String c : subfolders(base)) {
          int label = declared.indexOf(c);
          for (String f : imageFiles(base.resolve(c))) items.add(new SplitItem(prefix + c + "/" + f, label, c));
        }
      }
      lists.add(items);
    }
    return new Loaded("imagefolder", folder, new Splits(lists.get(0), lists.get(1), lists.get(2)), declared, !splitLayout);
  }

  /** manifest.csv: header {@code split,path,label,classname}; paths relative to the folder. */
  private static Loaded csv(Datasets.Spec spec, Path folder) throws IOException {
    Path f = requireFile(spec, folder.resolve("manifest.csv"), "manifest.csv");
    List<String> lines = utf8Lines(spec, f);
    if (lines.isEmpty()) throw DatasetException.of(spec.name(), f + " is empty");
    List<String> header = parseCsvLine(lines.get(0)).stream().map(s -> s.strip().toLowerCase(Locale.ROOT)).toList();
    int[] col = new int[4];
    String[] want = {"split", "path", "label", "classname"};
    for (int i = 0; i < 4; i++) {
      col[i] = header.indexOf(want[i]);
      if (col[i] < 0) throw DatasetException.of(spec.name(), f + ": header must contain split,path,label,classname; got " + lines.get(0));
    }
    Map<String, List<SplitItem>> lists = new LinkedHashMap<>();
    for (String s : List.of("train", "val", "test")) lists.put(s, new ArrayList<>());
    List<String> problems = new ArrayList<>();
    int bad = 0;
    for (int n = 1; n < lines.size(); n++) {
      if (lines.get(n).isBlank()) continue;
      List<String> cells = parseCsvLine(lines.get(n));
      String problem = null;
      if (cells.size() < header.size()) {
        problem = "line " + (n + 1) + " has " + cells.size() + " columns, expected " + header.size();
      } else {
        List<SplitItem> target = lists.get(cells.get(col[0]).strip().toLowerCase(Locale.ROOT));
        if (target == null) {
          problem = "line " + (n + 1) + " has split '" + cells.get(col[0]) + "' (train|val|test)";
        } else {
          try {
            target.add(new SplitItem(cells.get(col[1]).strip(), Integer.parseInt(cells.get(col[2]).strip()), cells.get(col[3]).strip()));
          } catch (NumberFormatException e) {
            problem = "line " + (n + 1) + " has a non-integer label '" + cells.get(col[2]) + "'";
          }
        }
      }
      if (problem != null) {
        bad++;
        if (problems.size() < 100) problems.add(f.getFileName() + " " + problem);
      }
    }
    if (bad > 0) throw new DatasetException(spec.name(), problems, bad);
    return new Loaded(spec.name(), folder, new Splits(lists.get("train"), lists.get("val"), lists.get("test")), null, false);
  }

  /** RFC 4180-style line split: commas, double-quoted fields, "" as an escaped quote. */
  static List<String> parseCsvLine(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char ch = line.charAt(i);
      if (quoted) {
        if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          cur.append('"');
          i++;
        } else if (ch == '"') {
          quoted = false;
        } else {
          cur.append(ch);
        }
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',') {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(ch);
      }
    }
    out.add(cur.toString());
    return out;
  }
}
