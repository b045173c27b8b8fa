package ai.promptline.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD with PyTorch's semantics ({@code torch.optim.SGD}, dampening 0, no Nesterov), which Dassl
 * uses: {@code g ← g + wd·p; buf ← g (first step) else momentum·buf + g; p ← p − lr·buf}.
 * DJL's own SGD folds the learning rate into the buffer (MXNet style), which differs whenever the
 * learning rate changes, so it is not used.
 */
public final class Sgd {
  private final double momentum;
  private final double weightDecay;
  private final List<NDArray> buffers = new ArrayList<>();

  public Sgd(double momentum, double weightDecay) {
    this.momentum = momentum;
    this.weightDecay = weightDecay;
  }

  /** Updates every parameter in place from its gradient. Call outside the gradient collector. */
  public void step(List<NDArray> params, double lr) {
    for (int i = 0; i < params.size(); i++) {
      NDArray p = params.get(i);
      NDArray g = p.getGradient().add(p.mul(weightDecay));
      if (momentum != 0) {
        if (buffers.size() <= i) {
          NDArray buf = g.duplicate();
          ai.djl.ndarray.NDScope.unregister(buf); // lives as long as the optimiser, not the step
          buffers.add(buf);
          g.close();
          g = buf;
        } else {
          NDArray buf = buffers.get(i);
          buf.muli(momentum).addi(g);
          g.close();
          g = buf;
        }
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
    NDArray grad = p.getGradient();
    grad.set(new ai.djl.ndarray.index.NDIndex("..."), 0f);
    grad.close();
  }

  /** Momentum buffers, for checkpoints: {@code momentum.<i>}. */
  public Map<String, NDArray> state() {
    Map<String, NDArray> s = new LinkedHashMap<>();
    for (int i = 0; i < buffers.size(); i++) s.put("optim.momentum." + i, buffers.get(i));
    return s;
  }

  public void load(Map<String, NDArray> state, NDManager manager) {
    buffers.forEach(NDArray::close);
    buffers.clear();
    for (int i = 0; state.containsKey("optim.momentum." + i); i++) {
      NDArray b = state.get("optim.momentum." + i).duplicate();
      b.attach(manager);
      ai.djl.ndarray.NDScope.unregister(b);
      buffers.add(b);
    }
  }
}
