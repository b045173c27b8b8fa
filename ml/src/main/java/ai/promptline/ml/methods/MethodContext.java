package ai.promptline.ml.methods;

import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import java.util.List;

/**
 * What a method is built from: the frozen CLIP, its tokenizer, the manager that owns the method's
 * tensors, method options and the run seed (for random initialisation); plus, for the methods that
 * need them, the further frozen expert encoders a run names ({@code prismer}) and the training set
 * it learns per-image parameters for ({@code instance}).
 *
 * @param experts further frozen image encoders, in the order the run lists them (empty for most methods)
 * @param training the run's training items (class names and one label per sample id), or null when the
 *     caller has none (probes of methods that do not need it)
 */
public record MethodContext(
    ClipModel clip,
    ClipTokenizer tokenizer,
    NDManager manager,
    MethodOptions options,
    long seed,
    List<Expert> experts,
    TrainingSet training) {

  public MethodContext {
    experts = experts == null ? List.of() : List.copyOf(experts);
  }

  /** A context without experts or training set (every method but {@code prismer} and {@code instance}). */
  public MethodContext(ClipModel clip, ClipTokenizer tokenizer, NDManager manager, MethodOptions options, long seed) {
    this(clip, tokenizer, manager, options, seed, List.of(), null);
  }

  /** This context with a training set. */
  public MethodContext withTraining(TrainingSet t) {
    return new MethodContext(clip, tokenizer, manager, options, seed, experts, t);
  }

  /** This context with expert encoders. */
  public MethodContext withExperts(List<Expert> e) {
    return new MethodContext(clip, tokenizer, manager, options, seed, e, training);
  }

  /** The training set, or a clear error for a method that needs one. */
  public TrainingSet requireTraining(String method) {
    if (training == null)
      throw new IllegalArgumentException("method '" + method + "' learns per-image parameters and needs the run's training set");
    return training;
  }

  /** A frozen expert image encoder: the name the run gives it and the loaded model. */
  public record Expert(String name, ClipModel model) {}

  /**
   * The items a run trains on.
   *
   * @param classNames the training label space
   * @param labels the label of every training item, indexed by sample id
   */
  public record TrainingSet(List<String> classNames, int[] labels) {
    public TrainingSet {
      classNames = List.copyOf(classNames);
      labels = labels.clone();
      for (int y : labels)
        if (y < 0 || y >= classNames.size()) throw new IllegalArgumentException("label " + y + " outside " + classNames.size() + " classes");
    }

    public int size() {
      return labels.length;
    }

    /** How many training items class {@code c} has. */
    public int count(int c) {
      int n = 0;
      for (int y : labels) if (y == c) n++;
      return n;
    }
  }
}
