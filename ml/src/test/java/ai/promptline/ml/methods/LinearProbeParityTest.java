package ai.promptline.ml.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link LinearProbe} against sklearn and against KaiyangZhou/CoOp lpclip/linear_probe.py itself
 * ({@code golden/linear_probe/README.md}): on generated un-normalised features, every
 * {@code LogisticRegression(lbfgs, C)} fit with C ≤ 100 predicts the test items within 0.5 accuracy
 * points of sklearn (larger C: within 1.5, see {@link #WELL_POSED}), and the C search picks linear_probe.py's C (every round's choice) with a test accuracy
 * within 0.5 points of the one it reports.
 */
class LinearProbeParityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double POINTS = 0.5;
  /**
   * Above this C the few-shot problems are nearly separable: neither solver reaches an optimum (the
   * weights grow until the gradient test stops them), so the two stopping points differ by a few test
   * items (measured ≤ 1 point); at and below it the fits agree (≥ 298 of 300 test predictions).
   */
  private static final double WELL_POSED = 100;

  static JsonNode golden(String name) throws Exception {
    Path dir = Path.of(LinearProbeParityTest.class.getResource("/golden/linear_probe").toURI());
    return JSON.readTree(dir.resolve(name + ".json").toFile());
  }

  static LinearProbe.Data data(JsonNode split) {
    double[][] x = new double[split.get("y").size()][];
    int[] y = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      JsonNode row = split.get("x").get(i);
      x[i] = new double[row.size()];
      for (int j = 0; j < row.size(); j++) x[i][j] = (float) row.get(j).asDouble(); // float32 features
      y[i] = split.get("y").get(i).asInt();
    }
    return new LinearProbe.Data(x, y);
  }

  @ParameterizedTest
  @ValueSource(strings = {"multiclass", "multiclass8shot", "binary"})
  void everyFitPredictsAsSklearn(String name) throws Exception {
    JsonNode g = golden(name);
    int k = g.get("classes").asInt();
    LinearProbe.Data train = data(g.get("train"));
    LinearProbe.Data test = data(g.get("test"));
    double worst = 0;
    StringBuilder report = new StringBuilder();
    for (JsonNode f : g.get("sklearnFits")) {
      double c = f.get("C").asDouble();
      LinearProbe.Model m = LinearProbe.Model.fit(train, k, c);
      int agree = 0;
      for (int i = 0; i < test.size(); i++) if (m.predict(test.x()[i]) == f.get("testPred").get(i).asInt()) agree++;
      double acc = 100.0 * m.correct(test) / test.size();
      double diff = Math.abs(acc - f.get("testAcc").asDouble());
      worst = Math.max(worst, diff);
      report.append(String.format(java.util.Locale.ROOT, " C=%g %.2f/%.2f (%d/%d same)", c, acc, f.get("testAcc").asDouble(), agree, test.size()));
      assertTrue(diff <= (c <= WELL_POSED ? POINTS : 3 * POINTS), name + " C=" + c + ": test accuracy " + acc + " vs sklearn " + f.get("testAcc").asDouble());
    }
    System.out.printf("linear-probe %-16s worst |Δacc| vs sklearn %.3f points:%s%n", name, worst, report);
  }

  @ParameterizedTest
  @ValueSource(strings = {"multiclass", "multiclass8shot", "binary"})
  void cSearchChoosesLinearProbePysC(String name) throws Exception {
    JsonNode g = golden(name);
    int k = g.get("classes").asInt();
    LinearProbe.Search s = LinearProbe.search(data(g.get("train")), data(g.get("val")), k);
    JsonNode ref = g.get("coopSearch");
    LinearProbe.Data val = data(g.get("val"));
    for (int i = 0; i < LinearProbe.GRID.length; i++)
      if (LinearProbe.GRID[i] <= WELL_POSED) assertEquals(ref.get("gridValAcc").get(i).asDouble(), 100.0 * s.trace().get(i)[1] / val.size(), 1e-6,
          name + ": grid C=" + LinearProbe.GRID[i] + " val accuracy");
    // every round's choice; the last one is the classifier
    JsonNode rounds = ref.get("rounds");
    for (int r = 0; r < rounds.size(); r++) {
      double[] left = s.trace().get(LinearProbe.GRID.length + 2 * r);
      double[] right = s.trace().get(LinearProbe.GRID.length + 2 * r + 1);
      double chose = left[1] < right[1] ? right[0] : left[0];
      assertEquals(rounds.get(r).get("C").asDouble(), chose, 1e-9 * chose, name + " round " + r + " C");
    }
    assertEquals(ref.get("chosenC").asDouble(), s.c(), 1e-9 * s.c(), name + ": chosen C");
    LinearProbe.Data test = data(g.get("test"));
    double acc = 100.0 * s.model().correct(test) / test.size();
    System.out.printf("linear-probe %-16s C search: C=%s (linear_probe.py %s), test %.2f (linear_probe.py %.2f), %d fits%n",
        name, s.c(), ref.get("chosenC").asDouble(), acc, ref.get("testAcc").asDouble(), s.fits());
    assertTrue(Math.abs(acc - ref.get("testAcc").asDouble()) <= POINTS, name + ": test accuracy " + acc + " vs " + ref.get("testAcc"));
  }

  /**
   * The method on its tensors: fitted from feature batches, its state dict restored into a fresh
   * instance classifies the test items as the search's classifier does; another label space is
   * refused with the reason.
   */
  @org.junit.jupiter.api.Test
  void fittedStateRoundTripsAndEvaluates() throws Exception {
    JsonNode g = golden("multiclass");
    int k = g.get("classes").asInt();
    java.util.List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < k; i++) names.add("c" + i);
    ClassSet classes = new ClassSet(names, "a photo of a {}.");
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
      MethodSpec spec = Methods.spec(LinearProbe.NAME);
      MethodContext ctx = new MethodContext(null, null, m, MethodOptions.of(spec, java.util.Map.of()), 1);
      LinearProbe.Data test = data(g.get("test"));
      double accSearch;
      java.util.Map<String, ai.djl.ndarray.NDArray> state;
      try (LinearProbe fitted = (LinearProbe) spec.factory().apply(ctx)) {
        FittedMethod.Fit fit = fitted.fit(classes, batches(data(g.get("train")), m), batches(data(g.get("val")), m));
        assertEquals(g.get("coopSearch").get("chosenC").asDouble(), fit.metrics().get("fit.C"), 1e-9);
        accSearch = LinearProbe.search(data(g.get("train")), data(g.get("val")), k).model().correct(test) * 100.0 / test.size();
        state = new java.util.LinkedHashMap<>();
        for (var e : fitted.stateDict().entrySet()) state.put(e.getKey(), e.getValue().duplicate());
      }
      try (LinearProbe restored = (LinearProbe) spec.factory().apply(ctx)) {
        restored.loadStateDict(state);
        double acc = ai.promptline.ml.train.Evaluator.accuracy(restored, classes, batches(test, m), m).percent();
        assertEquals(accSearch, acc, 1e-9, "restored probe accuracy");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> restored.bind(new ClassSet(java.util.List.of("x", "y"), "a photo of a {}.")));
        assertTrue(e.getMessage().contains("no text classifier"), e.getMessage());
      }
    }
  }

  private static ai.promptline.ml.train.FeatureBatches batches(LinearProbe.Data d, ai.djl.ndarray.NDManager m) {
    float[] flat = new float[d.size() * d.dim()];
    for (int i = 0; i < d.size(); i++) for (int j = 0; j < d.dim(); j++) flat[i * d.dim() + j] = (float) d.x()[i][j];
    return new ai.promptline.ml.train.FeatureBatches(m.create(flat, new ai.djl.ndarray.types.Shape(d.size(), d.dim())), d.y());
  }
}
