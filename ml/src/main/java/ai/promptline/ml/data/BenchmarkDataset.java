package ai.promptline.ml.data;

import java.nio.file.Path;
import java.util.List;

/**
 * A validated benchmark dataset: its full splits (paths relative to {@link #imageRoot()}), class
 * names in label order, CoOp's hand-written prompt template and a content fingerprint. Obtain one
 * with {@link Datasets#open(String, Path)}; every image listed has been checked to exist.
 *
 * @param name canonical dataset name (CoOp's {@code DATASET.NAME}, e.g. {@code EuroSAT})
 * @param root dataset folder
 * @param imageRoot folder the split paths are relative to
 * @param splits full train/val/test lists
 * @param classNames class names indexed by label
 * @param template prompt template with one {@code {}} (methods.md §1.1 / CoOp CUSTOM_TEMPLATES)
 * @param fingerprint {@link Fingerprint} of splits and files
 * @param fewShotValFromTest true for ImageNet-style datasets whose val is the test set: only train is
 *     few-shot sampled (CoOp's imagenet.py)
 */
public record BenchmarkDataset(
    String name,
    Path root,
    Path imageRoot,
    Splits splits,
    List<String> classNames,
    String template,
    String fingerprint,
    boolean fewShotValFromTest) {
  public BenchmarkDataset {
    classNames = List.copyOf(classNames);
  }

  /** The few-shot, class-subsampled view a training or evaluation run uses. */
  public record Prepared(
      List<Datum> train, List<Datum> val, List<Datum> test, List<String> classNames, String template) {
    public Prepared {
      train = List.copyOf(train);
      val = List.copyOf(val);
      test = List.copyOf(test);
      classNames = List.copyOf(classNames);
    }
  }

  public List<Datum> train() {
    return resolve(splits.train());
  }

  public List<Datum> val() {
    return resolve(splits.val());
  }

  public List<Datum> test() {
    return resolve(splits.test());
  }

  /** Resolves split items against the image root. */
  public List<Datum> resolve(List<SplitItem> items) {
    return items.stream().map(it -> it.resolve(imageRoot)).toList();
  }

  /**
   * The benchmark protocol of methods.md §1.3–1.4: few-shot sampling with {@code shots} and
   * {@code seed} (shots &lt; 1 = all data), then base/novel subsampling with relabelling.
   */
  public Prepared prepare(int shots, long seed, Subsample subsample) {
    Splits fs = fewShotValFromTest ? FewShot.trainOnly(splits, shots, seed) : FewShot.trainVal(splits, shots, seed);
    BaseNovel.Subsampled sub = BaseNovel.subsampleWithNames(fs, subsample);
    Splits s = sub.splits();
    return new Prepared(resolve(s.train()), resolve(s.val()), resolve(s.test()), sub.classNames(), template);
  }

  /** CoOp-family prompt for a class: the template with {@code _} in the name replaced by spaces. */
  public String prompt(String className) {
    return template.replace("{}", className.replace('_', ' '));
  }
}
