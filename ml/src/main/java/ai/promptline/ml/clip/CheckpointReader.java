package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Detects a checkpoint's format and returns its state dict in OpenAI naming.
 *
 * <ul>
 *   <li>zip → {@link TorchArchive} (TorchScript or {@code torch.save});
 *   <li>safetensors with OpenAI / open_clip names (open_clip uses the OpenAI names for its
 *       OpenAI-architecture models);
 *   <li>safetensors with HuggingFace {@code CLIPModel} names → {@link #fromHuggingFace}.
 * </ul>
 */
final class CheckpointReader {
  private CheckpointReader() {}

  /**
   * @param stateDict tensors by OpenAI name
   * @param config config from the file's metadata, or null to infer from shapes
   * @param ignoreExtraKeys whether unexpected keys are tolerated (TorchScript module attributes)
   */
  record Checkpoint(
      Map<String, NDArray> stateDict, ClipConfig config, boolean ignoreExtraKeys, String format, Map<String, Integer> storedDtypes) {}

  static Checkpoint read(Path file, NDManager manager) throws IOException {
    if (Files.isDirectory(file)) return readHuggingFaceDirectory(file, manager);
    if (!Files.isRegularFile(file)) throw new IOException("weights file not found: " + file);
    long size = Files.size(file);
    byte[] head = new byte[(int) Math.min(64, size)];
    try (java.io.InputStream in = Files.newInputStream(file)) {
      in.readNBytes(head, 0, head.length);
    }
    if (size >= 4 && TorchArchive.isZip(file)) {
      TorchArchive.Result r = TorchArchive.read(file, manager);
      Map<String, NDArray> sd = r.tensors();
      String format = r.torchScript() ? "TorchScript archive" : "torch.save archive";
      ClipConfig cfg = null;
      if (isHuggingFace(sd)) {
        cfg = huggingFaceConfig(file.getParent(), sd);
        sd = fromHuggingFace(sd);
        format += " (HuggingFace CLIPModel names)";
      }
      return new Checkpoint(sd, cfg, r.torchScript(), format, r.storedDtypes());
    }
    if (!Safetensors.looksLike(head, size)) {
      throw new IOException(file + " is not a CLIP checkpoint: expected a PyTorch zip archive (a TorchScript .pt as"
          + " OpenAI released them, or torch.save of a state dict) or a safetensors file, but it " + sniff(head, size));
    }
    Safetensors.Contents c = Safetensors.readContents(file, manager);
    ClipConfig cfg = null;
    String json = c.metadata().get(ClipWeights.CONFIG_METADATA_KEY);
    if (json != null) cfg = ClipConfig.fromJson(json);
    Map<String, Integer> dtypes = safetensorsDtypes(file);
    Map<String, NDArray> sd = c.tensors();
    String format = "safetensors (OpenAI names)";
    if (isHuggingFace(sd)) {
      if (cfg == null) cfg = huggingFaceConfig(file.getParent(), sd);
      sd = fromHuggingFace(sd);
      format = "safetensors (HuggingFace CLIPModel names)";
    }
    return new Checkpoint(sd, cfg, false, format, dtypes);
  }

  private static Map<String, Integer> safetensorsDtypes(Path file) throws IOException {
    Map<String, Integer> dtypes = new java.util.TreeMap<>();
    Safetensors.header(file).fields().forEachRemaining(e -> {
      if (!e.getKey().equals("__metadata__")) dtypes.merge(e.getValue().path("dtype").asText(), 1, Integer::sum);
    });
    return dtypes;
  }

  /** What the first bytes of a file that is no checkpoint look like, for the error message. */
  static String sniff(byte[] head, long size) {
    String text = new String(head, java.nio.charset.StandardCharsets.ISO_8859_1).stripLeading();
    String lower = text.toLowerCase(java.util.Locale.ROOT);
    if (lower.startsWith("<!doctype html") || lower.startsWith("<html") || lower.startsWith("<?xml")) {
      return "is an HTML/XML page (a login or error page saved instead of the weights?); download the file again";
    }
    if (text.startsWith("version https://git-lfs")) {
      return "is a Git LFS pointer, not the weights; run `git lfs pull` or download the file itself";
    }
    if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
      return "is a legacy (pre-1.6) torch.save pickle; re-save it with torch.save(torch.load(f), g)"
          + " (the zip format, the default since PyTorch 1.6)";
    }
    if (size < 8) return "has only " + size + " bytes (truncated?)";
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < Math.min(8, head.length); i++) hex.append(String.format("%02x", head[i] & 0xff));
    return "starts with bytes " + hex + " (truncated or another format?)";
  }

  /** True for a state dict in HuggingFace {@code CLIPModel} naming. */
  static boolean isHuggingFace(Map<String, NDArray> sd) {
    return sd.containsKey("text_model.embeddings.token_embedding.weight");
  }

  /**
   * A {@code save_pretrained} directory: {@code config.json} plus {@code model.safetensors}, its
   * sharded form ({@code model.safetensors.index.json}) or {@code pytorch_model.bin}.
   */
  private static Checkpoint readHuggingFaceDirectory(Path dir, NDManager manager) throws IOException {
    Path single = dir.resolve("model.safetensors");
    Path index = dir.resolve("model.safetensors.index.json");
    Path bin = dir.resolve("pytorch_model.bin");
    if (Files.isRegularFile(single)) return read(single, manager);
    if (Files.isRegularFile(bin)) return read(bin, manager);
    if (!Files.isRegularFile(index)) {
      throw new IOException(dir + " is a directory but not a HuggingFace CLIPModel checkpoint: expected"
          + " model.safetensors, model.safetensors.index.json or pytorch_model.bin in it");
    }
    com.fasterxml.jackson.databind.JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
    java.util.TreeSet<String> shards = new java.util.TreeSet<>();
    map.fields().forEachRemaining(e -> shards.add(e.getValue().asText()));
    if (shards.isEmpty()) throw new IOException(index + " has no weight_map");
    Map<String, NDArray> sd = new LinkedHashMap<>();
    Map<String, Integer> dtypes = new java.util.TreeMap<>();
    for (String shard : shards) {
      Path f = dir.resolve(shard).normalize();
      if (!f.startsWith(dir.normalize()) || !Files.isRegularFile(f)) {
        throw new IOException(index + " names shard '" + shard + "', which is not a file in " + dir);
      }
      sd.putAll(Safetensors.readContents(f, manager).tensors());
      safetensorsDtypes(f).forEach((k, v) -> dtypes.merge(k, v, Integer::sum));
    }
    if (!isHuggingFace(sd)) throw new IOException(dir + " does not hold HuggingFace CLIPModel weights (no text_model.embeddings.token_embedding.weight)");
    ClipConfig cfg = huggingFaceConfig(dir, sd);
    return new Checkpoint(fromHuggingFace(sd), cfg, false, "safetensors, sharded (HuggingFace CLIPModel names)", dtypes);
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  /**
   * The config of an HF checkpoint: shapes as {@code build_model}, head counts from the
   * {@code config.json} beside the weights when there is one (else width / 64, which holds for
   * every OpenAI model). Refuses an activation other than {@code quick_gelu}, which the OpenAI
   * architectures use: such a model would load and silently compute other features.
   */
  static ClipConfig huggingFaceConfig(Path dir, Map<String, NDArray> hfStateDict) throws IOException {
    Path config = dir == null ? null : dir.resolve("config.json");
    if (config == null || !Files.isRegularFile(config)) return null;
    com.fasterxml.jackson.databind.JsonNode root = JSON.readTree(config.toFile());
    for (String tower : new String[] {"text_config", "vision_config"}) {
      String act = root.path(tower).path("hidden_act").asText("quick_gelu");
      if (!act.equals("quick_gelu")) {
        throw new IOException(config + ": " + tower + ".hidden_act is '" + act + "'; Promptline's CLIP towers"
            + " implement the OpenAI architecture (quick_gelu) only");
      }
    }
    ClipConfig c = ClipConfig.inferFrom(huggingFaceShapes(hfStateDict));
    int textHeads = root.path("text_config").path("num_attention_heads").asInt(c.textHeads());
    int visionHeads = root.path("vision_config").path("num_attention_heads").asInt(c.visionHeads());
    return new ClipConfig(c.visionKind(), c.embedDim(), c.imageResolution(), c.visionWidth(), c.visionLayers(),
        c.resnetStages(), c.visionPatchSize(), visionHeads, c.contextLength(), c.vocabSize(), c.textWidth(),
        c.textLayers(), textHeads);
  }

  /** OpenAI-named shapes of an HF state dict, without touching the tensors. */
  private static Map<String, ai.djl.ndarray.types.Shape> huggingFaceShapes(Map<String, NDArray> hf) {
    Map<String, ai.djl.ndarray.types.Shape> out = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : hf.entrySet()) {
      String name = openAiName(e.getKey());
      if (name == null) continue;
      ai.djl.ndarray.types.Shape s = e.getValue().getShape();
      if (name.endsWith("in_proj_weight")) s = new ai.djl.ndarray.types.Shape(3 * s.get(0), s.get(1));
      else if (name.endsWith("in_proj_bias")) s = new ai.djl.ndarray.types.Shape(3 * s.get(0));
      else if (name.equals("text_projection") || name.equals("visual.proj")) s = new ai.djl.ndarray.types.Shape(s.get(1), s.get(0));
      out.put(name, s);
    }
    return out;
  }

  private static final Pattern HF_LAYER =
      Pattern.compile("^(text|vision)_model\\.encoder\\.layers\\.(\\d+)\\.(.+)$");

  /**
   * Maps HuggingFace {@code CLIPModel} names to OpenAI names: q/k/v projections are concatenated
   * (in that order) into {@code in_proj_weight/bias}; {@code text_projection} and
   * {@code visual_projection} are {@code nn.Linear} weights {@code [E, D]} in HF and plain
   * {@code [D, E]} matrices in OpenAI, hence transposed. Unknown keys are kept (and then reported
   * by validation); {@code position_ids} buffers are dropped.
   */
  static Map<String, NDArray> fromHuggingFace(Map<String, NDArray> hf) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    Map<String, NDArray[]> qkv = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : hf.entrySet()) {
      String k = e.getKey();
      NDArray v = e.getValue();
      String name = openAiName(k);
      if (name == null) {
        v.close();
        continue;
      }
      Matcher m = HF_LAYER.matcher(k);
      if (m.matches() && m.group(3).matches("self_attn\\.[qkv]_proj\\.(weight|bias)")) {
        int slot = "qkv".indexOf(m.group(3).charAt("self_attn.".length()));
        qkv.computeIfAbsent(name, x -> new NDArray[3])[slot] = v;
      } else if (name.equals("text_projection") || name.equals("visual.proj")) {
        out.put(name, transposed(v));
      } else {
        out.put(name, v);
      }
    }
    for (Map.Entry<String, NDArray[]> e : qkv.entrySet()) {
      NDArray[] parts = e.getValue();
      for (int i = 0; i < 3; i++) {
        if (parts[i] == null) {
          throw new IllegalArgumentException("HuggingFace checkpoint lacks the " + "qkv".charAt(i) + "_proj of " + e.getKey());
        }
      }
      NDArray cat = NDArrays.concat(new NDList(parts), 0);
      for (NDArray p : parts) p.close();
      out.put(e.getKey(), cat);
    }
    return out;
  }

  /**
   * The OpenAI name of an HF {@code CLIPModel} entry: q/k/v projections map to the
   * {@code in_proj_weight/bias} they are concatenated into; {@code position_ids} buffers to null
   * (dropped); unknown keys to themselves (validation reports them).
   */
  static String openAiName(String k) {
    if (k.endsWith("position_ids")) return null;
    Matcher m = HF_LAYER.matcher(k);
    if (m.matches()) {
      String base = (m.group(1).equals("text") ? "transformer" : "visual.transformer") + ".resblocks." + m.group(2) + ".";
      String rest = m.group(3);
      if (rest.matches("self_attn\\.[qkv]_proj\\.(weight|bias)")) {
        return base + (rest.endsWith("weight") ? "attn.in_proj_weight" : "attn.in_proj_bias");
      }
      String mapped = switch (rest) {
        case "self_attn.out_proj.weight" -> "attn.out_proj.weight";
        case "self_attn.out_proj.bias" -> "attn.out_proj.bias";
        case "layer_norm1.weight" -> "ln_1.weight";
        case "layer_norm1.bias" -> "ln_1.bias";
        case "layer_norm2.weight" -> "ln_2.weight";
        case "layer_norm2.bias" -> "ln_2.bias";
        case "mlp.fc1.weight" -> "mlp.c_fc.weight";
        case "mlp.fc1.bias" -> "mlp.c_fc.bias";
        case "mlp.fc2.weight" -> "mlp.c_proj.weight";
        case "mlp.fc2.bias" -> "mlp.c_proj.bias";
        default -> null;
      };
      return mapped != null ? base + mapped : k;
    }
    return switch (k) {
      case "text_model.embeddings.token_embedding.weight" -> "token_embedding.weight";
      case "text_model.embeddings.position_embedding.weight" -> "positional_embedding";
      case "text_model.final_layer_norm.weight" -> "ln_final.weight";
      case "text_model.final_layer_norm.bias" -> "ln_final.bias";
      case "text_projection.weight" -> "text_projection";
      case "vision_model.embeddings.class_embedding" -> "visual.class_embedding";
      case "vision_model.embeddings.patch_embedding.weight" -> "visual.conv1.weight";
      case "vision_model.embeddings.position_embedding.weight" -> "visual.positional_embedding";
      case "vision_model.pre_layrnorm.weight" -> "visual.ln_pre.weight";
      case "vision_model.pre_layrnorm.bias" -> "visual.ln_pre.bias";
      case "vision_model.post_layernorm.weight" -> "visual.ln_post.weight";
      case "vision_model.post_layernorm.bias" -> "visual.ln_post.bias";
      case "visual_projection.weight" -> "visual.proj";
      default -> k;
    };
  }

  private static NDArray transposed(NDArray v) {
    NDArray t = v.transpose().toType(v.getDataType(), true); // contiguous copy
    v.close();
    return t;
  }
}
