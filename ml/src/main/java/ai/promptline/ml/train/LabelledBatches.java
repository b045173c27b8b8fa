package ai.promptline.ml.train;

/** What both batch sources share: the items' labels, and the labels of a batch's sample ids. */
abstract class LabelledBatches implements BatchSource {
  private final int[] labels;

  LabelledBatches(int[] labels) {
    this.labels = labels.clone();
  }

  @Override
  public int size() {
    return labels.length;
  }

  @Override
  public int[] labels() {
    return labels.clone();
  }

  /** The labels of {@code sampleIds}, in batch order. */
  int[] labelsOf(int[] sampleIds) {
    int[] y = new int[sampleIds.length];
    for (int i = 0; i < y.length; i++) y[i] = labels[sampleIds[i]];
    return y;
  }
}
