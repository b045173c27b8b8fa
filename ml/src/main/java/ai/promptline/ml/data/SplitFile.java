package ai.promptline.ml.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes CoOp's {@code split_zhou_<Name>.json} files (methods.md §1.2):
 * {@code {"train": [[impath, label, classname], ...], "val": [...], "test": [...]}}.
 *
 * <p>Reading is strict: a malformed entry fails with its split and index, because a silently
 * skipped entry would change few-shot sampling for every later class.
 */
public final class SplitFile {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String[] SPLITS = {"train", "val", "test"};

  private SplitFile() {}

  /** Reads a split file; a missing {@code val} or {@code test} key reads as an empty list. */
  public static Splits read(Path file) {
    JsonNode root;
    try {
      root = MAPPER.readTree(file.toFile());
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new UncheckedIOException("split file not found: " + file, e);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      var at = e.getLocation();
      String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      String msg = e.getOriginalMessage();
      if (msg != null && msg.contains("Invalid UTF-8"))
        throw new UncheckedIOException("split file " + file + " is not valid UTF-8" + where + " (" + msg
            + "); re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)", e);
      throw new UncheckedIOException("cannot parse split file " + file + where + ": " + msg, e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot parse split file " + file + ": " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("split file " + file + " is not a JSON object");
    }
    if (!root.has("train")) {
      throw new IllegalArgumentException("split file " + file + " has no \"train\" list");
    }
    List<List<SplitItem>> lists = new ArrayList<>();
    for (String split : SPLITS) lists.add(parseList(file, split, root.get(split)));
    return new Splits(lists.get(0), lists.get(1), lists.get(2));
  }

  private static List<SplitItem> parseList(Path file, String split, JsonNode node) {
    List<SplitItem> out = new ArrayList<>();
    if (node == null || node.isNull()) return out;
    if (!node.isArray()) {
      throw new IllegalArgumentException("split file " + file + ": \"" + split + "\" is not a list");
    }
    for (int i = 0; i < node.size(); i++) {
      JsonNode e = node.get(i);
      if (!e.isArray() || e.size() != 3 || !e.get(0).isTextual() || !e.get(2).isTextual()
          || !(e.get(1).isIntegralNumber() || e.get(1).isTextual())) {
        throw new IllegalArgumentException(
            "split file " + file + ": " + split + "[" + i + "] is not [relpath, label, classname]: " + e);
      }
      int label;
      try {
        // Python's reader does int(label); accept "3" as well as 3.
        label = e.get(1).isIntegralNumber() ? e.get(1).intValue() : Integer.parseInt(e.get(1).asText().trim());
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException(
            "split file " + file + ": " + split + "[" + i + "] has a non-integer label: " + e, ex);
      }
      String rel = e.get(0).asText(); // kept as written: the validator refuses absolute or escaping paths, naming them
      out.add(new SplitItem(rel, label, e.get(2).asText()));
    }
    return out;
  }

  /**
   * Writes a split file in the reference layout, one {@code [relpath, label, classname]} entry per
   * line so that diffs between split files stay readable. Parsing it back gives equal {@link Splits}.
   */
  public static void write(Path file, Splits splits) {
    StringBuilder sb = new StringBuilder("{\n");
    try {
      for (int s = 0; s < SPLITS.length; s++) {
        List<SplitItem> items = splits.get(SPLITS[s]);
        sb.append("  \"").append(SPLITS[s]).append("\": [");
        for (int i = 0; i < items.size(); i++) {
          SplitItem it = items.get(i);
          sb.append(i == 0 ? "\n    [" : ",\n    [")
              .append(MAPPER.writeValueAsString(it.relPath())).append(", ")
              .append(it.label()).append(", ")
              .append(MAPPER.writeValueAsString(it.className())).append(']');
        }
        sb.append(items.isEmpty() ? "]" : "\n  ]").append(s < SPLITS.length - 1 ? ",\n" : "\n");
      }
      sb.append("}\n");
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write split file " + file + ": " + e.getMessage(), e);
    }
  }
}
