package ai.promptline.ml.clip;

import ai.djl.ndarray.types.DataType;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Numeric precision of the frozen CLIP towers, chosen at load (methods.md §2.6, §6 item 1).
 *
 * <p>{@link #FP32} computes everything in fp32 (the default, and what CPU runs use). {@link #FP16}
 * and {@link #BF16} reproduce the reference {@code convert_weights}: the weights of convolutions,
 * linear layers (MLP, attention-pool projections), attention in/out projections, {@code
 * text_projection} and {@code visual.proj} are held in the low-precision dtype; token/positional/
 * class embeddings, LayerNorm and BatchNorm parameters/buffers and {@code logit_scale} stay fp32
 * and are cast at use (embeddings) or computed in fp32 (norms). See the precision section of this
 * package's README.
 */
public enum Precision {
  FP32(DataType.FLOAT32, "fp32"),
  FP16(DataType.FLOAT16, "fp16"),
  BF16(DataType.BFLOAT16, "bf16");

  /**
   * The tensors {@code convert_weights} casts: Conv/Linear weights+biases (the ModifiedResNet convs,
   * attention-pool q/k/v/c projections, MLP c_fc/c_proj), MHA in_proj/out_proj, and the two output
   * projections. Everything else (embeddings, LayerNorm, BatchNorm, logit_scale) stays fp32.
   */
  private static final Pattern LOW_PRECISION = Pattern.compile(
      "text_projection|visual\\.proj"
          + "|.*\\.attn\\.(in_proj_weight|in_proj_bias|out_proj\\.weight|out_proj\\.bias)"
          + "|.*\\.mlp\\.(c_fc|c_proj)\\.(weight|bias)"
          + "|visual\\.attnpool\\.(q_proj|k_proj|v_proj|c_proj)\\.(weight|bias)"
          + "|visual\\.(conv[123]|layer\\d+\\.\\d+\\.conv[123]|layer\\d+\\.\\d+\\.downsample\\.0)\\.weight");

  private final DataType dataType;
  private final String label;

  Precision(DataType dataType, String label) {
    this.dataType = dataType;
    this.label = label;
  }

  /** The logical dtype of the cast weights and of the activations between them. */
  public DataType dataType() {
    return dataType;
  }

  /**
   * The in-memory dtype of those tensors: {@link #dataType()}, except {@link #BF16}, which DJL
   * 0.36's PyTorch JNI cannot represent, so its tensors are fp32 holding bfloat16 values
   * (emulation; see {@code Numerics}).
   */
  public DataType storageType() {
    return this == BF16 ? DataType.FLOAT32 : dataType;
  }

  /** True when the towers hold fp32 tensors and round every op output to {@link #dataType()}. */
  public boolean isEmulated() {
    return storageType() != dataType;
  }

  /** {@code fp32}, {@code fp16} or {@code bf16}: the spelling used in configs and on the CLI. */
  public String label() {
    return label;
  }

  /** True for FP16/BF16. */
  public boolean isReduced() {
    return this != FP32;
  }

  /**
   * Parses {@code fp32|fp16|bf16} (case-insensitive; also {@code float32/float16/bfloat16}); null
   * or blank means {@link #FP32}.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static Precision parse(String s) {
    if (s == null || s.isBlank()) return FP32;
    switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "fp32", "float32", "float":
        return FP32;
      case "fp16", "float16", "half":
        return FP16;
      case "bf16", "bfloat16":
        return BF16;
      default:
        throw new IllegalArgumentException("precision must be one of fp32, fp16, bf16; got '" + s + "'");
    }
  }

  /**
   * Whether {@code convert_weights} casts this state-dict entry (OpenAI names) to the model dtype.
   */
  public static boolean castsToModelDtype(String name) {
    return LOW_PRECISION.matcher(name).matches();
  }

  /** The in-memory dtype of a (floating-point) state-dict entry under this precision. */
  public DataType storageTypeOf(String name) {
    return castsToModelDtype(name) ? storageType() : DataType.FLOAT32;
  }

  @Override
  public String toString() {
    return label;
  }
}
