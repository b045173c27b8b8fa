package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * State-dict layout (OpenAI names) of a {@link ClipConfig}, deterministic random weights, and
 * checkpoint validation.
 *
 * <p><b>Random weights are portable.</b> Each tensor draws from its own SplitMix64 stream seeded by
 * {@code seed ^ fnv1a64(name)}; a value is {@code (2u − 1)·std·√3} with {@code u} the top 53 bits
 * of the stream — a uniform with the requested standard deviation. Only integer arithmetic and one
 * correctly-rounded double multiply are involved, so {@code tools/golden/clip_golden.py} rebuilds
 * the very same tensors in numpy; the committed goldens then need no weight files. Standard
 * deviations follow the reference {@code initialize_parameters} (token 0.02, positional 0.01,
 * attention {@code width^-½}, projections {@code width^-½·(2·layers)^-½}, MLP {@code (2·width)^-½});
 * LayerNorm/BatchNorm affine parameters and biases get a small perturbation instead of 1/0 so that
 * tests exercise them (the reference zero-inits {@code bn3}, which would hide bugs).
 */
public final class ClipWeights {
  private ClipWeights() {}

  /** Metadata key in safetensors files under which the config JSON is stored. */
  public static final String CONFIG_METADATA_KEY = "promptline.clip.config";

  /** How one tensor is initialised. */
  enum Init {
    /** uniform with the given std. */
    RANDOM,
    /** 1 + uniform with the given std (LayerNorm / BatchNorm gains, BN variance). */
    ONE_PLUS,
    /** constant {@code ln(1/0.07)} (logit scale). */
    LOGIT_SCALE,
    /** 0 (num_batches_tracked counters). */
    ZERO
  }

  /** One expected state-dict entry. */
  record Spec(String name, Shape shape, Init init, double std) {}

  /** The state-dict keys and shapes a model of this config has, in reference order. */
  public static Map<String, Shape> expectedShapes(ClipConfig c) {
    Map<String, Shape> out = new LinkedHashMap<>();
    for (Spec s : specs(c)) out.put(s.name(), s.shape());
    return out;
  }

  static List<Spec> specs(ClipConfig c) {
    List<Spec> s = new ArrayList<>();
    int tw = c.textWidth();
    s.add(new Spec("positional_embedding", new Shape(c.contextLength(), tw), Init.RANDOM, 0.01));
    s.add(new Spec("text_projection", new Shape(tw, c.embedDim()), Init.RANDOM, 1.0 / Math.sqrt(tw)));
    s.add(new Spec("logit_scale", new Shape(), Init.LOGIT_SCALE, 0));
    if (c.visionKind() == ClipConfig.VisionKind.VIT) {
      vitSpecs(c, s);
    } else {
      resnetSpecs(c, s);
    }
    transformerSpecs("transformer.", tw, c.textLayers(), s);
    s.add(new Spec("token_embedding.weight", new Shape(c.vocabSize(), tw), Init.RANDOM, 0.02));
    layerNorm("ln_final", tw, s);
    return s;
  }

  private static void vitSpecs(ClipConfig c, List<Spec> s) {
    int w = c.visionWidth();
    int p = c.visionPatchSize();
    double scale = 1.0 / Math.sqrt(w);
    s.add(new Spec("visual.class_embedding", new Shape(w), Init.RANDOM, scale));
    s.add(new Spec("visual.positional_embedding", new Shape(c.visionTokens(), w), Init.RANDOM, scale));
    s.add(new Spec("visual.proj", new Shape(w, c.embedDim()), Init.RANDOM, scale));
    s.add(new Spec("visual.conv1.weight", new Shape(w, 3, p, p), Init.RANDOM, 1.0 / Math.sqrt(3.0 * p * p)));
    layerNorm("visual.ln_pre", w, s);
    transformerSpecs("visual.transformer.", w, c.visionLayers(), s);
    layerNorm("visual.ln_post", w, s);
  }

  private static void resnetSpecs(ClipConfig c, List<Spec> s) {
    int w = c.visionWidth();
    conv("visual.conv1", w / 2, 3, 3, s);
    batchNorm("visual.bn1", w / 2, s);
    conv("visual.conv2", w / 2, w / 2, 3, s);
    batchNorm("visual.bn2", w / 2, s);
    conv("visual.conv3", w, w / 2, 3, s);
    batchNorm("visual.bn3", w, s);
    int inplanes = w;
    for (int stage = 0; stage < 4; stage++) {
      int planes = w << stage;
      int stride = stage == 0 ? 1 : 2;
      for (int b = 0; b < c.resnetStages().get(stage); b++) {
        String p = "visual.layer" + (stage + 1) + "." + b + ".";
        conv(p + "conv1", planes, inplanes, 1, s);
        batchNorm(p + "bn1", planes, s);
        conv(p + "conv2", planes, planes, 3, s);
        batchNorm(p + "bn2", planes, s);
        conv(p + "conv3", planes * 4, planes, 1, s);
        batchNorm(p + "bn3", planes * 4, s);
        if (b == 0 && (stride > 1 || inplanes != planes * 4)) {
          // OpenAI's Bottleneck: Sequential(OrderedDict([("-1", AvgPool2d), ("0", Conv2d), ("1", BatchNorm2d)]))
          conv(p + "downsample.0", planes * 4, inplanes, 1, s);
          batchNorm(p + "downsample.1", planes * 4, s);
        }
        inplanes = planes * 4;
      }
    }
    int embed = c.resnetOutputChannels();
    int grid = c.gridSize();
    String a = "visual.attnpool.";
    double std = 1.0 / Math.sqrt(embed);
    s.add(new Spec(a + "positional_embedding", new Shape(grid * grid + 1, embed), Init.RANDOM, std));
    for (String proj : new String[] {"k_proj", "q_proj", "v_proj"}) {
      s.add(new Spec(a + proj + ".weight", new Shape(embed, embed), Init.RANDOM, std));
      s.add(new Spec(a + proj + ".bias", new Shape(embed), Init.RANDOM, 0.02));
    }
    s.add(new Spec(a + "c_proj.weight", new Shape(c.embedDim(), embed), Init.RANDOM, std));
    s.add(new Spec(a + "c_proj.bias", new Shape(c.embedDim()), Init.RANDOM, 0.02));
  }

  private static void transformerSpecs(String prefix, int width, int layers, List<Spec> s) {
    double attnStd = 1.0 / Math.sqrt(width);
    double projStd = attnStd / Math.sqrt(2.0 * layers);
    double fcStd = 1.0 / Math.sqrt(2.0 * width);
    for (int i = 0; i < layers; i++) {
      String p = prefix + "resblocks." + i + ".";
      s.add(new Spec(p + "attn.in_proj_weight", new Shape(3L * width, width), Init.RANDOM, attnStd));
      s.add(new Spec(p + "attn.in_proj_bias", new Shape(3L * width), Init.RANDOM, 0.02));
      s.add(new Spec(p + "attn.out_proj.weight", new Shape(width, width), Init.RANDOM, projStd));
      s.add(new Spec(p + "attn.out_proj.bias", new Shape(width), Init.RANDOM, 0.02));
      layerNorm(p + "ln_1", width, s);
      s.add(new Spec(p + "mlp.c_fc.weight", new Shape(4L * width, width), Init.RANDOM, fcStd));
      s.add(new Spec(p + "mlp.c_fc.bias", new Shape(4L * width), Init.RANDOM, 0.02));
      s.add(new Spec(p + "mlp.c_proj.weight", new Shape(width, 4L * width), Init.RANDOM, projStd));
      s.add(new Spec(p + "mlp.c_proj.bias", new Shape(width), Init.RANDOM, 0.02));
      layerNorm(p + "ln_2", width, s);
    }
  }

  private static void layerNorm(String p, int width, List<Spec> s) {
    s.add(new Spec(p + ".weight", new Shape(width), Init.ONE_PLUS, 0.1));
    s.add(new Spec(p + ".bias", new Shape(width), Init.RANDOM, 0.1));
  }

  private static void conv(String p, int out, int in, int k, List<Spec> s) {
    s.add(new Spec(p + ".weight", new Shape(out, in, k, k), Init.RANDOM, Math.sqrt(2.0 / (in * k * k))));
  }

  private static void batchNorm(String p, int ch, List<Spec> s) {
    s.add(new Spec(p + ".weight", new Shape(ch), Init.ONE_PLUS, 0.1));
    s.add(new Spec(p + ".bias", new Shape(ch), Init.RANDOM, 0.1));
    s.add(new Spec(p + ".running_mean", new Shape(ch), Init.RANDOM, 0.1));
    s.add(new Spec(p + ".running_var", new Shape(ch), Init.ONE_PLUS, 0.2));
    s.add(new Spec(p + ".num_batches_tracked", new Shape(), Init.ZERO, 0));
  }

  // ---------------------------------------------------------------- random weights

  /**
   * Deterministic random weights for {@code config} in OpenAI state-dict naming, all fp32 (the
   * {@code num_batches_tracked} counters too, for simplicity; they are unused in eval mode).
   */
  public static Map<String, NDArray> random(ClipConfig config, long seed, NDManager manager) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (Spec s : specs(config)) {
      float[] v = values(s, seed);
      NDArray a = Safetensors.owned(manager.create(v, s.shape()));
      a.setName(s.name());
      out.put(s.name(), a);
    }
    return out;
  }

  static float[] values(Spec s, long seed) {
    int n = Math.toIntExact(s.shape().size());
    float[] v = new float[n];
    switch (s.init()) {
      case ZERO -> {}
      case LOGIT_SCALE -> v[0] = (float) Math.log(1 / 0.07);
      case RANDOM, ONE_PLUS -> {
        long state = seed ^ fnv1a64(s.name());
        double a = s.std() * Math.sqrt(3.0);
        double base = s.init() == Init.ONE_PLUS ? 1.0 : 0.0;
        for (int i = 0; i < n; i++) {
          state += 0x9E3779B97F4A7C15L;
          long z = state;
          z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
          z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
          z = z ^ (z >>> 31);
          double u = (z >>> 11) * 0x1.0p-53;
          v[i] = (float) (base + (2 * u - 1) * a);
        }
      }
    }
    return v;
  }

  static long fnv1a64(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= (b & 0xff);
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** Safetensors metadata that records the config (needed when heads ≠ width/64). */
  public static Map<String, String> metadataFor(ClipConfig config) {
    return Map.of(CONFIG_METADATA_KEY, config.toJson(), "format", "pt");
  }

  // ---------------------------------------------------------------- validation

  /**
   * Checks a state dict against the layout of {@code config}.
   *
   * @param ignoreExtra true for TorchScript archives, whose module objects also hold non-state
   *     tensors (e.g. the text {@code attn_mask})
   * @throws IllegalArgumentException listing missing keys, unexpected keys and shape mismatches
   */
  public static void validate(ClipConfig config, Map<String, Shape> actual, boolean ignoreExtra) {
    Map<String, Shape> expected = expectedShapes(config);
    List<String> missing = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    for (Map.Entry<String, Shape> e : expected.entrySet()) {
      Shape got = actual.get(e.getKey());
      if (got == null) {
        if (!e.getKey().endsWith("num_batches_tracked")) missing.add(e.getKey() + " " + e.getValue());
      } else if (got.size() != e.getValue().size() || !sameDims(got, e.getValue())) {
        mismatched.add(e.getKey() + " expected " + e.getValue() + " got " + got);
      }
    }
    List<String> extra = new ArrayList<>();
    if (!ignoreExtra) {
      for (Map.Entry<String, Shape> e : actual.entrySet()) {
        String k = e.getKey();
        if (!expected.containsKey(k) && !k.equals("input_resolution") && !k.equals("context_length")
            && !k.equals("vocab_size")) {
          extra.add(k + " " + e.getValue());
        }
      }
    }
    if (missing.isEmpty() && extra.isEmpty() && mismatched.isEmpty()) return;
    StringBuilder m = new StringBuilder("checkpoint does not match the inferred architecture (")
        .append(ClipArchitectures.describe(config)).append(')');
    if (!mismatched.isEmpty()) m.append("; shape mismatches: ").append(abbreviate(mismatched));
    if (!missing.isEmpty()) m.append("; missing keys (expected shape): ").append(abbreviate(missing));
    if (!extra.isEmpty()) m.append("; unexpected keys (shape): ").append(abbreviate(extra));
    throw new IllegalArgumentException(m.toString());
  }

  private static boolean sameDims(Shape a, Shape b) {
    // scalars may be stored as [] or [1]
    if (a.size() == 1 && b.size() == 1) return true;
    return a.equals(b);
  }

  /** The first three items in state-dict order, and how many there are in all. */
  private static String abbreviate(List<String> items) {
    if (items.size() <= 3) return String.join(", ", items);
    return String.join(", ", items.subList(0, 3)) + " … (" + items.size() + " in all)";
  }
}
