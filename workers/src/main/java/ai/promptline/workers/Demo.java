package ai.promptline.workers;

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
 * {@code promptline demo}: the main job on local defaults. Prepares the demo assets, starts a
 * worker in this process, submits the demo campaign (zero-shot CLIP and CoOp, base-to-novel,
 * 4 shots, seeds 1 and 2) and prints the results with the UI links.
 */
public final class Demo {
  /** Demo knobs (the defaults are the demo). */
  public record Options(int epochs, List<Integer> seeds, int shots) {}

  private Demo() {}

  /** The demo campaign file, as a user would write it. */
  public static CampaignFile campaignFile(DemoAssets.Assets assets, Options o) {
    return new CampaignFile("demo", "promptline-demo",
        new CampaignFile.Model("tiny-vit-random", assets.weights().toString(), null),
        List.of(new CampaignFile.Dataset(DemoAssets.DATASET, assets.datasetRoot().toString())),
        List.of(new CampaignFile.Method("zsclip", null),
            new CampaignFile.Method("coop", Map.of("epochs", o.epochs(), "batchSize", 4, "lr", 0.01, "augViews", 2))),
        List.of(o.shots()), o.seeds(), "base2novel", 2, 30);
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
      WorkflowStub stub = CampaignSubmitter.start(conn.client(), spec);
      CampaignResult result = CampaignSubmitter.await(stub, 10, p -> out.println(progressLine(p)));
      out.println();
      out.print(table(result.runs()));
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
