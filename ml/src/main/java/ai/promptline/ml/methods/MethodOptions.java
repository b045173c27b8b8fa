package ai.promptline.ml.methods;

/**
 * Method hyper-parameters that shape the learnable tensors.
 *
 * @param nCtx number of context vectors (ignored when {@code ctxInit} is set: its word count wins)
 * @param ctxInit initial context words, e.g. {@code "a photo of a"}; empty = random N(0, 0.02²)
 */
public record MethodOptions(int nCtx, String ctxInit) {
  public MethodOptions {
    if (ctxInit == null) ctxInit = "";
    if (nCtx < 0) throw new IllegalArgumentException("nCtx must be >= 0, got " + nCtx);
  }
}
