package ai.promptline.ml.train;

import ai.djl.ndarray.*;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.*;
import ai.promptline.ml.methods.*;
import ai.promptline.ml.train.*;
import java.util.*;
import org.junit.jupiter.api.Test;

/**
 * Reproduces a known issue (see FeatureTrainer#forwardBackward): repeated forward/backward passes
 * with identical inputs occasionally give a NaN or ~1e20 gradient. Disabled because it fails by
 * design until the cause (suspected: a freed buffer read by autograd) is found; run it with
 * {@code -Dtest=KnownIssueBackwardGarbageTest -Djunit.jupiter.conditions.deactivate=*}.
 */
class KnownIssueBackwardGarbageTest {
  @Test
  @org.junit.jupiter.api.Disabled("known issue: sporadic garbage gradients; FeatureTrainer recomputes such steps")
  void repeatedBackward_givesIdenticalFiniteGradients() {
    int bad = 0;
    String mode = "bwd";
    try (NDManager mm = NDManager.newBaseManager()) {
      ClipModel clip = ClipModel.random(ClipConfig.tinyVit(), 20261123L, mm);
      List<String> names = List.of("red circle", "blue square", "green triangle", "yellow cross", "purple ring");
      try (NDManager m = NDManager.newBaseManager();
          PromptMethod coop = Methods.create("coop", new MethodContext(clip, ClipTokenizer.getDefault(), m, new MethodOptions(4, "a photo of a"), 1))) {
        NDArray fb = Features.normalize(m.create(new float[32], new Shape(1, 32)).add(1f));
        var head = coop.bind(new ClassSet(names, "a photo of a {}."));
        NDArray ctx = coop.parameters().get(0);
        float[] ref = null;
        for (int step = 0; step < 2000; step++) {
          try (NDScope sc = new NDScope()) {
            float[] lg;
            if (mode.equals("fwd")) {
              lg = head.logits(fb).toFloatArray();
            } else {
              try (var gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                NDArray l = head.logits(fb);
                lg = l.toFloatArray();
                gc.backward(FeatureTrainer.crossEntropy(l, m.create(new int[] {0}), 5));
              }
              NDArray g = ctx.getGradient();
              float[] gv = g.toFloatArray();
              for (float v : gv) if (!Float.isFinite(v) || Math.abs(v) > 1e3) { System.out.println("step " + step + " bad grad " + v); bad++; break; }
              g.subi(g);
            }
            if (ref == null) ref = lg;
            else if (!Arrays.equals(ref, lg)) { bad++; System.out.println("step " + step + " differs: " + Arrays.toString(lg) + " vs " + Arrays.toString(ref)); }
            sc.suppressNotUsedWarning();
          }
          if (bad > 3) break;
        }
        head.close();
      }
    }
    System.out.println("bad: " + bad);
    if (bad > 0) throw new AssertionError(bad + " bad");
  }
}
