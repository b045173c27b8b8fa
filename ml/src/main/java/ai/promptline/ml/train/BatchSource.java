package ai.promptline.ml.train;

import ai.djl.ndarray.NDManager;

/**
 * Where batches come from: cached frozen features ({@link FeatureBatches}) or decoded, augmented
 * pixels ({@link PixelBatches}). The trainer and the evaluator iterate sample ids in
 * {@link EpochOrder}; a source only materialises the batch for given ids and epoch.
 */
public interface BatchSource extends AutoCloseable {
  /** Number of items. */
  int size();

  /** Label of every item, in item order. */
  int[] labels();

  /** The batch of items {@code sampleIds} as epoch {@code epoch} sees them; arrays belong to {@code manager}. */
  Batch batch(int epoch, int[] sampleIds, NDManager manager);

  @Override
  default void close() {}
}
