package ai.promptline.ml.train;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link AdamW} against {@code torch.optim.AdamW} itself ({@code tools/golden/adamw_golden.py}):
 * three cases (CLIP's betas/eps/wd under a warm-up + cosine schedule, torch defaults with large
 * steps, no weight decay), a parameter that never gets a gradient left untouched, and a
 * checkpoint round trip mid-way that continues exactly.
 */
class AdamWGoldenTest {
  static float[] floats(JsonNode a) {
    float[] f = new float[a.size()];
    for (int i = 0; i < f.length; i++) f[i] = (float) a.get(i).asDouble();
    return f;
  }

  @Test
  void matchesTorchAdamW_stepByStep_andResumesFromItsState() throws Exception {
    JsonNode golden;
    try (InputStream in = AdamWGoldenTest.class.getResourceAsStream("/golden/train/adamw.json")) {
      golden = new ObjectMapper().readTree(in);
    }
    int checked = 0;
    for (JsonNode c : golden.get("cases")) {
      for (boolean resumeMidway : new boolean[] {false, true}) {
        try (NDManager m = NDManager.newBaseManager()) {
          List<NDArray> p = new ArrayList<>();
          for (int i = 0; i < 3; i++) {
            JsonNode s = c.get("shapes").get(i);
            long[] dims = new long[s.size()];
            for (int d = 0; d < dims.length; d++) dims[d] = s.get(d).asLong();
            NDArray a = m.create(floats(c.get("init").get(i)), new Shape(dims));
            a.setRequiresGradient(true);
            p.add(a);
          }
          Map<String, NDArray> named = new LinkedHashMap<>();
          named.put("a", p.get(0));
          named.put("b", p.get(1));
          named.put("unused", p.get(2));
          AdamW opt = new AdamW(c.get("betas").get(0).asDouble(), c.get("betas").get(1).asDouble(), c.get("eps").asDouble(),
              c.get("weightDecay").asDouble());
          int step = 0;
          for (JsonNode st : c.get("steps")) {
            if (resumeMidway && step == 2) {
              Map<String, NDArray> saved = new LinkedHashMap<>();
              opt.state(m).forEach((k, v) -> saved.put(k, v.duplicate()));
              opt = new AdamW(c.get("betas").get(0).asDouble(), c.get("betas").get(1).asDouble(), c.get("eps").asDouble(),
                  c.get("weightDecay").asDouble());
              opt.load(saved, m);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              NDArray loss = null;
              for (int i = 0; i < 2; i++) {
                NDArray t = m.create(floats(c.get("target").get(i)), p.get(i).getShape());
                NDArray a = m.create(floats(c.get("curvature").get(i)), p.get(i).getShape());
                NDArray d = p.get(i).sub(t);
                NDArray term = a.mul(d).mul(d).sum().div(m.create(2f).duplicate());
                loss = loss == null ? term : loss.add(term);
              }
              gc.backward(loss);
            }
            opt.step(named, st.get("lr").asDouble());
            for (int i = 0; i < 3; i++) {
              float[] want = floats(st.get("params").get(i));
              float[] got = p.get(i).toFloatArray();
              for (int j = 0; j < want.length; j++) {
                assertEquals(want[j], got[j], 2e-6 * Math.max(1, Math.abs(want[j])),
                    "case " + c.get("betas") + " step " + step + " param " + i + "[" + j + "]" + (resumeMidway ? " (resumed)" : ""));
                checked++;
              }
            }
            step++;
          }
          assertTrue(opt.state(m).keySet().stream().noneMatch(k -> k.endsWith(".unused")), "no state for a parameter without gradient");
        }
      }
    }
    assertTrue(checked > 200, "checked " + checked);
  }
}
