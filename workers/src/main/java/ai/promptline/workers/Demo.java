package ai.promptline.workers;

import ai.promptline.ml.pretrain.TinyClip;
import ai.promptline.activities.CampaignSummary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowStub;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code promptline demo}: the main job on local defaults. Prepares the demo assets (the Scenes
 * benchmark and the shipped pretrained tiny CLIP), starts a worker in this process, submits the
 * demo campaign (base-to-novel, 4 and 16 shots, seeds 1–3, the methods of {@link #METHODS}) and
 * prints every run, the mean ± std over seeds, and the UI links.
 */
public final class Demo {
  /**
   * Demo knobs (the defaults are the demo).
   *
   * @param epochs epochs of every trained method, or null for each method's demo recipe
   * @param seeds seeds of every configuration
   * @param shots shots per class
   * @param methods method names, each with its demo recipe from {@link #METHODS}
   */
  public record Options(Integer epochs, List<Integer> seeds, List<Integer> shots, List<String> methods) {
    /** Zero-shot CLIP and CoOp at one shot count: the small campaign the tests run. */
    public Options(int epochs, List<Integer> seeds, int shots) {
      this(epochs, seeds, List.of(shots), List.of("zsclip", "coop"));
    }

    public static Options defaults() {
      return new Options(null, List.of(1, 2, 3), List.of(4, 16), List.copyOf(METHODS.keySet()));
    }
  }

  /**
   * The demo's methods and their recipes (epochs, train overrides, options), in table order: the
   * reference recipes ({@code method list}) with the deep-prompt depths scaled to the tiny CLIP's 3
   * layers (MaPLe's 9 of 12 → 2 of 3), and, to keep the demo at about 16 minutes on 2 cores, CoCoOp at
   * batch 4 instead of 1, RPO with K = 4 instead of 24, the pixel methods at 5 epochs and CoOp at 100
   * epochs (its reference batch 32 and lr 0.002; the reference trains 16 shots for 200). Instance-wise
   * prompts use CoOp's recipe, RPO's LP head its own (30 epochs, batch 32, lr 0.0005), Prismer its
   * registry recipe with adaptors only (the demo ships one model, so no expert). The feature-cache
   * methods cycle {@code augViews = 4} cached augmentations (see the README's measurement).
   */
  public static final Map<String, Recipe> METHODS = methods();

  /** A method's demo recipe; {@code epochs} 0 for methods that do not train. */
  public record Recipe(int epochs, Map<String, Object> train, Map<String, Object> options) {}

  private static Map<String, Recipe> methods() {
    Map<String, Recipe> m = new LinkedHashMap<>();
    m.put("zsclip", new Recipe(0, null, null));
    m.put("coop", new Recipe(100, Map.of("batchSize", 32, "lr", 0.002, "augViews", 4), null));
    m.put("cocoop", new Recipe(10, Map.of("batchSize", 4, "lr", 0.002, "augViews", 4), null));
    m.put("deep-text", new Recipe(10, Map.of("batchSize", 4, "lr", 0.0025, "augViews", 4), Map.of("depth", 3)));
    m.put("maple", new Recipe(5, Map.of("batchSize", 4, "lr", 0.0035), Map.of("depth", 2)));
    m.put("ivlp", new Recipe(5, Map.of("batchSize", 4, "lr", 0.0035), Map.of("depth", 3, "depthVision", 3)));
    m.put("vpt", new Recipe(5, Map.of("batchSize", 4, "lr", 0.0025), Map.of("depthVision", 3)));
    m.put("rpo", new Recipe(5, Map.of("batchSize", 4, "lr", 0.01), Map.of("k", 4)));
    m.put("mrpo", new Recipe(5, Map.of("batchSize", 4, "lr", 0.0035), Map.of("depth", 2)));
    m.put("instance", new Recipe(100, Map.of("batchSize", 32, "lr", 0.002, "augViews", 4), null));
    m.put("linear-probe-rpo", new Recipe(30, Map.of("batchSize", 32, "lr", 0.0005, "augViews", 4), null));
    m.put("prismer", new Recipe(5, Map.of("batchSize", 4, "lr", 0.002), null)); // adaptors only: the demo ships one model
    return java.util.Collections.unmodifiableMap(m);
  }

  private Demo() {}

  /** The demo campaign file, as a user would write it. */
  public static CampaignFile campaignFile(DemoAssets.Assets assets, Options o) {
    List<CampaignFile.Method> methods = new ArrayList<>();
    for (String name : o.methods()) {
      Recipe r = METHODS.get(name);
      if (r == null) throw new IllegalArgumentException("the demo has no recipe for method '" + name + "'; demo methods: " + METHODS.keySet());
      Map<String, Object> train = null;
      if (r.train() != null) {
        train = new LinkedHashMap<>(r.train());
        train.put("epochs", o.epochs() != null ? o.epochs() : r.epochs());
      }
      methods.add(new CampaignFile.Method(name, train, r.options()));
    }
    return new CampaignFile("demo", "promptline-demo",
        new CampaignFile.Model("tiny-clip-scenes", assets.weights().toString(), TinyClip.SHA256),
        List.of(new CampaignFile.Dataset(DemoAssets.DATASET, assets.datasetRoot().toString())),
        methods, o.shots(), o.seeds(), "base2novel", 2, 60);
  }

  public static CampaignResult run(Settings settings, Options o, PrintStream out) {
    long t0 = System.nanoTime();
    DemoAssets.Assets assets = DemoAssets.ensure(settings.home().resolve("demo"));
    CampaignSpec spec = campaignFile(assets, o).plan(Path.of("."));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (Connections conn = new Connections(settings, meters);
        PromptlineWorker worker = new PromptlineWorker(conn.client(), conn.backends(meters), PromptlineWorker.Options.local())) {
      worker.start();
      out.printf("Submitting campaign '%s': %d runs (%s)%n", spec.name(), spec.expand().size(), CampaignSubmitter.workflowId(spec));
      var store = conn.backends(meters).store();
      WorkflowStub stub = CampaignSubmitter.start(conn.client(), store, spec);
      CampaignResult result = CampaignSubmitter.withRuns(CampaignSubmitter.await(stub, 10, p -> out.println(progressLine(p)),
          CampaignSubmitter.Reattach.of(settings, out::println)), store);
      out.println();
      out.print(table(result.runs()));
      out.println();
      out.println("Mean ± std over seeds (accuracy %):");
      out.print(CampaignSummary.of(result.runs()).markdown());
      out.println();
      String exp = conn.backends(meters).tracker().experimentId(spec.experiment());
      // the runs table in MLflow 3's model-training layout (the URL parameter wins over the browser's last choice)
      out.println("MLflow UI:   " + settings.mlflowUi() + "/#/experiments/" + exp + "/runs?workflowType=machine_learning");
      out.println("Temporal UI: " + settings.temporalUi() + "/namespaces/" + settings.namespace() + "/workflows/"
          + CampaignSubmitter.workflowId(spec));
      out.printf(Locale.ROOT, "Campaign %s in %.1f s%n", result.status(), (System.nanoTime() - t0) / 1e9);
      return result;
    }
  }

  static String progressLine(CampaignWorkflow.Progress p) {
    return String.format("  progress: %d/%d done (%d reused, %d failed), %d running, %d pending",
        p.finished() + p.reused() + p.failed(), p.total(), p.reused(), p.failed(), p.running(), p.pending());
  }

  /**
   * The results table: one row per run, accuracies in percent; cross-dataset runs add one column
   * per target and the average over targets.
   */
  public static String table(List<RunResult> runs) {
    List<String> targets = runs.stream().filter(r -> r.eval() != null).flatMap(r -> r.eval().targets().stream())
        .map(Stages.TargetResult::dataset).distinct().toList();
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-12s %-8s %5s %4s %7s %7s %7s",
        "dataset", "method", "shots", "seed", "base", "novel", "HM"));
    for (String t : targets) sb.append(String.format(Locale.ROOT, " %" + width(t) + "s", t));
    if (!targets.isEmpty()) sb.append(String.format(Locale.ROOT, " %10s", "target avg"));
    sb.append("  status").append(System.lineSeparator());
    for (RunResult r : runs) {
      Stages.EvalResult e = r.eval();
      sb.append(String.format(Locale.ROOT, "%-12s %-8s %5d %4d %7s %7s %7s", r.config().dataset().name(),
          r.config().method(), r.config().shots(), r.config().seed(), e == null ? "-" : pct(e.accBase()),
          e == null ? "-" : pct(e.accNovel()), e == null ? "-" : pct(e.hm())));
      for (String t : targets) {
        String v = e == null ? "-" : e.targets().stream().filter(x -> x.dataset().equals(t)).findFirst()
            .map(x -> pct(x.accuracy())).orElse("-");
        sb.append(String.format(Locale.ROOT, " %" + width(t) + "s", v));
      }
      if (!targets.isEmpty())
        sb.append(String.format(Locale.ROOT, " %10s", e == null || e.targets().isEmpty() ? "-" : pct(e.targetMean())));
      sb.append("  ").append(r.status() + (r.reused() ? " (reused)" : "") + (r.error() == null ? "" : ": " + r.error()))
          .append(System.lineSeparator());
    }
    return sb.toString();
  }

  private static int width(String column) {
    return Math.max(7, column.length());
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
