package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * How the towers hold and round activations for a {@link Precision}.
 *
 * <p>Two facts of DJL 0.36's PyTorch JNI shape this class (both checked by {@code
 * ClipPrecisionTest}):
 *
 * <ul>
 *   <li>{@code NDArray.toType} runs under a {@code NoGradGuard}: it is <em>not</em> differentiable.
 *       Every cast of a tensor that may carry a prompt gradient therefore goes through {@link
 *       #cast}, a copy into a fresh tensor of the target dtype ({@code dst[...] = x}, PyTorch's
 *       {@code copy_}), which autograd differentiates (the gradient is cast back to the source
 *       dtype). Frozen weights/embeddings, which never carry a gradient, use {@code toType}.
 *   <li>Its dtype table has no bfloat16: creating or casting to {@code DataType.BFLOAT16} aborts the
 *       JVM (an uncaught C++ {@code throw;}). {@link Precision#BF16} is therefore <em>emulated</em>:
 *       tensors are fp32 holding bfloat16 values, and every op output is rounded to bfloat16 ({@link
 *       #round}), which is what PyTorch's bf16 CPU/CUDA kernels do (fp32 compute/accumulation, one
 *       rounding of each output). The rounding is a Veltkamp split, {@code hi = C·x − (C·x − x)}
 *       with {@code C = 2^16 + 1}: exact round-to-nearest to 8 significant bits for finite
 *       non-tie values (ties, 2^-16 of random inputs, may round away from even), and its autograd
 *       derivative is exactly 1, like a cast's. It must not see ±inf (masks are never rounded).
 * </ul>
 */
public final class Numerics {
  private static final float VELTKAMP_BF16 = 65537f; // 2^(24-8) + 1

  private final Precision precision;
  private final DataType dtype;
  private final boolean emulated;

  Numerics(Precision precision) {
    this.precision = precision;
    this.dtype = precision.storageType();
    this.emulated = precision == Precision.BF16;
  }

  Precision precision() {
    return precision;
  }

  /** The dtype activations and cast weights are held in. */
  DataType dtype() {
    return dtype;
  }

  /** Rounds an op's output to the model precision (identity unless emulated). */
  NDArray round(NDArray x) {
    return emulated ? roundBf16(x) : x;
  }

  /** Differentiable cast to the activation dtype, then rounding: the splice of caller tensors. */
  NDArray toActivation(NDArray x) {
    return round(cast(x, dtype));
  }

  /** A frozen fp32 tensor (embedding, positional) in the activation dtype; not differentiable. */
  NDArray constant(NDArray w) {
    if (emulated) return roundBf16(w);
    return w.getDataType() == dtype ? w : w.toType(dtype, false);
  }

  /** bfloat16 rounding of fp32 values (Veltkamp split); derivative 1. */
  static NDArray roundBf16(NDArray x) {
    NDArray a = scale(x, VELTKAMP_BF16);
    return a.sub(a.sub(x));
  }

  /**
   * {@code x · s}, safe under autograd. DJL's {@code NDArray.mul(Number)} wraps the scalar in a
   * tensor over a Java direct buffer ({@code torch::from_blob}, no copy) and closes it right after
   * the op, while PyTorch's {@code MulBackward} keeps that tensor to compute the gradient: once the
   * garbage collector frees the buffer, backward reads whatever reuses the memory. That was the
   * cause of the sporadic NaN / 1e20 prompt gradients and of the run-to-run differences of
   * identical CoOp runs. Here the scalar is a tensor that PyTorch allocates and reference-counts
   * itself ({@code torch::full}), so the saved value outlives the Java handle.
   */
  public static NDArray scale(NDArray x, float s) {
    try (NDArray c = x.getManager().full(new ai.djl.ndarray.types.Shape(), s, x.getDataType())) {
      return x.mul(c);
    }
  }

  /**
   * Differentiable dtype cast: a new tensor of dtype {@code t} (in {@code x}'s manager and device)
   * filled by {@code copy_} from {@code x}. Returns {@code x} itself when the dtype already matches.
   */
  static NDArray cast(NDArray x, DataType t) {
    if (x.getDataType() == t) return x;
    NDArray dst = x.getManager().zeros(x.getShape(), t);
    dst.set(new NDIndex(":"), x);
    return dst;
  }
}
