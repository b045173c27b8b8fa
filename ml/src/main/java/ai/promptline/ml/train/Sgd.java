package ai.promptline.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD with PyTorch's semantics ({@code torch.optim.SGD}, dampening 0, no Nesterov), which Dassl
 * uses: {@code g ← g + wd·p; buf ← g (first step) else momentum·buf + g; p ← p − lr·buf}.
 * Parameters without a gradient are skipped, as {@code torch.optim.SGD} skips {@code grad is None}
 * (no weight decay, no momentum). State is keyed by parameter name. DJL's own SGD folds the
 * learning rate into the buffer (MXNet style), which differs whenever the learning rate changes.
 */
public final class Sgd {
  private final double momentum;
  private final double weightDecay;
  private final Map<String, NDArray> buffers = new LinkedHashMap<>();

  public Sgd(double momentum, double weightDecay) {
    this.momentum = momentum;
    this.weightDecay = weightDecay;
  }

  /**
   * The gradient PyTorch holds for {@code p}, or null when it has none (never reached by a backward
   * pass). DJL's {@code getGradient()} returns zeros in that case, which would not be skipped.
   */
  public static NDArray gradientOrNull(NDArray p) {
    if (p instanceof PtNDArray pt) return JniUtils.getGradient(pt);
    return p.getGradient();
  }

  /** Updates every parameter that has a gradient in place. Call outside the gradient collector. */
  public void step(Map<String, NDArray> params, double lr) {
    for (Map.Entry<String, NDArray> e : params.entrySet()) {
      NDArray p = e.getValue();
      NDArray grad = gradientOrNull(p);
      if (grad == null) continue;
      NDArray g;
      try (NDArray decayTerm = p.mul(weightDecay)) { // closed: it lives in the parameter's manager
        g = grad.add(decayTerm);
      }
      grad.close();
      if (momentum != 0) {
        NDArray buf = buffers.get(e.getKey());
        if (buf == null) {
          buf = g.duplicate();
          ai.djl.ndarray.NDScope.unregister(buf); // lives as long as the optimiser, not the step
          buf.attach(p.getManager());
          buffers.put(e.getKey(), buf);
        } else {
          buf.muli(momentum).addi(g);
        }
        g.close();
        g = buf;
      }
      NDArray delta = g.mul(lr);
      NDArray data = p.stopGradient(); // same storage, outside autograd: PyTorch forbids in-place ops on a grad leaf
      data.subi(delta);
      data.close();
      delta.close();
      if (momentum == 0) g.close();
      zeroGradient(p); // PyTorch accumulates into .grad: clear it for the next step
    }
  }

  /** Sets a parameter's gradient to exactly zero (a fill, so a NaN cannot survive as NaN − NaN). */
  public static void zeroGradient(NDArray p) {
    NDArray grad = gradientOrNull(p);
    if (grad == null) return;
    grad.set(new ai.djl.ndarray.index.NDIndex("..."), 0f);
    grad.close();
  }

  /** Momentum buffers, for checkpoints: {@code optim.momentum.<parameter name>}. */
  public Map<String, NDArray> state() {
    Map<String, NDArray> s = new LinkedHashMap<>();
    buffers.forEach((k, v) -> s.put("optim.momentum." + k, v));
    return s;
  }

  /**
   * Restores {@link #state()}; checkpoints written before state was keyed by name
   * ({@code optim.momentum.<i>}) map to the parameters in order.
   */
  public void load(Map<String, NDArray> state, Map<String, NDArray> params, NDManager manager) {
    buffers.values().forEach(NDArray::close);
    buffers.clear();
    List<String> names = new ArrayList<>(params.keySet());
    for (int i = 0; i < names.size(); i++) {
      NDArray b = state.get("optim.momentum." + names.get(i));
      if (b == null) b = state.get("optim.momentum." + i);
      if (b == null) continue;
      NDArray copy = b.duplicate();
      copy.attach(manager);
      ai.djl.ndarray.NDScope.unregister(copy);
      buffers.put(names.get(i), copy);
    }
  }
}
