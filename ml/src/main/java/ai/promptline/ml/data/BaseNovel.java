package ai.promptline.ml.data;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * CoOp's {@code subsample_classes} (methods.md §1.4): the label set is the sorted unique labels of
 * the (few-shot) train list, {@code m = ceil(n/2)}; BASE keeps the first m labels, NEW the rest;
 * kept labels are renumbered to their index in the kept list, items of other classes are dropped,
 * on train, val and test alike.
 */
public final class BaseNovel {
  private BaseNovel() {}

  /** Relabelled splits together with the class names in the new label order. */
  public record Subsampled(Splits splits, List<String> classNames) {
    public Subsampled {
      classNames = List.copyOf(classNames);
    }
  }

  /** Applies the subsample; ALL returns the splits unchanged. */
  public static Splits subsample(Splits splits, Subsample which) {
    return subsampleWithNames(splits, which).splits();
  }

  /** Like {@link #subsample} and also returns the class names indexed by the new labels. */
  public static Subsampled subsampleWithNames(Splits splits, Subsample which) {
    if (which == Subsample.ALL) return new Subsampled(splits, classNames(splits));
    List<Integer> labels = new ArrayList<>(new TreeSet<>(splits.train().stream().map(SplitItem::label).toList()));
    int n = labels.size();
    int m = (n + 1) / 2; // ceil(n / 2)
    List<Integer> selected = which == Subsample.BASE ? labels.subList(0, m) : labels.subList(m, n);
    Map<Integer, Integer> relabel = new HashMap<>();
    for (int i = 0; i < selected.size(); i++) relabel.put(selected.get(i), i);
    Splits out = new Splits(apply(splits.train(), relabel), apply(splits.val(), relabel), apply(splits.test(), relabel));
    return new Subsampled(out, classNames(out));
  }

  private static List<SplitItem> apply(List<SplitItem> items, Map<Integer, Integer> relabel) {
    List<SplitItem> out = new ArrayList<>();
    for (SplitItem it : items) {
      Integer nl = relabel.get(it.label());
      if (nl != null) out.add(it.withLabel(nl));
    }
    return out;
  }

  /**
   * Class names sorted by label (Dassl's {@code get_lab2cname}), taken from train first and, for
   * labels train lacks, from val then test. Fails if a label has two different names or if the
   * labels are not contiguous from 0 (the prompt learner indexes logits by position in this list).
   */
  public static List<String> classNames(Splits splits) {
    Map<Integer, String> names = new TreeMap<>();
    for (List<SplitItem> list : List.of(splits.train(), splits.val(), splits.test())) {
      for (SplitItem it : list) {
        String prev = names.putIfAbsent(it.label(), it.className());
        if (prev != null && !prev.equals(it.className())) {
          throw new IllegalArgumentException(
              "label " + it.label() + " has two class names: '" + prev + "' and '" + it.className() + "' (" + it.relPath() + ")");
        }
      }
    }
    List<String> out = new ArrayList<>();
    int expected = 0;
    for (Map.Entry<Integer, String> e : names.entrySet()) {
      if (e.getKey() != expected) {
        throw new IllegalArgumentException("labels are not contiguous: missing label " + expected);
      }
      out.add(e.getValue());
      expected++;
    }
    return out;
  }
}
