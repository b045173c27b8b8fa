package ai.promptline.ml.data;

/**
 * Parameters of a generated dataset (see {@link SyntheticDataset}).
 *
 * @param name dataset name; the split file is {@code split_promptline_<name>.json}
 * @param numClasses number of classes, 1..{@link SyntheticDataset#MAX_CLASSES}
 * @param trainPerClass train images per class
 * @param valPerClass val images per class
 * @param testPerClass test images per class
 * @param imageSize side of the generated images (each image varies its aspect ratio around it)
 * @param seed generation seed: same spec, same bytes on disk
 */
public record SyntheticSpec(
    String name, int numClasses, int trainPerClass, int valPerClass, int testPerClass, int imageSize, long seed) {
  public SyntheticSpec {
    if (name == null || !name.matches("[A-Za-z0-9_-]+")) {
      throw new IllegalArgumentException("synthetic dataset name must match [A-Za-z0-9_-]+, got '" + name + "'");
    }
    if (numClasses < 1 || numClasses > SyntheticDataset.MAX_CLASSES) {
      throw new IllegalArgumentException("numClasses must be in 1.." + SyntheticDataset.MAX_CLASSES + ", got " + numClasses);
    }
    if (trainPerClass < 0 || valPerClass < 0 || testPerClass < 0) {
      throw new IllegalArgumentException("images per class must be >= 0");
    }
    if (imageSize < 8 || imageSize > 1024) {
      throw new IllegalArgumentException("imageSize must be in 8..1024, got " + imageSize);
    }
  }

  /** 10 classes, 16 train / 4 val / 8 test per class, 64 px, seed 0. */
  public static SyntheticSpec defaults() {
    return new SyntheticSpec("Synthetic", 10, 16, 4, 8, 64, 0);
  }

  public SyntheticSpec withName(String n) {
    return new SyntheticSpec(n, numClasses, trainPerClass, valPerClass, testPerClass, imageSize, seed);
  }

  public SyntheticSpec withClasses(int n) {
    return new SyntheticSpec(name, n, trainPerClass, valPerClass, testPerClass, imageSize, seed);
  }

  public SyntheticSpec withPerClass(int train, int val, int test) {
    return new SyntheticSpec(name, numClasses, train, val, test, imageSize, seed);
  }

  public SyntheticSpec withImageSize(int s) {
    return new SyntheticSpec(name, numClasses, trainPerClass, valPerClass, testPerClass, s, seed);
  }

  public SyntheticSpec withSeed(long s) {
    return new SyntheticSpec(name, numClasses, trainPerClass, valPerClass, testPerClass, imageSize, s);
  }
}
