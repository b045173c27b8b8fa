package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything a prompt method may put into the ViT image tower.
 *
 * <p>Order in {@link ClipModel#encodeImage(VisionInput)}: patches (conv1) → prepend CLS → + positional
 * embedding → append {@code appended} tokens (no positional embedding: MaPLe, VPT, RPO) →
 * {@code ln_pre} over all tokens → blocks (replacements before their layer — use negative
 * positions for "the last n tokens" — additive {@code masks}, {@code adaptor}) → {@code ln_post}
 * of row 0 (CLS) or of the {@code readout} rows → {@code @ proj}.
 *
 * @param pixels {@code [N, 3, R, R]} float32, normalised
 * @param appended {@code [n, W]} or {@code [N, n, W]} tokens, or null
 * @param replacements deep prompt replacements
 * @param masks additive masks; null = no mask (as in the reference)
 * @param readout {@code [N, P]} or {@code [P]} integer rows to read instead of CLS, or null
 * @param adaptor residual adaptor slot
 */
public record VisionInput(
    NDArray pixels,
    NDArray appended,
    List<TokenReplacement> replacements,
    AttentionMasks masks,
    NDArray readout,
    BlockAdaptor adaptor) {

  public VisionInput {
    if (pixels == null) throw new IllegalArgumentException("pixels are required");
    replacements = replacements == null ? List.of() : List.copyOf(replacements);
    adaptor = adaptor == null ? BlockAdaptor.NONE : adaptor;
  }

  public static VisionInput of(NDArray pixels) {
    return new VisionInput(pixels, null, List.of(), null, null, null);
  }

  public VisionInput withAppended(NDArray tokens) {
    return new VisionInput(pixels, tokens, replacements, masks, readout, adaptor);
  }

  public VisionInput withReplacements(List<TokenReplacement> r) {
    return new VisionInput(pixels, appended, r, masks, readout, adaptor);
  }

  public VisionInput withReplacement(TokenReplacement r) {
    List<TokenReplacement> l = new ArrayList<>(replacements);
    l.add(r);
    return withReplacements(l);
  }

  public VisionInput withMasks(AttentionMasks m) {
    return new VisionInput(pixels, appended, replacements, m, readout, adaptor);
  }

  public VisionInput withReadout(NDArray positions) {
    return new VisionInput(pixels, appended, replacements, masks, positions, adaptor);
  }

  public VisionInput withAdaptor(BlockAdaptor a) {
    return new VisionInput(pixels, appended, replacements, masks, readout, a);
  }
}
