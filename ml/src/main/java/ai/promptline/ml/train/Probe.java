package ai.promptline.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.PromptMethod;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A few optimiser steps on one fixed batch, recording what parity with the reference code needs
 * (the {@code method probe} command and the method goldens): SGD with momentum 0.9 and weight decay
 * 5e-4 at a constant learning rate, cross-entropy (or the method's loss), the model in eval mode.
 */
public final class Probe {
  /** Loss and logits before an update, and the gradients it applied (empty after the last). */
  public record Step(double loss, float[][] logits, Map<String, float[]> gradients) {}

  private Probe() {}

  public static List<Step> run(PromptMethod method, ClassSet classes, Batch batch, double lr, int steps) {
    Map<String, NDArray> params = method.parameters();
    Sgd sgd = new Sgd(0.9, 5e-4);
    List<Step> out = new ArrayList<>();
    try (PromptMethod.Head head = method.bind(classes)) {
      for (int s = 0; s <= steps; s++) {
        try (NDManager m = batch.target().getManager().newSubManager()) {
          if (s == steps) {
            NDArray logits = head.trainingLogits(batch);
            out.add(new Step(head.loss(logits, batch).getFloat(), rows(logits), Map.of()));
            break;
          }
          RecordingHead rec = new RecordingHead(head);
          PromptTrainer.Step r = PromptTrainer.forwardBackward(rec, batch, params, 0);
          Map<String, float[]> grads = new LinkedHashMap<>();
          for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray g = Sgd.gradientOrNull(e.getValue());
            if (g != null) {
              grads.put(e.getKey(), g.toFloatArray());
              g.close();
            }
          }
          out.add(new Step(r.loss(), rec.last, grads));
          sgd.step(params, lr);
        }
      }
    }
    return out;
  }

  private static float[][] rows(NDArray logits) {
    int b = (int) logits.getShape().get(0);
    int c = (int) logits.getShape().get(1);
    float[] flat = logits.toFloatArray();
    float[][] out = new float[b][c];
    for (int i = 0; i < b; i++) System.arraycopy(flat, i * c, out[i], 0, c);
    return out;
  }

  /** Keeps the logits of the forward pass that produced the gradients. */
  private static final class RecordingHead implements PromptMethod.Head {
    private final PromptMethod.Head head;
    float[][] last;

    RecordingHead(PromptMethod.Head head) {
      this.head = head;
    }

    @Override
    public NDArray logits(Batch batch) {
      NDArray l = head.logits(batch);
      last = rows(l);
      return l;
    }

    @Override
    public NDArray trainingLogits(Batch batch) {
      NDArray l = head.trainingLogits(batch);
      last = rows(l);
      return l;
    }

    @Override
    public NDArray loss(NDArray logits, Batch batch) {
      return head.loss(logits, batch);
    }
  }
}
