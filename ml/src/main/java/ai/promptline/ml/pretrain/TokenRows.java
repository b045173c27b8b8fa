package ai.promptline.ml.pretrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The rows of the 49,408 × W token embedding that a corpus can reach, trained as a compact
 * {@code [U, W]} table. Exactly equivalent to training the full table: a row no caption contains
 * gets a zero gradient, and with AdamW a zero gradient on zero moments is a zero update (its decay
 * of a zero row is zero too), so those rows would stay at their initial zero anyway. What it saves
 * is a dense 49,408-row gradient and six optimiser passes over it every step. Id 0 (the padding
 * token) is always a row: padding positions follow EOT and, under the causal mask, get no gradient.
 */
final class TokenRows {
  static final String NAME = "token_embedding.rows";
  private final int[] ids;
  private final int[] compactOf;

  TokenRows(BitSet used, int vocab) {
    BitSet all = (BitSet) used.clone();
    all.set(0);
    ids = all.stream().toArray();
    compactOf = new int[vocab];
    Arrays.fill(compactOf, -1);
    for (int i = 0; i < ids.length; i++) compactOf[ids[i]] = i;
  }

  int size() {
    return ids.length;
  }

  /** Token ids → compact row ids; a token outside the corpus's rows is a bug in the corpus. */
  long[][] compactIds(int[][] tokens) {
    long[][] out = new long[tokens.length][];
    for (int i = 0; i < tokens.length; i++) {
      out[i] = new long[tokens[i].length];
      for (int j = 0; j < tokens[i].length; j++) {
        int c = compactOf[tokens[i][j]];
        if (c < 0) throw new IllegalStateException("token " + tokens[i][j] + " is not among the corpus's embedding rows");
        out[i][j] = c;
      }
    }
    return out;
  }

  /** The used rows of {@code table} as a new {@code [U, W]} array. */
  NDArray gather(NDArray table, NDManager manager) {
    int w = (int) table.getShape().get(1);
    float[] full = table.toFloatArray();
    float[] out = new float[ids.length * w];
    for (int i = 0; i < ids.length; i++) System.arraycopy(full, ids[i] * w, out, i * w, w);
    return manager.create(out, new Shape(ids.length, w));
  }

  /** Writes the compact rows back into {@code table} (in place). */
  void scatter(NDArray compact, NDArray table) {
    int w = (int) table.getShape().get(1);
    float[] full = table.toFloatArray();
    float[] rows;
    try (NDArray d = compact.stopGradient()) {
      rows = d.toFloatArray();
    }
    for (int i = 0; i < ids.length; i++) System.arraycopy(rows, i * w, full, ids[i] * w, w);
    try (NDArray src = table.getManager().create(full, table.getShape())) {
      table.set(new ai.djl.ndarray.index.NDIndex("..."), src);
    }
  }
}
