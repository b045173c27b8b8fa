package ai.promptline.ml.methods;

import ai.promptline.ml.methods.MethodSpec.Input;
import ai.promptline.ml.methods.MethodSpec.Option;
import ai.promptline.ml.methods.MethodSpec.Recipe;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The method registry: one {@link MethodSpec} per method, with its needs, its options and their
 * reference defaults, and its reference recipe (methods.md §3.9, base-to-novel, ViT-B/16).
 * Adding a method = one file + one entry here.
 */
public final class Methods {
  private static final Map<String, MethodSpec> REGISTRY = new TreeMap<>();

  private static final Option N_CTX = Option.integer("nCtx", 4, "number of learnable text context tokens (ignored by CoOp/CoCoOp when ctxInit is set: its word count wins)");
  private static final Option CTX_INIT = Option.text("ctxInit", "a photo of a", "words the text context starts from (\"\" = random N(0, 0.02²) behind an \"X X …\" prompt)");

  private static final Option READ_ONLY_CACHE = Option.text("readOnlyCache", "true",
      "true: run only the prompt tokens against cached keys/values of the frozen original tokens (same values, faster); false: the full masked pass");

  private static Option nCtx(int def) {
    return Option.integer(N_CTX.name(), def, N_CTX.help());
  }

  private static Option depth(int def) {
    return Option.integer("depth", def, "prompt depth J: layers 0..J-1 get prompts (deep prompts replace tokens before layers 1..J-1)");
  }

  static {
    add(new MethodSpec(ZeroShotClip.NAME, "zero-shot CLIP with the dataset's hand template or a prompt ensemble", Input.FEATURES,
        false, false, false, List.of(Option.text("templates", ClipTemplates.SINGLE, "single (the dataset's hand template), "
            + "ensemble (the dataset's CLIP prompt templates; ImageNet: CoOp's 7) or coop-ensemble (CoOp ZeroshotCLIP2's list)")),
        new Recipe(0, 100, 0), ZeroShotClip::new));
    add(new MethodSpec(CoOp.NAME, "learnable text context shared by all classes (Zhou et al. IJCV'22)", Input.FEATURES, false,
        false, false, List.of(N_CTX, CTX_INIT), new Recipe(200, 32, 0.002), CoOp::new));
    add(new MethodSpec(CoCoOp.NAME, "CoOp + Meta-Net: per-image context bias (Zhou et al. CVPR'22)", Input.FEATURES, false,
        false, false, List.of(N_CTX, CTX_INIT), new Recipe(10, 1, 0.002), CoCoOp::new));
    add(new MethodSpec(MaPLe.NAME, "coupled deep text→vision prompts (Khattak et al. CVPR'23)", Input.PIXELS, false, false, true,
        List.of(nCtx(2), CTX_INIT, depth(9)), new Recipe(5, 4, 0.0035), MaPLe::new));
    add(new MethodSpec(Ivlp.NAME, "independent deep text and vision prompts (MaPLe repo baseline)", Input.PIXELS, false, false, true,
        List.of(nCtx(2), CTX_INIT, depth(12), Option.integer("nCtxVision", 2, "number of vision prompt tokens"),
            Option.integer("depthVision", 12, "vision prompt depth")), new Recipe(5, 4, 0.0035), Ivlp::ivlp));
    add(new MethodSpec(Ivlp.DEEP_TEXT, "deep language prompts only (MaPLe repo baseline)", Input.FEATURES, false, false, false,
        List.of(nCtx(4), CTX_INIT, depth(12)), new Recipe(5, 4, 0.0025), Ivlp::deepText));
    add(new MethodSpec(Vpt.NAME, "deep vision prompts only, fixed text classifier (VPT-deep on CLIP)", Input.PIXELS, false, false,
        true, List.of(Option.integer("nCtxVision", 8, "number of vision prompt tokens"),
            Option.integer("depthVision", 12, "vision prompt depth"),
            Option.text("prompt", "a photo of a", "words before the class name of the fixed text classifier")),
        new Recipe(5, 4, 0.0025), Vpt::new));
    add(new MethodSpec(Rpo.NAME, "read-only text and image prompts, logits averaged over K pairs (Lee et al. ICCV'23)",
        Input.PIXELS, false, false, true, List.of(Option.integer("k", 24, "number of (text, image) prompt pairs"),
            Option.text("prompt", "a photo of a _.", "class prompt; _ stands for the class name"), READ_ONLY_CACHE),
        new Recipe(15, 4, 0.01), Rpo::new));
    add(new MethodSpec(Mrpo.NAME, "MaPLe's coupled deep prompts with RPO's read-only masks (seed 000)", Input.PIXELS, false, false,
        true, List.of(nCtx(2), depth(9), Option.text("prompt", "a photo of a _.", "class prompt; _ stands for the class name"),
            Option.text("readout", "prompt-average", "prompt-average (RPO pairs) or cls (CLS/EOT)"), READ_ONLY_CACHE),
        new Recipe(5, 4, 0.0035), Mrpo::new));
    // CoOp's few-shot recipe at 4 shots (KaiyangZhou/CoOp:COOP.md, configs/trainers/CoOp/rn50_ep100.yaml)
    add(new MethodSpec(InstancePrompts.NAME, "global + per-training-image text context, top-K prompt averaging at test (seed 002)",
        Input.FEATURES, true, true, false, List.of(N_CTX, CTX_INIT,
            Option.integer(InstancePrompts.N_CTX_INSTANCE, 4, "image-specific context tokens per training image, after the global context"),
            Option.integer(InstancePrompts.CANDIDATES, 2, "prompts drawn per class for every training image (its own always among its class's)"),
            Option.integer(InstancePrompts.TOP_K, 4, "at test, the most similar prompts averaged per class")),
        new Recipe(100, 32, 0.002), InstancePrompts::new, InstancePrompts::planCheck));
    add(new MethodSpec(LinearProbe.NAME, "linear-probe CLIP, the CoOp paper's baseline (lpclip): logistic regression on raw"
        + " features, C searched on the few-shot val split; protocol all only (no text classifier)", Input.RAW_FEATURES, false,
        true, false, List.of(), new Recipe(0, 1, 0), LinearProbe::new, true, true));
    add(new MethodSpec(LinearProbeRpo.NAME, "RPO's LP baseline: identity-initialised Linear(E, E) on raw features against a"
        + " fixed prompt's text classifier; base-to-novel", Input.RAW_FEATURES, false, false, false,
        List.of(Option.text("prompt", "A photo of a {cls_name}", "fixed prompt of the text classifier; {cls_name} stands for the class name")),
        new Recipe(30, 32, 0.0005), LinearProbeRpo::new));
    add(new MethodSpec(Prismer.NAME, "residual adaptors in the frozen image tower + a resampler over frozen expert encoders (Prismer, seed 003)",
        Input.PIXELS, false, false, true, List.of(
            Option.text("adaptorLayers", "all", "how many of the last image-tower blocks get an adaptor (all, or 0..layers)"),
            Option.integer("bottleneck", 0, "adaptor hidden width (0 = the block width, Prismer's d//1)"),
            Option.integer("latents", 64, "resampler latent queries"),
            Option.integer("resamplerDepth", 4, "resampler blocks"),
            Option.integer("resamplerWidth", 0, "resampler width (0 = the image tower's width, as Prismer)"),
            Option.integer("resamplerHeads", 8, "resampler attention heads (must divide the width)")),
        new Recipe(5, 4, 0.002), Prismer::new, true));
  }

  private Methods() {}

  private static void add(MethodSpec s) {
    REGISTRY.put(s.name(), s);
  }

  /** The spec of {@code name}, or an error listing the registered methods. */
  public static MethodSpec spec(String name) {
    MethodSpec s = REGISTRY.get(name);
    if (s == null)
      throw new IllegalArgumentException("unknown method '" + name + "'; known methods: " + String.join(", ", REGISTRY.keySet()));
    return s;
  }

  public static PromptMethod create(String name, MethodContext ctx) {
    return spec(name).factory().apply(ctx);
  }

  public static java.util.Set<String> names() {
    return REGISTRY.keySet();
  }

  public static Collection<MethodSpec> all() {
    return new ArrayList<>(REGISTRY.values());
  }
}
