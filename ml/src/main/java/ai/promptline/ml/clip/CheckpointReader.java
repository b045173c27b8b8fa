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
    if (!Files.isRegularFile(file)) throw new IOException("weights file not found: " + file);
    if (Files.size(file) < 8) throw new IOException(file + " is too short to be a checkpoint");
    if (TorchArchive.isZip(file)) {
      TorchArchive.Result r = TorchArchive.read(file, manager);
      return new Checkpoint(r.tensors(), null, r.torchScript(),
          r.torchScript() ? "TorchScript archive" : "torch.save archive", r.storedDtypes());
    }
    Safetensors.Contents c = Safetensors.readContents(file, manager);
    ClipConfig cfg = null;
    String json = c.metadata().get(ClipWeights.CONFIG_METADATA_KEY);
    if (json != null) cfg = ClipConfig.fromJson(json);
    Map<String, Integer> dtypes = new java.util.TreeMap<>();
    Safetensors.header(file).fields().forEachRemaining(e -> {
      if (!e.getKey().equals("__metadata__")) dtypes.merge(e.getValue().path("dtype").asText(), 1, Integer::sum);
    });
    Map<String, NDArray> sd = c.tensors();
    String format = "safetensors (OpenAI names)";
    if (sd.containsKey("text_model.embeddings.token_embedding.weight")) {
      sd = fromHuggingFace(sd);
      format = "safetensors (HuggingFace CLIPModel names)";
    }
    return new Checkpoint(sd, cfg, false, format, dtypes);
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
      if (k.endsWith("position_ids")) {
        v.close();
        continue;
      }
      Matcher m = HF_LAYER.matcher(k);
      if (m.matches()) {
        String base = (m.group(1).equals("text") ? "transformer" : "visual.transformer")
            + ".resblocks." + m.group(2) + ".";
        String rest = m.group(3);
        if (rest.startsWith("self_attn.") && rest.matches("self_attn\\.[qkv]_proj\\.(weight|bias)")) {
          int slot = "qkv".indexOf(rest.charAt("self_attn.".length()));
          String kind = rest.endsWith("weight") ? "attn.in_proj_weight" : "attn.in_proj_bias";
          qkv.computeIfAbsent(base + kind, x -> new NDArray[3])[slot] = v;
          continue;
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
        out.put(mapped != null ? base + mapped : k, v);
        continue;
      }
      switch (k) {
        case "text_model.embeddings.token_embedding.weight" -> out.put("token_embedding.weight", v);
        case "text_model.embeddings.position_embedding.weight" -> out.put("positional_embedding", v);
        case "text_model.final_layer_norm.weight" -> out.put("ln_final.weight", v);
        case "text_model.final_layer_norm.bias" -> out.put("ln_final.bias", v);
        case "text_projection.weight" -> out.put("text_projection", transposed(v));
        case "vision_model.embeddings.class_embedding" -> out.put("visual.class_embedding", v);
        case "vision_model.embeddings.patch_embedding.weight" -> out.put("visual.conv1.weight", v);
        case "vision_model.embeddings.position_embedding.weight" -> out.put("visual.positional_embedding", v);
        case "vision_model.pre_layrnorm.weight" -> out.put("visual.ln_pre.weight", v);
        case "vision_model.pre_layrnorm.bias" -> out.put("visual.ln_pre.bias", v);
        case "vision_model.post_layernorm.weight" -> out.put("visual.ln_post.weight", v);
        case "vision_model.post_layernorm.bias" -> out.put("visual.ln_post.bias", v);
        case "visual_projection.weight" -> out.put("visual.proj", transposed(v));
        default -> out.put(k, v);
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

  private static NDArray transposed(NDArray v) {
    NDArray t = v.transpose().toType(v.getDataType(), true); // contiguous copy
    v.close();
    return t;
  }
}
