package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Loading learned tensors by name into a method's parameters. */
public final class StateDicts {
  private StateDicts() {}

  /**
   * Prefixes under which reference checkpoints hold a method's tensors: Dassl saves the state dict
   * of the module a trainer registers, the prompt learner (CoOp, CoCoOp, RPO: {@code ctx}) or the
   * whole model (MaPLe: {@code prompt_learner.ctx}); DataParallel adds {@code module.}.
   */
  private static final String[] PREFIXES = {"", "prompt_learner.", "module.", "module.prompt_learner."};

  /**
   * Copies {@code state[name]} into every parameter. Other entries of {@code state} (buffers such
   * as {@code token_prefix}, the frozen CLIP a whole-model checkpoint carries, optimiser state) are
   * ignored.
   *
   * @throws IllegalArgumentException naming every missing or mis-shaped tensor
   */
  public static void load(String method, Map<String, NDArray> parameters, Map<String, NDArray> state) {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, NDArray> p : parameters.entrySet()) {
      NDArray v = find(state, p.getKey());
      if (v == null) {
        problems.add("missing '" + p.getKey() + "' " + p.getValue().getShape());
      } else if (!v.getShape().equals(p.getValue().getShape())) {
        problems.add("'" + p.getKey() + "' has shape " + v.getShape() + ", the model's is " + p.getValue().getShape());
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(method + " state does not fit the model: " + String.join("; ", problems)
          + " (tensors found: " + abbreviate(state) + ")");
    }
    for (Map.Entry<String, NDArray> p : parameters.entrySet()) copyInto(p.getValue(), find(state, p.getKey()));
  }

  private static NDArray find(Map<String, NDArray> state, String name) {
    for (String prefix : PREFIXES) {
      NDArray v = state.get(prefix + name);
      if (v != null) return v;
    }
    return null;
  }

  /**
   * Writes {@code value} into the storage of {@code parameter} (an indexed assignment into the
   * detached view; {@code NDArray.set(Buffer)} would give the view a new storage).
   */
  public static void copyInto(NDArray parameter, NDArray value) {
    NDArray src = value.getDataType() == DataType.FLOAT32 ? value.duplicate() : value.toType(DataType.FLOAT32, true);
    NDArray data = parameter.stopGradient();
    data.set(new NDIndex("..."), src);
    data.close();
    src.close();
  }

  private static String abbreviate(Map<String, NDArray> state) {
    List<String> names = new ArrayList<>(state.keySet());
    return names.size() <= 6 ? names.toString() : names.subList(0, 6) + " … (" + names.size() + ")";
  }
}
