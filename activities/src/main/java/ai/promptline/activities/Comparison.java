package ai.promptline.activities;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.activities.tracking.Tracker.RunInfo;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A campaign's results next to published numbers ({@link Published}): per (dataset, method, shots)
 * our mean ± sample std over seeds, the published value and ours − published; then, for
 * base-to-novel, the average over the 11 benchmark datasets computed both ways: the HM of the
 * averaged base and novel (the convention of the references' average rows) and the mean of the
 * per-dataset HMs. A per-dataset HM is the HM of the seed-mean base and novel (as the papers' tables);
 * its ± is the std of the per-seed HMs. Runs without a result are missing, never zeros; an average
 * with a missing dataset is missing. Pure: the results come in as {@link RunResult}s
 * ({@link #results} reads them from the tracker and the object store).
 */
public record Comparison(List<Line> lines) {
  /** The 11 datasets of the base-to-novel benchmark (CoCoOp Table 1), platform names. */
  public static final List<String> BENCHMARK_11 = List.of("ImageNet", "Caltech101", "OxfordPets", "StanfordCars", "OxfordFlowers",
      "Food101", "FGVCAircraft", "SUN397", "DescribableTextures", "EuroSAT", "UCF101");

  /** What a line is. */
  public enum Kind {
    DATASET("dataset"),
    /** HM of the base and novel averaged over datasets (the references' average rows). */
    AVERAGE_HM_OF_MEANS("average: HM of mean base/novel"),
    /** Mean of the per-dataset HMs. */
    AVERAGE_MEAN_OF_HMS("average: mean of per-dataset HMs");

    public final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /** Accuracies in percent; null = none. */
  public record Values(Double base, Double novel, Double hm, Double accuracy) {
    public static final Values NONE = new Values(null, null, null, null);

    boolean isEmpty() {
      return base == null && novel == null && hm == null && accuracy == null;
    }

    Values minus(Values p) {
      return new Values(sub(base, p.base), sub(novel, p.novel), sub(hm, p.hm), sub(accuracy, p.accuracy));
    }

    private static Double sub(Double a, Double b) {
      return a == null || b == null ? null : a - b;
    }
  }

  /**
   * One line of the comparison.
   *
   * @param method the registry name; {@code methodLabel} adds non-default options
   * @param datasets for averages, how many datasets were averaged (0 on dataset lines)
   * @param seeds finished seeds (for averages: of the least-finished dataset); {@code expectedSeeds} planned
   * @param ours our values, {@link Values#NONE} when missing; {@code oursStd} their std over seeds
   * @param published the published values ({@link Values#NONE} when there is no published number)
   * @param comparable whether {@link #diff} is meaningful (false e.g. for an average over fewer than the 11 datasets)
   * @param note why a line is missing or not comparable, or where a published value comes from
   */
  public record Line(Kind kind, String dataset, String method, String methodLabel, int shots, String protocol, int datasets,
      int seeds, int expectedSeeds, Values ours, Values oursStd, String table, String publishedLabel, Values published,
      String verification, String source, boolean comparable, String note) {
    /** ours − published where both exist and the line is comparable; otherwise {@link Values#NONE}. */
    public Values diff() {
      return comparable ? ours.minus(published) : Values.NONE;
    }

    boolean missing() {
      return ours.isEmpty();
    }
  }

  private record Group(String dataset, String method, String label, int shots, String protocol, List<RunResult> runs) {}

  /** Compares {@code runs} (every planned run, finished or not) with {@code published}. */
  public static Comparison of(List<RunResult> runs, List<Published> published) {
    Map<String, Group> groups = new LinkedHashMap<>();
    for (RunResult r : runs) {
      RunConfig c = r.config();
      String ds = Published.canonical(c.dataset().name());
      String label = c.method() + (c.options().isEmpty() ? "" : " " + c.options());
      groups.computeIfAbsent(ds + "\u0000" + label + "\u0000" + c.shots() + "\u0000" + c.protocol(),
          k -> new Group(ds, c.method(), label, c.shots(), c.protocol(), new ArrayList<>())).runs().add(r);
    }
    List<Line> lines = new ArrayList<>();
    Map<String, Values> oursByGroup = new LinkedHashMap<>();
    for (Map.Entry<String, Group> e : groups.entrySet()) {
      Group g = e.getValue();
      List<EvalResult> ok = g.runs().stream().filter(r -> Stages.FINISHED.equals(r.status()) && r.eval() != null)
          .map(RunResult::eval).toList();
      Values[] v = ours(g.protocol(), ok);
      oursByGroup.put(e.getKey(), v[0]);
      String note = ok.isEmpty() ? "missing: no finished run" : ok.size() < g.runs().size() ? (g.runs().size() - ok.size()) + " seed(s) missing" : "";
      List<Published> match = published.stream().filter(p -> !p.isAverage() && p.protocol().equals(g.protocol())
          && p.method().equals(g.method()) && p.dataset().equals(g.dataset()) && p.shots() == g.shots()).toList();
      if (match.isEmpty()) {
        lines.add(new Line(Kind.DATASET, g.dataset(), g.method(), g.label(), g.shots(), g.protocol(), 0, ok.size(), g.runs().size(),
            v[0], v[1], "", "", Values.NONE, "", "", false, note.isEmpty() ? "no published number" : note));
      }
      if (!g.label().equals(g.method())) // the published numbers are the method's reference settings
        note = (note.isEmpty() ? "" : note + "; ") + "ours with non-default options";
      for (Published p : match) {
        Values pub = new Values(p.base(), p.novel(), p.hm(), p.accuracy());
        lines.add(new Line(Kind.DATASET, g.dataset(), g.method(), g.label(), g.shots(), g.protocol(), 0, ok.size(), g.runs().size(),
            v[0], v[1], p.table(), p.label(), pub, p.verification(), p.source(), !ok.isEmpty(), note));
      }
    }
    lines.addAll(averages(groups, published));
    return new Comparison(List.copyOf(lines));
  }

  /** Our mean values and their stds over the finished seeds (NONE when none). */
  private static Values[] ours(String protocol, List<EvalResult> ok) {
    if (ok.isEmpty()) return new Values[] {Values.NONE, Values.NONE};
    double[] b = ok.stream().mapToDouble(EvalResult::accBase).toArray();
    if (!protocol.equals("base2novel")) {
      return new Values[] {new Values(null, null, null, CampaignSummary.mean(b)), new Values(null, null, null, CampaignSummary.std(b))};
    }
    double[] n = ok.stream().mapToDouble(EvalResult::accNovel).toArray();
    double[] h = ok.stream().mapToDouble(e -> EvalResult.harmonicMean(e.accBase(), e.accNovel())).toArray();
    double mb = CampaignSummary.mean(b);
    double mn = CampaignSummary.mean(n);
    return new Values[] {new Values(mb, mn, EvalResult.harmonicMean(mb, mn), null),
        new Values(CampaignSummary.std(b), CampaignSummary.std(n), CampaignSummary.std(h), null)};
  }

  /** The two average lines per (method, shots) of base-to-novel, against each published average. */
  private static List<Line> averages(Map<String, Group> groups, List<Published> published) {
    Map<String, List<Group>> byMethod = new LinkedHashMap<>();
    for (Group g : groups.values())
      if (g.protocol().equals("base2novel")) byMethod.computeIfAbsent(g.label() + "\u0000" + g.shots(), k -> new ArrayList<>()).add(g);
    List<Line> out = new ArrayList<>();
    for (List<Group> gs : byMethod.values()) {
      Group first = gs.get(0);
      List<Group> pool = gs.stream().filter(g -> BENCHMARK_11.contains(g.dataset())).toList();
      if (pool.isEmpty()) pool = gs;
      int n = pool.size();
      List<String> missing = new ArrayList<>();
      double sb = 0, sn = 0, sh = 0;
      int seeds = Integer.MAX_VALUE, expected = 0;
      for (Group g : pool) {
        List<EvalResult> ok = g.runs().stream().filter(r -> Stages.FINISHED.equals(r.status()) && r.eval() != null)
            .map(RunResult::eval).toList();
        seeds = Math.min(seeds, ok.size());
        expected = Math.max(expected, g.runs().size());
        if (ok.isEmpty()) {
          missing.add(g.dataset());
          continue;
        }
        Values v = ours("base2novel", ok)[0];
        sb += v.base();
        sn += v.novel();
        sh += v.hm();
      }
      boolean all11 = new LinkedHashSet<>(pool.stream().map(Group::dataset).toList()).containsAll(BENCHMARK_11);
      Values hmOfMeans = Values.NONE;
      Values meanOfHms = Values.NONE;
      String note;
      if (missing.isEmpty()) {
        hmOfMeans = new Values(sb / n, sn / n, EvalResult.harmonicMean(sb / n, sn / n), null);
        meanOfHms = new Values(null, null, sh / n, null);
        note = all11 ? "" : "ours over " + n + " of the 11 datasets: not comparable with an 11-dataset average";
      } else {
        note = "missing: no finished run on " + String.join(", ", missing);
      }
      boolean comparable = missing.isEmpty() && all11;
      List<Published> avg = published.stream().filter(p -> p.isAverage() && p.protocol().equals("base2novel")
          && p.method().equals(first.method()) && p.shots() == first.shots()).toList();
      if (avg.isEmpty()) {
        String why = note.isEmpty() ? "no published average" : note;
        out.add(avgLine(Kind.AVERAGE_HM_OF_MEANS, first, n, seeds, expected, hmOfMeans, null, Values.NONE, false, why));
        out.add(avgLine(Kind.AVERAGE_MEAN_OF_HMS, first, n, seeds, expected, meanOfHms, null, Values.NONE, false, why));
      }
      for (Published p : avg) {
        out.add(avgLine(Kind.AVERAGE_HM_OF_MEANS, first, n, seeds, expected, hmOfMeans, p,
            new Values(p.base(), p.novel(), p.hm(), null), comparable, note));
        // the published mean of per-dataset HMs, where the same table lists all 11 datasets
        List<Published> rows = published.stream().filter(q -> q.table().equals(p.table()) && q.method().equals(p.method())
            && q.shots() == p.shots() && q.protocol().equals("base2novel") && BENCHMARK_11.contains(q.dataset())).toList();
        boolean derived = rows.stream().map(Published::dataset).distinct().count() == BENCHMARK_11.size() && rows.size() == BENCHMARK_11.size();
        Values pub = derived ? new Values(null, null, rows.stream().mapToDouble(Published::hm).average().orElseThrow(), null) : Values.NONE;
        String n2 = derived ? (note.isEmpty() ? "published: mean of the table's 11 per-dataset HMs" : note)
            : (note.isEmpty() ? "the published table has no per-dataset rows" : note);
        Line l = avgLine(Kind.AVERAGE_MEAN_OF_HMS, first, n, seeds, expected, meanOfHms, derived ? p : null, pub, comparable && derived, n2);
        if (derived) { // derived from the per-dataset rows: their verification, not the average row's
          String v = "derived from " + rows.stream().map(Published::verification).distinct().collect(java.util.stream.Collectors.joining("/")) + " rows";
          l = new Line(l.kind(), l.dataset(), l.method(), l.methodLabel(), l.shots(), l.protocol(), l.datasets(), l.seeds(), l.expectedSeeds(),
              l.ours(), l.oursStd(), l.table(), l.publishedLabel(), l.published(), v, rows.get(0).source(), l.comparable(), l.note());
        }
        out.add(l);
      }
    }
    return out;
  }

  private static Line avgLine(Kind kind, Group g, int n, int seeds, int expected, Values ours, Published p, Values pub,
      boolean comparable, String note) {
    return new Line(kind, Published.AVERAGE, g.method(), g.label(), g.shots(), g.protocol(), n, seeds == Integer.MAX_VALUE ? 0 : seeds,
        expected, ours, Values.NONE, p == null ? "" : p.table(), p == null ? "" : p.label(), pub, p == null ? "" : p.verification(),
        p == null ? "" : p.source(), comparable, note);
  }

  // ------------------------------------------------------------------ reading results

  /**
   * Every planned run's result, from what outlives the campaign: the tracker's finished run carrying
   * the run key tag ({@code acc_base}, {@code acc_novel}, {@code hm} metrics), else the object store's
   * commit marker {@code runs/<key>/result.json} (a run reused from another experiment); otherwise a
   * {@code MISSING} result without values.
   */
  public static List<RunResult> results(List<RunConfig> planned, Tracker tracker, String experimentId, ObjectStore store) {
    List<RunResult> out = new ArrayList<>();
    for (RunConfig c : planned) {
      String key = ContentKeys.runKey(c);
      RunResult r = fromTracker(c, key, tracker, experimentId)
          .or(() -> Optional.ofNullable(Integrity.finishedResult(store, TrackingActivitiesImpl.resultKey(key), key)))
          .orElse(new RunResult(key, c, null, "MISSING", null, false, null));
      out.add(r.config() == null ? new RunResult(key, c, r.mlflowRunId(), r.status(), r.eval(), r.reused(), r.error()) : r);
    }
    return out;
  }

  private static Optional<RunResult> fromTracker(RunConfig c, String key, Tracker tracker, String experimentId) {
    if (experimentId == null) return Optional.empty();
    for (RunInfo run : tracker.findRuns(experimentId, TrackingActivitiesImpl.TAG_RUN_KEY, key)) {
      if (!Stages.FINISHED.equals(run.status())) continue;
      Function<String, Double> last = m -> {
        List<Metric> h = tracker.metricHistory(run.runId(), m);
        return h.isEmpty() ? null : h.get(h.size() - 1).value();
      };
      Double b = last.apply("acc_base");
      if (b == null) continue;
      Double n = last.apply("acc_novel");
      Double h = last.apply("hm");
      EvalResult e = new EvalResult(b, n == null ? 0 : n, h == null ? 0 : h, 0, 0);
      return Optional.of(new RunResult(key, c, run.runId(), Stages.FINISHED, e, false, null));
    }
    return Optional.empty();
  }

  // ------------------------------------------------------------------ output

  /** Parent-run metrics {@code compare/<table>/<dataset|average kind>/<method>/<k>shot/<value>_{ours,published,diff}} of the comparable lines. */
  public List<Metric> metrics(long timestamp) {
    List<Metric> m = new ArrayList<>();
    for (Line l : lines) {
      if (!l.comparable()) continue;
      String where = l.kind() == Kind.DATASET ? l.dataset()
          : l.kind() == Kind.AVERAGE_HM_OF_MEANS ? "average_hm_of_means" : "average_mean_of_hms";
      String prefix = metricName("compare/" + l.table() + "/" + where + "/" + l.methodLabel() + "/" + l.shots() + "shot/");
      Values d = l.diff();
      add(m, prefix, "base", l.ours().base(), l.published().base(), d.base(), timestamp);
      add(m, prefix, "novel", l.ours().novel(), l.published().novel(), d.novel(), timestamp);
      add(m, prefix, "hm", l.ours().hm(), l.published().hm(), d.hm(), timestamp);
      add(m, prefix, "acc", l.ours().accuracy(), l.published().accuracy(), d.accuracy(), timestamp);
    }
    return m;
  }

  private static void add(List<Metric> m, String prefix, String what, Double ours, Double pub, Double diff, long t) {
    if (diff == null) return;
    m.add(new Metric(prefix + what + "_ours", ours, 0, t));
    m.add(new Metric(prefix + what + "_published", pub, 0, t));
    m.add(new Metric(prefix + what + "_diff", diff, 0, t));
  }

  /** MLflow metric names allow letters, digits, _ - . / and spaces. */
  static String metricName(String s) {
    return s.replaceAll("[^A-Za-z0-9_\\-./ ]", "_");
  }

  /** The comparison as Markdown: base-to-novel, then all-class lines, each with its legend. */
  public String markdown() {
    StringBuilder sb = new StringBuilder();
    List<Line> b2n = lines.stream().filter(l -> l.protocol().equals("base2novel")).toList();
    List<Line> other = lines.stream().filter(l -> !l.protocol().equals("base2novel")).toList();
    if (!b2n.isEmpty()) {
      sb.append("### Base-to-novel (accuracy %; ours: mean ± std over seeds)\n\n")
          .append("| dataset | method | shots | seeds | base | novel | HM | published | base | novel | HM | Δ base | Δ novel | Δ HM | note |\n")
          .append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      for (Line l : b2n) {
        Values d = l.diff();
        sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
            where(l), l.methodLabel(), l.shots(), seeds(l), stat(l, l.ours().base(), l.oursStd().base()),
            stat(l, l.ours().novel(), l.oursStd().novel()), stat(l, l.ours().hm(), l.oursStd().hm()), pubName(l),
            num(l.published().base()), num(l.published().novel()), num(l.published().hm()), signed(d.base()), signed(d.novel()),
            signed(d.hm()), l.note()));
      }
      sb.append("\nPer-dataset HM: the HM of the seed-mean base and novel (the papers' convention); its ± is the std of the per-seed HMs.\n")
          .append("Average (HM of mean base/novel): base and novel averaged over the datasets, then their HM: the references' average rows.\n")
          .append("Average (mean of per-dataset HMs): the mean of the per-dataset HMs; its published value is derived from the table's per-dataset rows.\n")
          .append("Δ = ours − published. missing = no finished run (never counted as 0); an average with a missing dataset is missing.\n\n");
    }
    if (!other.isEmpty()) {
      sb.append("### All classes (accuracy %; ours: mean ± std over seeds)\n\n")
          .append("| dataset | method | shots | protocol | seeds | accuracy | published | accuracy | Δ | note |\n")
          .append("|---|---|---|---|---|---|---|---|---|---|\n");
      for (Line l : other) {
        sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", l.dataset(), l.methodLabel(),
            l.shots(), l.protocol(), seeds(l), stat(l, l.ours().accuracy(), l.oursStd().accuracy()), pubName(l),
            num(l.published().accuracy()), signed(l.diff().accuracy()), l.note()));
      }
      sb.append("\nΔ = ours − published. missing = no finished run (never counted as 0).\n");
    }
    return sb.toString();
  }

  /** One CSV line per comparison line; empty cells for missing values. */
  public String csv() {
    StringBuilder sb = new StringBuilder("kind,dataset,method,shots,protocol,datasets,seeds,expected_seeds,"
        + "ours_base,ours_base_std,ours_novel,ours_novel_std,ours_hm,ours_hm_std,ours_acc,ours_acc_std,"
        + "table,published_label,pub_base,pub_novel,pub_hm,pub_acc,diff_base,diff_novel,diff_hm,diff_acc,verification,source,note\n");
    for (Line l : lines) {
      Values d = l.diff();
      List<String> c = new ArrayList<>(List.of(l.kind().name().toLowerCase(Locale.ROOT), l.dataset(), text(l.methodLabel()),
          String.valueOf(l.shots()), l.protocol(), String.valueOf(l.datasets()), String.valueOf(l.seeds()), String.valueOf(l.expectedSeeds())));
      for (Double v : new Double[] {l.ours().base(), l.oursStd().base(), l.ours().novel(), l.oursStd().novel(), l.ours().hm(),
          l.oursStd().hm(), l.ours().accuracy(), l.oursStd().accuracy()}) c.add(cell(v));
      c.add(l.table());
      c.add(text(l.publishedLabel()));
      for (Double v : new Double[] {l.published().base(), l.published().novel(), l.published().hm(), l.published().accuracy(),
          d.base(), d.novel(), d.hm(), d.accuracy()}) c.add(cell(v));
      c.addAll(List.of(text(l.verification()), text(l.source()), text(l.note())));
      sb.append(String.join(",", c)).append('\n');
    }
    return sb.toString();
  }

  private static String where(Line l) {
    if (l.kind() == Kind.DATASET) return l.dataset();
    return "**Average** (" + (l.kind() == Kind.AVERAGE_HM_OF_MEANS ? "HM of mean base/novel" : "mean of per-dataset HMs") + "; "
        + l.datasets() + " datasets)";
  }

  private static String seeds(Line l) {
    return l.seeds() == l.expectedSeeds() ? String.valueOf(l.seeds()) : l.seeds() + "/" + l.expectedSeeds();
  }

  private static String pubName(Line l) {
    return l.table().isEmpty() ? "—" : l.publishedLabel() + " (" + l.table() + ", " + l.verification() + ")";
  }

  private static String stat(Line l, Double mean, Double std) {
    if (l.missing()) return "missing";
    if (mean == null) return "—";
    return std == null ? num(mean) : String.format(Locale.ROOT, "%.2f ± %.2f", mean, std);
  }

  private static String num(Double v) {
    return v == null ? "—" : String.format(Locale.ROOT, "%.2f", v);
  }

  private static String signed(Double v) {
    return v == null ? "—" : String.format(Locale.ROOT, "%+.2f", v);
  }

  private static String cell(Double v) {
    return v == null ? "" : String.format(Locale.ROOT, "%.4f", v);
  }

  private static String text(String s) {
    return s == null || s.isEmpty() ? "" : '"' + s.replace('"', '\'') + '"';
  }
}
