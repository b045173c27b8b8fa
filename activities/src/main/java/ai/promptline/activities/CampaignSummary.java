package ai.promptline.activities;

import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Seed-aggregated results of a campaign (MLflow cannot aggregate across runs): per
 * (dataset, method, shots) the mean and sample standard deviation over seeds of base, novel and
 * HM accuracy. The HM row is the mean of per-seed HMs.
 */
public record CampaignSummary(List<RunResult> runs, List<Row> rows) {
  /** One configuration aggregated over its finished seeds. */
  public record Row(String dataset, String method, int shots, int seeds, int failed,
      double baseMean, double baseStd, double novelMean, double novelStd, double hmMean, double hmStd) {
    String key() {
      return dataset + "/" + method + "/" + shots + "shot";
    }
  }

  public static CampaignSummary of(List<RunResult> runs) {
    Map<String, List<RunResult>> groups = new LinkedHashMap<>();
    for (RunResult r : runs) {
      String k = r.config().dataset().name() + "\u0000" + r.config().method() + "\u0000" + r.config().shots();
      groups.computeIfAbsent(k, x -> new ArrayList<>()).add(r);
    }
    List<Row> rows = new ArrayList<>();
    for (List<RunResult> g : groups.values()) {
      List<Stages.EvalResult> ok = g.stream().filter(r -> Stages.FINISHED.equals(r.status()) && r.eval() != null)
          .map(RunResult::eval).toList();
      RunResult first = g.get(0);
      double[] b = ok.stream().mapToDouble(Stages.EvalResult::accBase).toArray();
      double[] n = ok.stream().mapToDouble(Stages.EvalResult::accNovel).toArray();
      double[] h = ok.stream().mapToDouble(Stages.EvalResult::hm).toArray();
      rows.add(new Row(first.config().dataset().name(), first.config().method(), first.config().shots(), ok.size(),
          g.size() - ok.size(), mean(b), std(b), mean(n), std(n), mean(h), std(h)));
    }
    return new CampaignSummary(List.copyOf(runs), rows);
  }

  /** Parent-run metrics: {@code <dataset>/<method>/<k>shot/<metric>_{mean,std}} and run counts. */
  public List<Metric> metrics(long timestamp) {
    List<Metric> m = new ArrayList<>();
    for (Row r : rows) {
      if (r.seeds() == 0) continue;
      m.add(new Metric(r.key() + "/acc_base_mean", r.baseMean(), 0, timestamp));
      m.add(new Metric(r.key() + "/acc_base_std", r.baseStd(), 0, timestamp));
      m.add(new Metric(r.key() + "/acc_novel_mean", r.novelMean(), 0, timestamp));
      m.add(new Metric(r.key() + "/acc_novel_std", r.novelStd(), 0, timestamp));
      m.add(new Metric(r.key() + "/hm_mean", r.hmMean(), 0, timestamp));
      m.add(new Metric(r.key() + "/hm_std", r.hmStd(), 0, timestamp));
    }
    long failed = runs.stream().filter(r -> !Stages.FINISHED.equals(r.status())).count();
    m.add(new Metric("runs_total", runs.size(), 0, timestamp));
    m.add(new Metric("runs_failed", failed, 0, timestamp));
    m.add(new Metric("runs_reused", runs.stream().filter(RunResult::reused).count(), 0, timestamp));
    return m;
  }

  /** Every run, one line each, then nothing else: easy to load into pandas or a sheet. */
  public String csv() {
    StringBuilder sb = new StringBuilder("dataset,method,shots,seed,status,acc_base,acc_novel,hm,run_key,mlflow_run_id,reused,error\n");
    for (RunResult r : runs) {
      Stages.EvalResult e = r.eval();
      sb.append(String.join(",", r.config().dataset().name(), r.config().method(), String.valueOf(r.config().shots()),
          String.valueOf(r.config().seed()), r.status(), e == null ? "" : fmt(e.accBase()), e == null ? "" : fmt(e.accNovel()),
          e == null ? "" : fmt(e.hm()), r.runKey(), r.mlflowRunId() == null ? "" : r.mlflowRunId(),
          String.valueOf(r.reused()), r.error() == null ? "" : '"' + csvText(r.error()) + '"')).append('\n');
    }
    return sb.toString();
  }

  /** The aggregated table as Markdown (mean ± std over seeds). */
  public String markdown() {
    StringBuilder sb = new StringBuilder("| dataset | method | shots | seeds | base | novel | HM |\n|---|---|---|---|---|---|---|\n");
    for (Row r : rows)
      sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %d%s | %.2f ± %.2f | %.2f ± %.2f | %.2f ± %.2f |%n",
          r.dataset(), r.method(), r.shots(), r.seeds(), r.failed() > 0 ? " (" + r.failed() + " failed)" : "",
          r.baseMean(), r.baseStd(), r.novelMean(), r.novelStd(), r.hmMean(), r.hmStd()));
    return sb.toString();
  }

  /** An error message as one quoted CSV field on one line: quotes become apostrophes, line breaks spaces. */
  private static String csvText(String s) {
    return s.replace('"', '\'').replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }

  static double mean(double[] x) {
    if (x.length == 0) return Double.NaN;
    double s = 0;
    for (double v : x) s += v;
    return s / x.length;
  }

  /** Sample standard deviation (n − 1); 0 for a single seed. */
  static double std(double[] x) {
    if (x.length < 2) return x.length == 1 ? 0 : Double.NaN;
    double m = mean(x);
    double s = 0;
    for (double v : x) s += (v - m) * (v - m);
    return Math.sqrt(s / (x.length - 1));
  }
}
