package ai.promptline.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW with PyTorch's semantics ({@code torch.optim.AdamW}, no amsgrad): decoupled weight decay
 * {@code p ← p·(1 − lr·wd)}, then {@code m ← β₁m + (1−β₁)g}, {@code v ← β₂v + (1−β₂)g²} and
 * {@code p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)}, with a step count {@code t} per parameter.
 * As PyTorch, a parameter without a gradient is skipped entirely (no decay, no step); state is
 * keyed by parameter name, so checkpoints survive a change of parameter order. The optimiser of
 * CLIP's contrastive recipe (Radford et al. 2021: β = (0.9, 0.98), ε = 1e-6, wd = 0.2).
 */
public final class AdamW {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final Map<String, NDArray[]> moments = new LinkedHashMap<>();
  private final Map<String, Long> steps = new LinkedHashMap<>();

  public AdamW(double beta1, double beta2, double eps, double weightDecay) {
    if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("betas must be in [0, 1)");
    if (!(eps > 0)) throw new IllegalArgumentException("eps must be > 0");
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** One update of every parameter that has a gradient. Call outside the gradient collector. */
  public void step(Map<String, NDArray> params, double lr) {
    for (Map.Entry<String, NDArray> e : params.entrySet()) {
      NDArray p = e.getValue();
      NDArray g = Sgd.gradientOrNull(p);
      if (g == null) continue;
      long t = steps.merge(e.getKey(), 1L, Long::sum);
      NDArray[] mv = moments.get(e.getKey());
      if (mv == null) {
        mv = new NDArray[] {p.getManager().zeros(p.getShape(), p.getDataType()), p.getManager().zeros(p.getShape(), p.getDataType())};
        for (NDArray a : mv) {
          a.attach(p.getManager());
          ai.djl.ndarray.NDScope.unregister(a);
        }
        moments.put(e.getKey(), mv);
      }
      NDArray data = p.stopGradient(); // same storage, outside autograd
      if (weightDecay != 0) data.muli((float) (1 - lr * weightDecay));
      // temporaries closed here: they live in the parameter's (long-lived) manager
      try (NDArray g1 = g.mul((float) (1 - beta1)); NDArray g2 = g.mul(g).muli((float) (1 - beta2))) {
        mv[0].muli((float) beta1).addi(g1);
        mv[1].muli((float) beta2).addi(g2);
      }
      double bc1 = 1 - Math.pow(beta1, t);
      double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
      try (NDArray denom = mv[1].sqrt().divi((float) bc2Sqrt).addi((float) eps);
          NDArray update = mv[0].div(denom).muli((float) (lr / bc1))) {
        data.subi(update);
      }
      data.close();
      g.close();
      Sgd.zeroGradient(p);
    }
  }

  /** Moments and step counts for checkpoints: {@code adamw.m.<name>}, {@code adamw.v.<name>}, {@code adamw.t.<name>}. */
  public Map<String, NDArray> state(NDManager manager) {
    Map<String, NDArray> s = new LinkedHashMap<>();
    moments.forEach((k, mv) -> {
      s.put("adamw.m." + k, mv[0]);
      s.put("adamw.v." + k, mv[1]);
      s.put("adamw.t." + k, manager.create(new long[] {steps.get(k)}));
    });
    return s;
  }

  /** Restores {@link #state}. */
  public void load(Map<String, NDArray> state, NDManager manager) {
    moments.values().forEach(mv -> {
      mv[0].close();
      mv[1].close();
    });
    moments.clear();
    steps.clear();
    for (Map.Entry<String, NDArray> e : state.entrySet()) {
      if (!e.getKey().startsWith("adamw.m.")) continue;
      String name = e.getKey().substring("adamw.m.".length());
      NDArray v = state.get("adamw.v." + name);
      NDArray t = state.get("adamw.t." + name);
      if (v == null || t == null) throw new IllegalArgumentException("AdamW state for '" + name + "' is incomplete");
      NDArray[] mv = {e.getValue().duplicate(), v.duplicate()};
      for (NDArray a : mv) {
        a.attach(manager);
        ai.djl.ndarray.NDScope.unregister(a);
      }
      moments.put(name, mv);
      steps.put(name, t.toLongArray()[0]);
    }
  }
}
