package ai.promptline.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Sgd}, {@link LrSchedule} and {@link PromptTrainer#crossEntropy} against values computed by
 * PyTorch (tools/golden/train_golden.py → golden/train/train.json) and the examples of methods.md §1.7.
 */
class SgdGoldenTest {
  private static JsonNode golden;
  private static NDManager manager;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in = SgdGoldenTest.class.getResourceAsStream("/golden/train/train.json")) {
      golden = new ObjectMapper().readTree(in);
    }
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  private static float[] floats(JsonNode a) {
    float[] f = new float[a.size()];
    for (int i = 0; i < f.length; i++) f[i] = (float) a.get(i).asDouble();
    return f;
  }

  private static Shape shape(JsonNode s) {
    long[] d = new long[s.size()];
    for (int i = 0; i < d.length; i++) d[i] = s.get(i).asLong();
    return new Shape(d);
  }

  @Test
  void sgd_matchesTorchSgd_withLrChangedBetweenSteps() {
    int checked = 0;
    for (JsonNode c : golden.get("sgd")) {
      try (NDManager m = manager.newSubManager()) {
        int k = c.get("shapes").size();
        List<NDArray> params = new ArrayList<>();
        List<NDArray> targets = new ArrayList<>();
        List<NDArray> curv = new ArrayList<>();
        for (int i = 0; i < k; i++) {
          Shape s = shape(c.get("shapes").get(i));
          NDArray p = m.create(floats(c.get("init").get(i)), s);
          p.setRequiresGradient(true);
          params.add(p);
          targets.add(m.create(floats(c.get("target").get(i)), s));
          curv.add(m.create(floats(c.get("curvature").get(i)), s));
        }
        Sgd sgd = new Sgd(c.get("momentum").asDouble(), c.get("weight_decay").asDouble());
        int step = 0;
        for (JsonNode st : c.get("steps")) {
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = null;
            for (int i = 0; i < k; i++) {
              NDArray d = params.get(i).sub(targets.get(i));
              NDArray term = curv.get(i).mul(0.5f).mul(d.mul(d)).sum(); // no mul/pow(Number) on the graph: see Numerics.scale
              loss = loss == null ? term : loss.add(term);
            }
            assertEquals(st.get("loss").asDouble(), loss.getFloat(), 1e-5 * Math.max(1, Math.abs(st.get("loss").asDouble())),
                "loss before step " + step);
            gc.backward(loss);
          }
          sgd.step(named(params), st.get("lr").asDouble());
          for (int i = 0; i < k; i++) {
            float[] expected = floats(st.get("params").get(i));
            float[] actual = params.get(i).toFloatArray();
            for (int j = 0; j < expected.length; j++) {
              assertEquals(expected[j], actual[j], 1e-6,
                  "momentum " + c.get("momentum") + " step " + step + " param " + i + "[" + j + "]");
              checked++;
            }
          }
          step++;
        }
      }
    }
    assertTrue(checked >= 3 * 8 * 10, "golden file had too few values: " + checked);
  }

  @Test
  void sgd_stepClearsGradient_soTheNextBackwardDoesNotAccumulate() {
    try (NDManager m = manager.newSubManager()) {
      NDArray p = m.create(new float[] {1f, -2f});
      p.setRequiresGradient(true);
      Sgd sgd = new Sgd(0, 0);
      for (int i = 0; i < 2; i++) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          gc.backward(ai.promptline.ml.clip.Numerics.scale(p, 3f).sum()); // gradient 3 each time
        }
        sgd.step(java.util.Map.of("p", p), 0.5);
      }
      // two plain steps of 0.5·3: accumulation would give 1 − 1.5 − 3 = −3.5 instead
      assertEquals(-2f, p.toFloatArray()[0], 1e-6);
      assertEquals(-5f, p.toFloatArray()[1], 1e-6);
    }
  }

  @Test
  void schedule_matchesDasslWarmupWrappingTorchCosine() {
    for (JsonNode c : golden.get("schedule")) {
      LrSchedule s = new LrSchedule(c.get("base_lr").asDouble(), c.get("epochs").asInt(), c.get("warmup").asInt(),
          c.get("cons_lr").asDouble());
      JsonNode lrs = c.get("lrs");
      assertEquals(s.epochs(), lrs.size());
      for (int e = 0; e < lrs.size(); e++)
        assertEquals(lrs.get(e).asDouble(), s.lr(e), 1e-12, "T=" + s.epochs() + " epoch " + e);
    }
  }

  @Test
  void schedule_methodsMdExamples() {
    // epoch 0 warm-up, epoch 1 the base LR, cosine stepped once per epoch and never reaching 0
    LrSchedule cocoop = new LrSchedule(0.002, 10, 1, 1e-5);
    assertEquals(1e-5, cocoop.lr(0), 0);
    assertEquals(0.002, cocoop.lr(1), 1e-15);
    assertEquals(1.91e-4, cocoop.lr(9), 0.005e-4);
    assertEquals(1.209e-3, new LrSchedule(0.0035, 5, 1, 1e-5).lr(4), 0.0005e-3);
    assertEquals(4.32e-4, new LrSchedule(0.01, 15, 1, 1e-5).lr(14), 0.005e-4);
    // closed form of §1.7 for every epoch of a CoOp run
    LrSchedule coop = new LrSchedule(0.002, 200, 1, 1e-5);
    for (int e = 1; e < 200; e++)
      assertEquals(0.5 * 0.002 * (1 + Math.cos(Math.PI * (e - 1) / 200)), coop.lr(e), 1e-18, "epoch " + e);
    for (int e = 2; e < 200; e++) assertTrue(coop.lr(e) < coop.lr(e - 1), "cosine decreases at epoch " + e);
    assertTrue(coop.lr(199) > 0);
  }

  @Test
  void crossEntropy_matchesTorch_valueAndGradient() {
    JsonNode c = golden.get("cross_entropy");
    JsonNode rows = c.get("logits");
    int b = rows.size();
    int classes = rows.get(0).size();
    float[] flat = new float[b * classes];
    for (int i = 0; i < b; i++) System.arraycopy(floats(rows.get(i)), 0, flat, i * classes, classes);
    int[] target = new int[b];
    for (int i = 0; i < b; i++) target[i] = c.get("target").get(i).asInt();
    try (NDManager m = manager.newSubManager()) {
      NDArray logits = m.create(flat, new Shape(b, classes));
      logits.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray loss = PromptTrainer.crossEntropy(logits, m.create(target), classes);
        assertEquals(0, loss.getShape().dimension(), "a scalar loss");
        assertEquals(c.get("loss").asDouble(), loss.getFloat(), 1e-6);
        gc.backward(loss);
      }
      float[] grad = logits.getGradient().toFloatArray();
      for (int i = 0; i < b; i++)
        for (int j = 0; j < classes; j++)
          assertEquals(c.get("grad").get(i).get(j).asDouble(), grad[i * classes + j], 1e-6, "grad[" + i + "][" + j + "]");
    }
  }

  @Test
  void crossEntropy_matchesHandComputation() {
    // logits [[0, ln 3], [2, 2]], targets [1, 0]: −mean(ln(3/4), ln(1/2)) = (ln(4/3) + ln 2) / 2
    try (NDManager m = manager.newSubManager()) {
      NDArray logits = m.create(new float[] {0f, (float) Math.log(3), 2f, 2f}, new Shape(2, 2));
      double expected = (Math.log(4.0 / 3) + Math.log(2)) / 2;
      assertEquals(expected, PromptTrainer.crossEntropy(logits, m.create(new int[] {1, 0}), 2).getFloat(), 1e-6);
      // very confident logits stay finite (log-softmax, not log of softmax)
      NDArray big = m.create(new float[] {1000f, -1000f}, new Shape(1, 2));
      assertEquals(2000.0, PromptTrainer.crossEntropy(big, m.create(new int[] {1}), 2).getFloat(), 1e-3);
    }
  }

  /** As torch.optim.SGD skips grad-is-None parameters: no weight decay, no momentum, no change. */
  @Test
  void sgd_skipsParametersThatGotNoGradient_andKeysStateByName() {
    try (NDManager m = manager.newSubManager()) {
      NDArray used = m.create(new float[] {1f, -2f});
      NDArray unused = m.create(new float[] {5f, 7f});
      used.setRequiresGradient(true);
      unused.setRequiresGradient(true);
      java.util.Map<String, NDArray> params = new java.util.LinkedHashMap<>();
      params.put("used", used);
      params.put("unused", unused);
      Sgd sgd = new Sgd(0.9, 0.1);
      for (int i = 0; i < 2; i++) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          gc.backward(used.sum());
        }
        assertEquals(null, Sgd.gradientOrNull(unused), "never reached by backward");
        sgd.step(params, 0.5);
      }
      assertArrayEquals(new float[] {5f, 7f}, unused.toFloatArray(), "no weight decay on a parameter without gradient");
      assertEquals(java.util.Set.of("optim.momentum.used"), sgd.state().keySet());
      // step 1: g = 1 + 0.1·1 = 1.1, p = 1 − 0.55 = 0.45; step 2: g = 1 + 0.045 = 1.045, buf = 0.99 + 1.045 = 2.035
      assertEquals(0.45f - 0.5f * 2.035f, used.toFloatArray()[0], 1e-6);
    }
  }

  /** Parameters by name in order (p0, p1, ...). */
  static java.util.Map<String, NDArray> named(List<NDArray> params) {
    java.util.Map<String, NDArray> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < params.size(); i++) m.put("p" + i, params.get(i));
    return m;
  }
}
