package ai.promptline.ml.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Few-shot subsets exactly as Dassl's {@code generate_fewshot_dataset} makes them (methods.md §1.3):
 * items are grouped by label in order of first appearance; a class with at least K items
 * contributes {@code random.sample(items, K)} (in sampling order), a smaller class contributes all
 * its items in their original order; the result is the concatenation over classes.
 */
public final class FewShot {
  private FewShot() {}

  /** Samples K items per class from {@code items}, drawing from {@code rng}; K < 1 returns all items. */
  public static List<SplitItem> sample(List<SplitItem> items, int k, PyRandom rng) {
    if (k < 1) return List.copyOf(items);
    Map<Integer, List<SplitItem>> byLabel = new LinkedHashMap<>();
    for (SplitItem it : items) byLabel.computeIfAbsent(it.label(), l -> new ArrayList<>()).add(it);
    List<SplitItem> out = new ArrayList<>();
    for (List<SplitItem> group : byLabel.values()) {
      out.addAll(group.size() >= k ? rng.sample(group, k) : group);
    }
    return List.copyOf(out);
  }

  /**
   * CoOp's dataset constructor: a fresh generator seeded with {@code seed} (Dassl's
   * {@code set_random_seed}), train sampled with K shots, then val with {@code min(K, 4)} shots from
   * the same stream; test is kept whole. {@code shots < 1} returns the splits unchanged.
   */
  public static Splits trainVal(Splits splits, int shots, long seed) {
    if (shots < 1) return splits;
    PyRandom rng = new PyRandom(seed);
    List<SplitItem> train = sample(splits.train(), shots, rng);
    List<SplitItem> val = sample(splits.val(), Math.min(shots, 4), rng);
    return new Splits(train, val, splits.test());
  }

  /** ImageNet variant: only train is sampled, val stays as given (CoOp's imagenet.py uses val = test). */
  public static Splits trainOnly(Splits splits, int shots, long seed) {
    if (shots < 1) return splits;
    return new Splits(sample(splits.train(), shots, new PyRandom(seed)), splits.val(), splits.test());
  }
}
