package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.train.Batch;
import ai.promptline.ml.train.BatchSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import smile.math.BFGS;
import smile.math.DifferentiableMultivariateFunction;

/**
 * Linear-probe CLIP, the CoOp paper's baseline (KaiyangZhou/CoOp lpclip/linear_probe.py, after
 * Radford et al. 2021 App. A.3): a logistic regression on the frozen, <em>un-normalised</em> image
 * features ({@code clip_model.visual(img)}, test transform for every split, lpclip/feat_extractor.py),
 * with its inverse regularisation strength C searched on the few-shot validation split.
 *
 * <p><b>Classifier</b> = {@code sklearn.linear_model.LogisticRegression(solver="lbfgs", max_iter=1000,
 * penalty="l2", C=c)}: for K &gt; 2 classes the symmetric multinomial model (K weight rows), for two
 * classes the binomial one (one row), intercepts unpenalised; sklearn minimises
 * {@code C·Σᵢ CE(xᵢ, yᵢ) + ½‖W‖²}, here in its scaled form {@code mean CE + ‖W‖² / (2·C·n)} (same
 * minimiser), with Smile's L-BFGS ({@code smile.math.BFGS.minimize}, 10 corrections as scipy's
 * {@code maxcor}, 1000 iterations), stopped by sklearn's test (max |∇| ≤ tol = 1e-4 on this scaled
 * objective): run to the exact optimum instead, a few-shot fit at large C differs from sklearn's,
 * which stops early there. Smile's own {@code LogisticRegression.multinomial} is not used:
 * it pins the last class's weights at zero and penalises the other K−1 rows, a different
 * regularised problem from sklearn's (its binomial objective, {@code λ = 1/C}, is sklearn's).
 *
 * <p><b>C search</b>, exactly as linear_probe.py: the grid [1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6]
 * scored by validation accuracy, C* = the first best; then 8 rounds on [0.1·C*, 10·C*]: both ends
 * are fitted and scored, the right end wins only if strictly better (ties go left), the next range
 * is the winner and the log-space midpoint towards the loser. The last round's winner is the
 * classifier (not the best seen). Validation shots are the platform's few-shot val split
 * (Dassl: min(shots, 4) per class), where linear_probe.py draws train and val with np.random.
 *
 * <p>State ({@link #stateDict()}): {@code weight [K, E]}, {@code bias [K]} (binary: row 0 is zero,
 * so logits {@code [0, w·x + b]} predict class 1 iff {@code w·x + b > 0}, as sklearn), {@code C [1]}.
 * No text classifier: it classifies only the training classes (campaigns refuse base-to-novel and
 * cross-dataset for it).
 */
public final class LinearProbe implements FittedMethod {
  public static final String NAME = "linear-probe";
  /** linear_probe.py's initial search list, in its order (ties in the argmax go to the first). */
  static final double[] GRID = {1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6};
  /** linear_probe.py's {@code --num_step} as linear_probe.sh runs it. */
  static final int ROUNDS = 8;
  static final int MAX_ITER = 1000;
  /**
   * Smile's own (relative) gradient tolerance, set below reach: the stop is sklearn's test
   * ({@link #SKLEARN_TOL}, {@link Objective.Converged}); Smile still stops on a vanishing step or at
   * {@link #MAX_ITER}.
   */
  static final double GTOL = 1e-10;
  /** sklearn's {@code tol} default. */
  static final double SKLEARN_TOL = 1e-4;
  static final int CORRECTIONS = 10;

  private final MethodContext ctx;
  private NDArray weight;
  private NDArray bias;
  private double c = Double.NaN;

  public LinearProbe(MethodContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public String name() {
    return NAME;
  }

  /** Nothing is trained by gradient steps. */
  @Override
  public Map<String, NDArray> parameters() {
    return Map.of();
  }

  @Override
  public long trainableParams() {
    return weight == null ? 0 : weight.getShape().size() + bias.getShape().size();
  }

  @Override
  public Map<String, NDArray> stateDict() {
    if (weight == null) throw new IllegalStateException("linear-probe has not been fitted");
    Map<String, NDArray> s = new LinkedHashMap<>();
    s.put("weight", weight);
    s.put("bias", bias);
    s.put("C", ctx.manager().create(new float[] {(float) c}));
    return s;
  }

  @Override
  public void loadStateDict(Map<String, NDArray> state) {
    NDArray w = state.get("weight");
    NDArray b = state.get("bias");
    if (w == null || b == null || w.getShape().dimension() != 2 || b.getShape().dimension() != 1
        || w.getShape().get(0) != b.getShape().get(0))
      throw new IllegalArgumentException("linear-probe state needs 'weight' [K, E] and 'bias' [K], got " + state.keySet());
    close();
    weight = w.toType(ai.djl.ndarray.types.DataType.FLOAT32, true);
    weight.attach(ctx.manager());
    bias = b.toType(ai.djl.ndarray.types.DataType.FLOAT32, true);
    bias.attach(ctx.manager());
    NDArray cc = state.get("C");
    c = cc == null ? Double.NaN : cc.toFloatArray()[0];
  }

  /** The chosen C (NaN before a fit or a load). */
  public double c() {
    return c;
  }

  @Override
  public Head bind(ClassSet classes) {
    if (weight == null) throw new IllegalStateException("linear-probe has not been fitted (run its train stage first)");
    long k = weight.getShape().get(0);
    if (k != classes.size())
      throw new IllegalArgumentException("linear-probe has a classifier for its " + k + " training classes and no text"
          + " classifier, so it cannot score " + classes.size() + " other classes; evaluate it with protocol: all");
    return new FeatureHead() {
      @Override
      public NDArray logitsOf(NDArray rawFeatures) {
        if (rawFeatures.getShape().get(1) != weight.getShape().get(1))
          throw new IllegalArgumentException("features of dimension " + rawFeatures.getShape().get(1)
              + " do not fit the fitted probe's " + weight.getShape().get(1));
        return rawFeatures.matMul(weight.transpose()).add(bias);
      }
    };
  }

  @Override
  public Fit fit(ClassSet classes, BatchSource train, BatchSource val) {
    int k = classes.size();
    if (k < 2) throw new IllegalArgumentException("linear-probe needs at least 2 classes, got " + k);
    if (val == null || val.size() == 0)
      throw new IllegalArgumentException("linear-probe searches C on the few-shot validation split, and this run has none");
    Data tr = read(train, ctx.manager());
    Data va = read(val, ctx.manager());
    Search s = search(tr, va, k);
    Model best = s.model();
    try (NDManager tmp = ctx.manager().newSubManager()) {
      NDArray w = tmp.create(best.weightRows(), new Shape(k, tr.dim()));
      NDArray b = tmp.create(best.biases());
      loadStateDict(Map.of("weight", w, "bias", b));
    }
    c = s.c();
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("fit.C", s.c());
    metrics.put("fit.val_acc", s.valAcc());
    metrics.put("fit.fits", (double) s.fits());
    Map<String, String> params = new LinkedHashMap<>();
    params.put("fit.solver", "smile L-BFGS, sklearn lbfgs objective, max_iter " + MAX_ITER);
    params.put("fit.search", String.format(Locale.ROOT, "grid %s + %d bisection rounds on val (%d items)",
        java.util.Arrays.toString(GRID), ROUNDS, va.size()));
    return new Fit(metrics, params);
  }

  // ------------------------------------------------------------ C search (lpclip/linear_probe.py)

  /** Labelled feature rows in double precision (linear_probe.py fits float64 numpy arrays). */
  record Data(double[][] x, int[] y) {
    int size() {
      return y.length;
    }

    int dim() {
      return x[0].length;
    }
  }

  /** The search's outcome: the last round's winner, its validation accuracy (percent) and the fits run. */
  record Search(double c, double valAcc, Model model, int fits, List<double[]> trace) {}

  /** All of {@code source} as host arrays, read through a sub-manager of {@code parent} (its device). */
  static Data read(BatchSource source, NDManager parent) {
    int n = source.size();
    int[] ids = IntStream.range(0, n).toArray();
    try (NDManager m = parent.newSubManager()) {
      Batch b = source.batch(0, ids, m);
      NDArray f = b.requireFeatures();
      int d = (int) f.getShape().get(1);
      float[] flat = f.toFloatArray();
      double[][] x = new double[n][d];
      for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i][j] = flat[i * d + j];
      return new Data(x, b.labels().clone());
    }
  }

  /**
   * linear_probe.py's search. {@code trace} rows: {@code [C, val correct]} of every evaluation in
   * order (grid, then left and right of each round). Fits are memoised by C (deterministic).
   */
  static Search search(Data train, Data val, int k) {
    Map<Double, Model> fits = new HashMap<>();
    List<double[]> trace = new ArrayList<>();
    java.util.function.DoubleFunction<Model> fit = cc -> fits.computeIfAbsent(cc, x -> Model.fit(train, k, x));
    int bestIdx = 0;
    int bestCorrect = -1;
    for (int i = 0; i < GRID.length; i++) {
      int correct = fit.apply(GRID[i]).correct(val);
      trace.add(new double[] {GRID[i], correct});
      if (correct > bestCorrect) { // np.argmax: the first maximum
        bestCorrect = correct;
        bestIdx = i;
      }
    }
    double peak = GRID[bestIdx];
    double left = 1e-1 * peak;
    double right = 1e1 * peak;
    double chosen = Double.NaN;
    int chosenCorrect = 0;
    for (int step = 0; step < ROUNDS; step++) {
      int accLeft = fit.apply(left).correct(val);
      int accRight = fit.apply(right).correct(val);
      trace.add(new double[] {left, accLeft});
      trace.add(new double[] {right, accRight});
      double nextLeft;
      double nextRight;
      if (accLeft < accRight) {
        chosen = right;
        chosenCorrect = accRight;
        nextLeft = 0.5 * (Math.log10(right) + Math.log10(left));
        nextRight = Math.log10(right);
      } else {
        chosen = left;
        chosenCorrect = accLeft;
        nextRight = 0.5 * (Math.log10(right) + Math.log10(left));
        nextLeft = Math.log10(left);
      }
      left = Math.pow(10, nextLeft);
      right = Math.pow(10, nextRight);
    }
    return new Search(chosen, 100.0 * chosenCorrect / val.size(), fits.get(chosen), fits.size(), trace);
  }

  // ------------------------------------------------------------ the classifier (sklearn's objective)

  /**
   * A fitted logistic regression: {@code rows} weight rows of {@code dim + 1} (intercept last);
   * one row for two classes (the logit of class 1), K rows otherwise.
   */
  record Model(int k, int dim, double[] w) {
    int rows() {
      return k == 2 ? 1 : k;
    }

    /** sklearn's fit: L-BFGS from zeros on the scaled objective. */
    static Model fit(Data d, int k, double cc) {
      if (!(cc > 0)) throw new IllegalArgumentException("C must be positive, got " + cc);
      Objective o = new Objective(d, k, cc);
      double[] w = new double[o.rows * (d.dim() + 1)];
      try {
        BFGS.minimize(o, CORRECTIONS, w, GTOL, MAX_ITER);
      } catch (Objective.Converged stop) {
        w = stop.w;
      }
      return new Model(k, d.dim(), w);
    }

    /** Decision values of one row of features, one per class (binary: {@code [0, w·x + b]}). */
    double[] scores(double[] x) {
      double[] s = new double[k];
      int p = dim;
      for (int r = 0; r < rows(); r++) {
        int pos = r * (p + 1);
        double z = w[pos + p];
        for (int j = 0; j < p; j++) z += w[pos + j] * x[j];
        s[k == 2 ? 1 : r] = z;
      }
      return s;
    }

    /** sklearn's predict: argmax, the first class on ties (binary: class 1 iff the decision is &gt; 0). */
    int predict(double[] x) {
      double[] s = scores(x);
      int best = 0;
      for (int c = 1; c < k; c++) if (s[c] > s[best]) best = c;
      return best;
    }

    int correct(Data d) {
      int n = 0;
      for (int i = 0; i < d.size(); i++) if (predict(d.x()[i]) == d.y()[i]) n++;
      return n;
    }

    /** Weights as {@code [K, E]} float rows (binary: row 0 zero). */
    float[] weightRows() {
      float[] out = new float[k * dim];
      for (int r = 0; r < rows(); r++) {
        int target = k == 2 ? 1 : r;
        for (int j = 0; j < dim; j++) out[target * dim + j] = (float) w[r * (dim + 1) + j];
      }
      return out;
    }

    float[] biases() {
      float[] out = new float[k];
      for (int r = 0; r < rows(); r++) out[k == 2 ? 1 : r] = (float) w[r * (dim + 1) + dim];
      return out;
    }
  }

  /**
   * sklearn's lbfgs objective ({@code LinearModelLoss} with {@code HalfMultinomialLoss} for K &gt; 2,
   * {@code HalfBinomialLoss} for 2 classes): {@code (1/n) Σᵢ loss(xᵢ, yᵢ) + ‖W‖² / (2·C·n)}, the
   * intercepts left out of the penalty.
   */
  static final class Objective implements DifferentiableMultivariateFunction {
    /**
     * Stops the minimisation at the first point whose gradient meets sklearn's test (scipy L-BFGS-B
     * {@code gtol = tol = 1e-4}: max |∂f/∂wᵢ| ≤ tol on this scaled objective); Smile's own relative
     * test would run on to the exact optimum, which sklearn at its default tolerance does not reach
     * in the nearly separable few-shot regime.
     */
    static final class Converged extends RuntimeException {
      final double[] w;

      Converged(double[] w) {
        super(null, null, false, false);
        this.w = w;
      }
    }


    private final Data d;
    private final int rows;
    private final int p;
    private final double l2;

    Objective(Data d, int k, double cc) {
      this.d = d;
      this.rows = k == 2 ? 1 : k;
      this.p = d.dim();
      this.l2 = 1.0 / (cc * d.size());
    }

    @Override
    public double f(double[] w) {
      return g(w, null);
    }

    @Override
    public double g(double[] w, double[] grad) {
      int n = d.size();
      if (grad != null) java.util.Arrays.fill(grad, 0);
      double loss = 0;
      double[] z = new double[rows];
      for (int i = 0; i < n; i++) {
        double[] x = d.x()[i];
        int y = d.y()[i];
        for (int r = 0; r < rows; r++) {
          int pos = r * (p + 1);
          double s = w[pos + p];
          for (int j = 0; j < p; j++) s += w[pos + j] * x[j];
          z[r] = s;
        }
        if (rows == 1) { // binomial: log(1 + e^z) - y·z
          double t = y == 1 ? 1 : 0;
          double zz = z[0];
          loss += zz > 0 ? zz + Math.log1p(Math.exp(-zz)) - t * zz : Math.log1p(Math.exp(zz)) - t * zz;
          if (grad != null) {
            double e = 1 / (1 + Math.exp(-zz)) - t;
            for (int j = 0; j < p; j++) grad[j] += e * x[j];
            grad[p] += e;
          }
        } else { // multinomial: logsumexp(z) - z_y
          double max = Double.NEGATIVE_INFINITY;
          for (double v : z) max = Math.max(max, v);
          double sum = 0;
          for (int r = 0; r < rows; r++) sum += Math.exp(z[r] - max);
          double lse = max + Math.log(sum);
          loss += lse - z[y];
          if (grad != null) {
            for (int r = 0; r < rows; r++) {
              double e = Math.exp(z[r] - lse) - (r == y ? 1 : 0);
              int pos = r * (p + 1);
              for (int j = 0; j < p; j++) grad[pos + j] += e * x[j];
              grad[pos + p] += e;
            }
          }
        }
      }
      double norm = 0;
      for (int r = 0; r < rows; r++) {
        int pos = r * (p + 1);
        for (int j = 0; j < p; j++) norm += w[pos + j] * w[pos + j];
      }
      double f = loss / n + 0.5 * l2 * norm;
      if (grad != null) {
        double max = 0;
        for (int i = 0; i < grad.length; i++) grad[i] /= n;
        for (int r = 0; r < rows; r++) {
          int pos = r * (p + 1);
          for (int j = 0; j < p; j++) grad[pos + j] += l2 * w[pos + j];
        }
        for (double v : grad) max = Math.max(max, Math.abs(v));
        if (max <= SKLEARN_TOL) throw new Converged(w.clone());
      }
      return f;
    }
  }

  @Override
  public void close() {
    if (weight != null) weight.close();
    if (bias != null) bias.close();
    weight = null;
    bias = null;
  }
}
