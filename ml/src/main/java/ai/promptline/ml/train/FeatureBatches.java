package ai.promptline.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Batches of cached frozen image features {@code [V, N, E]} (L2-normalised, or un-normalised for
 * {@code RAW_FEATURES} methods; served as given): epoch {@code e} reads
 * augmented view {@code e mod V}; a 2-D {@code [N, E]} array is one view (test features).
 */
public final class FeatureBatches extends LabelledBatches {
  private final NDArray features;
  private final int views;

  /** @param normalizedFeatures the features as the method's batches carry them (see {@link Batch#features}) */
  public FeatureBatches(NDArray normalizedFeatures, int[] labels) {
    super(labels);
    NDArray f = normalizedFeatures.getShape().dimension() == 2 ? normalizedFeatures.expandDims(0) : normalizedFeatures;
    Shape s = f.getShape();
    if (s.dimension() != 3 || s.get(1) != labels.length) {
      throw new IllegalArgumentException("features " + normalizedFeatures.getShape() + " do not fit " + labels.length + " labels");
    }
    this.features = f;
    this.views = (int) s.get(0);
  }

  @Override
  public Batch batch(int epoch, int[] sampleIds, NDManager manager) {
    int[] y = labelsOf(sampleIds);
    NDArray idx = manager.create(sampleIds);
    NDArray view = features.get(epoch % views);
    NDArray f = view.get(idx);
    f.attach(manager);
    view.close();
    idx.close();
    return new Batch(epoch, sampleIds.clone(), y, manager.create(y), f, null);
  }
}
