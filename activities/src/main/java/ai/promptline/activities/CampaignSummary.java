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
 * HM accuracy. The HM row is the mean of per-seed HMs. Cross-dataset campaigns add one column per
 * target ({@code acc_target/<dataset>}) and their per-run average ({@code acc_target_avg}).
 */
public record CampaignSummary(List<RunResult> runs, List<Row> rows) {
  /** One configuration aggregated over its finished seeds; {@code targets} empty without cross-dataset targets. */
  public record Row(String dataset, String method, int shots, int seeds, int failed,
      double baseMean, double baseStd, double novelMean, double novelStd, double hmMean, double hmStd,
      List<TargetStat> targets) {
    String key() {
      return dataset + "/" + method + "/" + shots + "shot";
    }

    /** The statistic of one target column (a dataset name or {@link #AVG}), or null. */
    TargetStat target(String column) {
      return targets.stream().filter(t -> t.column().equals(column)).findFirst().orElse(null);
    }
  }

  /**
   * Mean ± sample std over seeds of one target column: a target dataset's accuracy, or
   * {@link #AVG}, the per-run mean over targets.
   */
  public record TargetStat(String column, int seeds, double mean, double std) {}

  /** Column of the per-run average over targets. */
  public static final String AVG = "avg";

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
          g.size() - ok.size(), mean(b), std(b), mean(n), std(n), mean(h), std(h), targetStats(ok)));
    }
    return new CampaignSummary(List.copyOf(runs), rows);
  }

  /** Per target (first-seen order), then {@link #AVG}: mean ± std over the seeds that evaluated it. */
  private static List<TargetStat> targetStats(List<Stages.EvalResult> ok) {
    Map<String, List<Double>> byTarget = new LinkedHashMap<>();
    List<Double> avg = new ArrayList<>();
    for (Stages.EvalResult e : ok) {
      if (e.targets().isEmpty()) continue;
      for (Stages.TargetResult t : e.targets()) byTarget.computeIfAbsent(t.dataset(), k -> new ArrayList<>()).add(t.accuracy());
      avg.add(e.targetMean());
    }
    if (avg.isEmpty()) return List.of();
    byTarget.put(AVG, avg);
    List<TargetStat> out = new ArrayList<>();
    byTarget.forEach((k, v) -> {
      double[] x = v.stream().mapToDouble(Double::doubleValue).toArray();
      out.add(new TargetStat(k, x.length, mean(x), std(x)));
    });
    return List.copyOf(out);
  }

  /** Target columns over all runs, first-seen order, then {@link #AVG}; empty without targets. */
  List<String> targetColumns() {
    java.util.LinkedHashSet<String> cols = new java.util.LinkedHashSet<>();
    for (RunResult r : runs)
      if (r.eval() != null) r.eval().targets().forEach(t -> cols.add(t.dataset()));
    if (cols.isEmpty()) return List.of();
    cols.add(AVG);
    return List.copyOf(cols);
  }

  private static String metricName(String column) {
    return column.equals(AVG) ? "acc_target_avg" : "acc_target/" + column;
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
      for (TargetStat t : r.targets()) {
        m.add(new Metric(r.key() + "/" + metricName(t.column()) + "_mean", t.mean(), 0, timestamp));
        m.add(new Metric(r.key() + "/" + metricName(t.column()) + "_std", t.std(), 0, timestamp));
      }
    }
    long failed = runs.stream().filter(r -> !Stages.FINISHED.equals(r.status())).count();
    m.add(new Metric("runs_total", runs.size(), 0, timestamp));
    m.add(new Metric("runs_failed", failed, 0, timestamp));
    m.add(new Metric("runs_reused", runs.stream().filter(RunResult::reused).count(), 0, timestamp));
    return m;
  }

  /** Every run, one line each, then nothing else: easy to load into pandas or a sheet. */
  public String csv() {
    List<String> targets = targetColumns();
    StringBuilder sb = new StringBuilder("dataset,method,shots,seed,status,acc_base,acc_novel,hm,");
    for (String t : targets) sb.append(metricName(t)).append(',');
    sb.append("run_key,mlflow_run_id,reused,error\n");
    for (RunResult r : runs) {
      Stages.EvalResult e = r.eval();
      List<String> cells = new ArrayList<>(List.of(r.config().dataset().name(), r.config().method(),
          String.valueOf(r.config().shots()), String.valueOf(r.config().seed()), r.status(),
          e == null ? "" : fmt(e.accBase()), e == null ? "" : fmt(e.accNovel()), e == null ? "" : fmt(e.hm())));
      for (String t : targets) cells.add(e == null ? "" : targetCell(e, t));
      cells.addAll(List.of(r.runKey(), r.mlflowRunId() == null ? "" : r.mlflowRunId(),
          String.valueOf(r.reused()), r.error() == null ? "" : '"' + csvText(r.error()) + '"'));
      sb.append(String.join(",", cells)).append('\n');
    }
    return sb.toString();
  }

  private static String targetCell(Stages.EvalResult e, String column) {
    if (e.targets().isEmpty()) return "";
    if (column.equals(AVG)) return fmt(e.targetMean());
    return e.targets().stream().filter(t -> t.dataset().equals(column)).findFirst()
        .map(t -> fmt(t.accuracy())).orElse("");
  }

  /** The aggregated table as Markdown (mean ± std over seeds). */
  public String markdown() {
    List<String> targets = targetColumns();
    StringBuilder sb = new StringBuilder("| dataset | method | shots | seeds | base | novel | HM |");
    for (String t : targets) sb.append(' ').append(t.equals(AVG) ? "target avg" : t).append(" |");
    sb.append("\n|---|---|---|---|---|---|---|").append("---|".repeat(targets.size())).append('\n');
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %d%s | %.2f ± %.2f | %.2f ± %.2f | %.2f ± %.2f |",
          r.dataset(), r.method(), r.shots(), r.seeds(), r.failed() > 0 ? " (" + r.failed() + " failed)" : "",
          r.baseMean(), r.baseStd(), r.novelMean(), r.novelStd(), r.hmMean(), r.hmStd()));
      for (String t : targets) {
        TargetStat st = r.target(t);
        sb.append(st == null ? " |" : String.format(Locale.ROOT, " %.2f ± %.2f |", st.mean(), st.std()));
      }
      sb.append(System.lineSeparator());
    }
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
