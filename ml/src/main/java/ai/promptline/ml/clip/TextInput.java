package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything a prompt method may put into the text tower. Immutable; build with {@link #ofTokens} /
 * {@link #ofEmbeddings} and the {@code with*} methods.
 *
 * <p>Order of operations in {@link ClipModel#encodeText(TextInput)}: input (token embeddings of
 * {@code tokenIds}, or caller {@code embeddings}) + positional embedding → append
 * {@code appended} tokens (+ positional rows {@code L..L+n-1} when {@code appendedPositional}) →
 * for each block i: apply {@code replacements} of layer i, attention with {@code masks} (default:
 * causal over the full length), {@code adaptor}, MLP → {@code ln_final} → pool row
 * {@code poolIndex} (default {@code argmax(tokenIds)}, the EOT) or read rows {@code readout} →
 * {@code @ text_projection}.
 *
 * <p>CoOp example: {@code emb = model.tokenEmbedding(ids)}; splice the learnable ctx into rows
 * 1..M (e.g. {@code concat(emb[:, :1], ctx.broadcast, emb[:, 1+M:])}); then
 * {@code model.encodeText(TextInput.ofEmbeddings(prompts, ClipModel.eotIndex(ids)))}.
 *
 * @param tokenIds {@code [N, L]} integer ids, or null when embeddings are given
 * @param embeddings {@code [N, L, D]} input embeddings (without positional embedding), or null
 * @param poolIndex {@code [N]} integer pooling positions, or null for argmax of the ids
 * @param appended extra tokens {@code [n, D]} or {@code [N, n, D]} after the sequence, or null
 * @param appendedPositional whether positional embeddings are added to the appended tokens
 * @param replacements deep prompt replacements
 * @param masks additive attention masks; null = causal mask
 * @param readout {@code [N, P]} or {@code [P]} integer rows to read instead of pooling, or null
 * @param adaptor residual adaptor slot
 */
public record TextInput(
    NDArray tokenIds,
    NDArray embeddings,
    NDArray poolIndex,
    NDArray appended,
    boolean appendedPositional,
    List<TokenReplacement> replacements,
    AttentionMasks masks,
    NDArray readout,
    BlockAdaptor adaptor) {

  public TextInput {
    if ((tokenIds == null) == (embeddings == null)) {
      throw new IllegalArgumentException("give exactly one of token ids or input embeddings");
    }
    if (embeddings != null && poolIndex == null && readout == null) {
      throw new IllegalArgumentException("input embeddings need a pooling (EOT) index or readout positions");
    }
    replacements = replacements == null ? List.of() : List.copyOf(replacements);
    adaptor = adaptor == null ? BlockAdaptor.NONE : adaptor;
  }

  /** Plain token ids {@code [N, L]}, EOT pooling. */
  public static TextInput ofTokens(NDArray tokenIds) {
    return new TextInput(tokenIds, null, null, null, false, List.of(), null, null, null);
  }

  /** Caller embeddings {@code [N, L, D]} (positional embedding will be added) pooled at {@code poolIndex [N]}. */
  public static TextInput ofEmbeddings(NDArray embeddings, NDArray poolIndex) {
    return new TextInput(null, embeddings, poolIndex, null, false, List.of(), null, null, null);
  }

  public TextInput withPoolIndex(NDArray index) {
    return new TextInput(tokenIds, embeddings, index, appended, appendedPositional, replacements, masks, readout, adaptor);
  }

  public TextInput withAppended(NDArray tokens, boolean positional) {
    return new TextInput(tokenIds, embeddings, poolIndex, tokens, positional, replacements, masks, readout, adaptor);
  }

  public TextInput withReplacements(List<TokenReplacement> r) {
    return new TextInput(tokenIds, embeddings, poolIndex, appended, appendedPositional, r, masks, readout, adaptor);
  }

  /** Adds one replacement to the existing list. */
  public TextInput withReplacement(TokenReplacement r) {
    List<TokenReplacement> l = new ArrayList<>(replacements);
    l.add(r);
    return withReplacements(l);
  }

  public TextInput withMasks(AttentionMasks m) {
    return new TextInput(tokenIds, embeddings, poolIndex, appended, appendedPositional, replacements, m, readout, adaptor);
  }

  public TextInput withReadout(NDArray positions) {
    return new TextInput(tokenIds, embeddings, poolIndex, appended, appendedPositional, replacements, masks, positions, adaptor);
  }

  public TextInput withAdaptor(BlockAdaptor a) {
    return new TextInput(tokenIds, embeddings, poolIndex, appended, appendedPositional, replacements, masks, readout, a);
  }
}
