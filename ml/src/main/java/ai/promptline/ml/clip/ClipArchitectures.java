package ai.promptline.ml.clip;

import ai.promptline.ml.clip.ClipConfig.VisionKind;
import java.util.List;
import java.util.Optional;

/**
 * The registered OpenAI CLIP architectures and the matching of an inferred {@link ClipConfig}
 * against them.
 *
 * <p>Geometries are those of the released checkpoints (openai/CLIP {@code clip/clip.py:_MODELS};
 * the same values as open_clip's {@code model_configs/<name>.json}). Heads follow the reference
 * {@code build_model}: ViT {@code width / 64}, ModifiedResNet attention pool {@code width · 32 / 64},
 * text {@code width / 64}. {@code ClipArchitecturesTest} checks, for every entry, that the state
 * dict the reference packages build ({@code clip.model.CLIP} and {@code open_clip.model.CLIP})
 * infers to this config and validates key for key.
 */
public final class ClipArchitectures {
  private ClipArchitectures() {}

  /** A named architecture. */
  public record Architecture(String name, ClipConfig config) {}

  private static ClipConfig rn(int embed, int res, int width, List<Integer> stages, int textWidth) {
    return new ClipConfig(VisionKind.RESNET, embed, res, width, 0, stages, 0, width * 32 / 64,
        77, 49408, textWidth, 12, textWidth / 64);
  }

  private static ClipConfig vit(int embed, int res, int width, int layers, int patch, int textWidth) {
    return new ClipConfig(VisionKind.VIT, embed, res, width, layers, List.of(), patch, width / 64,
        77, 49408, textWidth, 12, textWidth / 64);
  }

  private static final List<Architecture> ALL = List.of(
      new Architecture("RN50", rn(1024, 224, 64, List.of(3, 4, 6, 3), 512)),
      new Architecture("RN101", rn(512, 224, 64, List.of(3, 4, 23, 3), 512)),
      new Architecture("RN50x4", rn(640, 288, 80, List.of(4, 6, 10, 6), 640)),
      new Architecture("RN50x16", rn(768, 384, 96, List.of(6, 8, 18, 8), 768)),
      new Architecture("RN50x64", rn(1024, 448, 128, List.of(3, 15, 36, 10), 1024)),
      new Architecture("ViT-B/32", vit(512, 224, 768, 12, 32, 512)),
      new Architecture("ViT-B/16", vit(512, 224, 768, 12, 16, 512)),
      new Architecture("ViT-L/14", vit(768, 224, 1024, 24, 14, 768)),
      new Architecture("ViT-L/14@336px", vit(768, 336, 1024, 24, 14, 768)));

  /** Every registered architecture, in the order of OpenAI's model list. */
  public static List<Architecture> all() {
    return ALL;
  }

  /** The architecture called {@code name} (e.g. {@code ViT-B/16}). */
  public static Optional<Architecture> byName(String name) {
    return ALL.stream().filter(a -> a.name().equals(name)).findFirst();
  }

  /** The registered architecture equal to {@code config}, if any. */
  public static Optional<Architecture> exact(ClipConfig config) {
    return ALL.stream().filter(a -> a.config().equals(config)).findFirst();
  }

  /**
   * The registered architecture whose geometry equals {@code config} except for depth (ViT layers
   * or ResNet stage counts, and text layers): reduced-depth test models, or an exact match.
   */
  public static Optional<Architecture> sameGeometry(ClipConfig config) {
    return ALL.stream().filter(a -> withoutDepth(a.config()).equals(withoutDepth(config))).findFirst();
  }

  private static ClipConfig withoutDepth(ClipConfig c) {
    return new ClipConfig(c.visionKind(), c.embedDim(), c.imageResolution(), c.visionWidth(), 0,
        c.visionKind() == VisionKind.RESNET ? List.of(1, 1, 1, 1) : List.of(), c.visionPatchSize(),
        c.visionHeads(), c.contextLength(), c.vocabSize(), c.textWidth(), 1, c.textHeads());
  }

  /**
   * A one-phrase description: the registered name ({@code ViT-B/16}), the name with its reduced
   * depth ({@code ViT-B/32 geometry, depth reduced: 2 vision / 2 text layers}), or a summary of a
   * custom geometry.
   */
  public static String describe(ClipConfig c) {
    Optional<Architecture> e = exact(c);
    if (e.isPresent()) return e.get().name();
    Optional<Architecture> g = sameGeometry(c);
    String depth = c.visionKind() == VisionKind.VIT
        ? c.visionLayers() + " vision / " + c.textLayers() + " text layers"
        : "stages " + c.resnetStages() + " / " + c.textLayers() + " text layers";
    if (g.isPresent()) return g.get().name() + " geometry, depth reduced: " + depth;
    if (c.visionKind() == VisionKind.VIT) {
      return String.format("custom ViT (%dpx, patch %d, width %d, %s, text width %d, embed %d)",
          c.imageResolution(), c.visionPatchSize(), c.visionWidth(), depth, c.textWidth(), c.embedDim());
    }
    return String.format("custom ModifiedResNet (%dpx, stem width %d, %s, text width %d, embed %d)",
        c.imageResolution(), c.visionWidth(), depth, c.textWidth(), c.embedDim());
  }
}
