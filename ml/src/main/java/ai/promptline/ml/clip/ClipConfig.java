package ai.promptline.ml.clip;

import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every architecture hyper-parameter of a CLIP model.
 *
 * <p>Checkpoints carry no config: the reference {@code build_model} infers everything from tensor
 * shapes, and {@link #inferFrom(Map)} does exactly the same (head counts = width / 64, RN attention
 * pool heads = width·32 / 64). Tiny random models used in tests and demos may choose other head
 * counts; they travel in the safetensors metadata (see {@link ClipWeights#metadataFor}).
 *
 * @param visionKind ViT or ModifiedResNet image tower
 * @param embedDim joint embedding dimension E
 * @param imageResolution input side in pixels
 * @param visionWidth ViT width, or the ResNet stem width (64 for RN50)
 * @param visionLayers ViT block count (ignored for ResNet)
 * @param resnetStages Bottleneck counts of the 4 ResNet stages (empty for ViT)
 * @param visionPatchSize ViT patch size (0 for ResNet)
 * @param visionHeads ViT heads, or attention-pool heads for ResNet
 * @param contextLength text sequence length (77)
 * @param vocabSize token vocabulary (49408)
 * @param textWidth text transformer width
 * @param textLayers text transformer blocks
 * @param textHeads text transformer heads
 */
public record ClipConfig(
    VisionKind visionKind,
    int embedDim,
    int imageResolution,
    int visionWidth,
    int visionLayers,
    List<Integer> resnetStages,
    int visionPatchSize,
    int visionHeads,
    int contextLength,
    int vocabSize,
    int textWidth,
    int textLayers,
    int textHeads) {

  /** Which image tower the model has. */
  public enum VisionKind {
    VIT,
    RESNET
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  public ClipConfig {
    resnetStages = resnetStages == null ? List.of() : List.copyOf(resnetStages);
    if (embedDim <= 0 || imageResolution <= 0 || visionWidth <= 0 || textWidth <= 0) {
      throw new IllegalArgumentException("dimensions must be positive");
    }
    if (visionKind == VisionKind.VIT) {
      if (visionPatchSize <= 0 || imageResolution % visionPatchSize != 0) {
        throw new IllegalArgumentException(
            "image resolution " + imageResolution + " is not a multiple of patch " + visionPatchSize);
      }
      requireDivisible("vision width", visionWidth, visionHeads);
    } else {
      if (resnetStages.size() != 4) {
        throw new IllegalArgumentException("ModifiedResNet needs 4 stages, got " + resnetStages);
      }
      if (imageResolution % 32 != 0) {
        throw new IllegalArgumentException("ResNet image resolution must be a multiple of 32");
      }
      requireDivisible("attention-pool width", visionWidth * 32, visionHeads);
    }
    requireDivisible("text width", textWidth, textHeads);
  }

  private static void requireDivisible(String what, int width, int heads) {
    if (heads <= 0 || width % heads != 0) {
      throw new IllegalArgumentException(what + " " + width + " is not divisible by heads " + heads);
    }
  }

  /** Number of ViT patch tokens per side. */
  public int gridSize() {
    return visionKind == VisionKind.VIT ? imageResolution / visionPatchSize : imageResolution / 32;
  }

  /** Tokens of the ViT sequence before any prompt: CLS + patches. */
  public int visionTokens() {
    return gridSize() * gridSize() + 1;
  }

  /** Channel count entering the ResNet attention pool (= 32 · stem width). */
  public int resnetOutputChannels() {
    return visionWidth * 32;
  }

  /** Width of the image tower's token sequence (ViT width; ResNet pool width). */
  public int visionTokenWidth() {
    return visionKind == VisionKind.VIT ? visionWidth : resnetOutputChannels();
  }

  // ---------------------------------------------------------------- presets

  /** A tiny random-weight ViT CLIP for demos and tests: 32 px, patch 8, width 64, 2+2 layers. */
  public static ClipConfig tinyVit() {
    return new ClipConfig(VisionKind.VIT, 32, 32, 64, 2, List.of(), 8, 1, 77, 49408, 64, 2, 1);
  }

  /** A tiny ModifiedResNet CLIP (stem width 8, one block per stage, 64 px). */
  public static ClipConfig tinyResNet() {
    return new ClipConfig(
        VisionKind.RESNET, 32, 64, 8, 0, List.of(1, 1, 1, 1), 0, 4, 77, 49408, 64, 2, 1);
  }

  /** OpenAI ViT-B/16 geometry. */
  public static ClipConfig vitB16() {
    return ClipArchitectures.byName("ViT-B/16").orElseThrow().config();
  }

  /** OpenAI ViT-B/32 geometry. */
  public static ClipConfig vitB32() {
    return ClipArchitectures.byName("ViT-B/32").orElseThrow().config();
  }

  /** OpenAI RN50 geometry. */
  public static ClipConfig rn50() {
    return ClipArchitectures.byName("RN50").orElseThrow().config();
  }

  // ---------------------------------------------------------------- inference from shapes

  private static final Pattern VIT_BLOCK =
      Pattern.compile("^visual\\.transformer\\.resblocks\\.(\\d+)\\.attn\\.in_proj_weight$");
  private static final Pattern TEXT_BLOCK = Pattern.compile("^transformer\\.resblocks\\.(\\d+)\\.");

  /**
   * Infers the architecture from state-dict shapes (OpenAI names), as the reference
   * {@code build_model}: ViT when {@code visual.proj} exists, heads = width / 64.
   *
   * @throws IllegalArgumentException naming the missing key when the dict is not a CLIP state dict
   */
  public static ClipConfig inferFrom(Map<String, Shape> shapes) {
    int embed = (int) need(shapes, "text_projection").get(1);
    int context = (int) need(shapes, "positional_embedding").get(0);
    int vocab = (int) need(shapes, "token_embedding.weight").get(0);
    int textWidth = (int) need(shapes, "ln_final.weight").get(0);
    TreeSet<Integer> textBlocks = new TreeSet<>();
    for (String k : shapes.keySet()) {
      Matcher m = TEXT_BLOCK.matcher(k);
      if (m.find()) textBlocks.add(Integer.parseInt(m.group(1)));
    }
    if (shapes.containsKey("visual.proj")) {
      Shape conv = need(shapes, "visual.conv1.weight");
      int width = (int) conv.get(0);
      int patch = (int) conv.get(conv.dimension() - 1);
      int layers = 0;
      for (String k : shapes.keySet()) if (VIT_BLOCK.matcher(k).matches()) layers++;
      long posLen = need(shapes, "visual.positional_embedding").get(0);
      int grid = (int) Math.round(Math.sqrt(posLen - 1));
      return new ClipConfig(
          VisionKind.VIT, embed, patch * grid, width, layers, List.of(), patch, width / 64,
          context, vocab, textWidth, textBlocks.size(), textWidth / 64);
    }
    Integer[] stages = new Integer[4];
    for (int b = 1; b <= 4; b++) {
      TreeSet<String> blocks = new TreeSet<>();
      String prefix = "visual.layer" + b + ".";
      for (String k : shapes.keySet()) {
        if (k.startsWith(prefix)) blocks.add(k.substring(prefix.length()).split("\\.")[0]);
      }
      stages[b - 1] = blocks.size();
    }
    int width = (int) need(shapes, "visual.layer1.0.conv1.weight").get(0);
    long posLen = need(shapes, "visual.attnpool.positional_embedding").get(0);
    int outGrid = (int) Math.round(Math.sqrt(posLen - 1));
    return new ClipConfig(
        VisionKind.RESNET, embed, outGrid * 32, width, 0, List.of(stages), 0, width * 32 / 64,
        context, vocab, textWidth, textBlocks.size(), textWidth / 64);
  }

  private static Shape need(Map<String, Shape> shapes, String key) {
    Shape s = shapes.get(key);
    if (s == null) throw new IllegalArgumentException("not a CLIP state dict: missing key '" + key + "'");
    return s;
  }

  // ---------------------------------------------------------------- JSON

  /** This config as a JSON object (field names = record component names). */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses {@link #toJson()} output. */
  public static ClipConfig fromJson(String json) {
    try {
      return JSON.readValue(json, ClipConfig.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("invalid CLIP config JSON: " + e.getOriginalMessage(), e);
    }
  }
}
