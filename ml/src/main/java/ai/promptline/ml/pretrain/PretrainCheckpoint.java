package ai.promptline.ml.pretrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipCheckpoints;
import ai.promptline.ml.clip.Safetensors;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resume checkpoint of a pretraining run: one safetensors file ({@code model.<name>} fp32
 * weights, {@code decay.adamw.*} / {@code nodecay.adamw.*} optimiser state; metadata: recipe, step,
 * curve, seconds) next to a {@code .sha256} file holding its digest. Both are written to temporary
 * names and renamed into place, so a kill leaves the previous checkpoint intact; a file whose digest
 * does not match (truncated, edited, half-copied) is refused on resume.
 */
public final class PretrainCheckpoint {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A restored run. */
  public record State(int step, Map<String, NDArray> weights, Map<String, NDArray> optimiser, List<ClipPretrainer.Point> curve,
      double trainSeconds) {
    /** The optimiser entries of one group, prefix removed. */
    public Map<String, NDArray> optimiser(String prefix) {
      Map<String, NDArray> out = new LinkedHashMap<>();
      optimiser.forEach((k, v) -> {
        if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v);
      });
      return out;
    }
  }

  private PretrainCheckpoint() {}

  public static Path digestFile(Path checkpoint) {
    return checkpoint.resolveSibling(checkpoint.getFileName() + ".sha256");
  }

  static void write(Path file, PretrainConfig cfg, int step, Map<String, NDArray> weights, Map<String, NDArray> optimiser,
      List<ClipPretrainer.Point> curve, double seconds) throws IOException {
    Map<String, NDArray> all = new LinkedHashMap<>();
    List<NDArray> views = new ArrayList<>();
    weights.forEach((k, a) -> {
      NDArray v = a.stopGradient();
      views.add(v);
      all.put("model." + k, v);
    });
    all.putAll(optimiser);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("promptline.pretrain.recipe", recipe(cfg));
    meta.put("promptline.pretrain.step", Integer.toString(step));
    meta.put("promptline.pretrain.seconds", Double.toString(seconds));
    meta.put("promptline.pretrain.curve", curveJson(curve));
    Path tmp = file.resolveSibling(".tmp-" + file.getFileName());
    Path tmpDigest = file.resolveSibling(".tmp-" + digestFile(file).getFileName());
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Safetensors.write(tmp, all, meta);
      Files.writeString(tmpDigest, ClipCheckpoints.sha256(tmp) + "\n", StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmpDigest, digestFile(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      views.forEach(NDArray::close);
      Files.deleteIfExists(tmp);
      Files.deleteIfExists(tmpDigest);
    }
  }

  /** The recipe as canonical JSON; a checkpoint resumes only a run with the same recipe. */
  static String recipe(PretrainConfig cfg) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", cfg.model().toJson());
    m.put("steps", cfg.steps());
    m.put("batchSize", cfg.batchSize());
    m.put("lr", cfg.lr());
    m.put("warmupSteps", cfg.warmupSteps());
    m.put("weightDecay", cfg.weightDecay());
    m.put("seed", cfg.seed());
    try {
      return JSON.writeValueAsString(m);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String curveJson(List<ClipPretrainer.Point> curve) {
    StringBuilder sb = new StringBuilder("[");
    for (ClipPretrainer.Point p : curve) {
      if (sb.length() > 1) sb.append(',');
      sb.append('[').append(p.step()).append(',').append(p.loss()).append(',').append(p.logitScale()).append(',').append(p.lr()).append(']');
    }
    return sb.append(']').toString();
  }

  static List<ClipPretrainer.Point> parseCurve(String json) throws IOException {
    List<List<Double>> rows = JSON.readValue(json, new TypeReference<List<List<Double>>>() {});
    List<ClipPretrainer.Point> out = new ArrayList<>();
    for (List<Double> r : rows) out.add(new ClipPretrainer.Point(r.get(0).intValue(), r.get(1).floatValue(), r.get(2).floatValue(), r.get(3)));
    return out;
  }

  /**
   * The checkpoint's state, or null when there is none. Refuses (with what to do) a checkpoint
   * whose digest file is missing or does not match, or that belongs to a different recipe.
   */
  static State readIfPresent(Path file, PretrainConfig cfg, NDManager manager) throws IOException {
    if (!Files.exists(file)) return null;
    Path digest = digestFile(file);
    if (!Files.isRegularFile(digest)) {
      throw new IllegalArgumentException("resume checkpoint " + file + " has no " + digest.getFileName()
          + " digest, so its integrity cannot be checked; delete " + file + " to start over");
    }
    String expected = Files.readString(digest, StandardCharsets.US_ASCII).trim();
    String actual = ClipCheckpoints.sha256(file);
    if (!actual.equals(expected)) {
      throw new IllegalArgumentException("resume checkpoint " + file + " is corrupted: its SHA-256 is " + actual
          + " but " + digest.getFileName() + " records " + expected + "; delete both files to start over (the steps since"
          + " the run began are lost) or restore the checkpoint from a copy");
    }
    Map<String, String> meta = Safetensors.readMetadata(file);
    String recipe = meta.get("promptline.pretrain.recipe");
    if (!recipe(cfg).equals(recipe)) {
      throw new IllegalArgumentException("resume checkpoint " + file + " was made by a different recipe (" + recipe
          + "), not this one (" + recipe(cfg) + "); run with the same options to resume it, or delete it to start over");
    }
    Map<String, NDArray> all = Safetensors.read(file, manager);
    Map<String, NDArray> weights = new LinkedHashMap<>();
    Map<String, NDArray> opt = new LinkedHashMap<>();
    all.forEach((k, v) -> (k.startsWith("model.") ? weights : opt).put(k.startsWith("model.") ? k.substring(6) : k, v));
    return new State(Integer.parseInt(meta.get("promptline.pretrain.step")), weights, opt,
        parseCurve(meta.get("promptline.pretrain.curve")), Double.parseDouble(meta.get("promptline.pretrain.seconds")));
  }

  /** Deletes the checkpoint and its digest (after the final weights are safely written). */
  public static void delete(Path file) throws IOException {
    Files.deleteIfExists(file);
    Files.deleteIfExists(digestFile(file));
  }
}
