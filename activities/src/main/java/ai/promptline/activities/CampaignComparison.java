package ai.promptline.activities;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One or more campaigns side by side, as the papers' tables: per (dataset, method, shots) Base /
 * Novel / HM as mean ± sample std over the finished seeds, with n; then per (method, shots) the
 * average over the datasets in both conventions — the HM of the averaged base and novel (CoOp's
 * and CoCoOp's average rows) and the mean of the per-dataset HMs; and, with two or more campaigns,
 * each campaign minus the first, per cell.
 *
 * <p>A per-dataset HM is the HM of the seed-mean base and novel (the papers' convention, as in
 * {@link Comparison}); its ± is the std of the per-seed HMs. Runs without a finished result are
 * missing, never zeros: a cell without any finished seed is missing, and an average is missing for
 * a campaign that lacks a finished result on any dataset of that (method, shots) in any of the
 * compared campaigns (it would average over other datasets). Protocols {@code all} and
 * {@code cross-dataset} have a base (all-class) accuracy only. Pure: the results come in as
 * {@link RunResult}s ({@link #results} reads them).
 */
public record CampaignComparison(List<Campaign> campaigns, List<Row> rows) {
  /** A compared campaign: its label (the name, made unique), campaign key, and planned and finished run counts. */
  public record Campaign(String label, String campaignKey, int planned, int finished) {
    public String id() {
      return "campaign-" + campaignKey;
    }
  }

  /** A campaign and the results of its planned runs (one per planned run, finished or not). */
  public record Input(String name, String campaignKey, List<RunResult> runs) {}

  public enum Kind {
    DATASET("dataset"),
    AVERAGE_HM_OF_MEANS("average (HM of mean base/novel)"),
    AVERAGE_MEAN_OF_HMS("average (mean of per-dataset HMs)");

    public final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /**
   * One campaign's values in one row; null = none (missing, or not defined for the protocol).
   *
   * @param n finished seeds (dataset rows) or datasets averaged (average rows); {@code expected}: planned
   */
  public record Cell(int n, int expected, Double base, Double baseStd, Double novel, Double novelStd, Double hm, Double hmStd,
      String note) {
    static Cell missing(int expected, String note) {
      return new Cell(0, expected, null, null, null, null, null, null, note);
    }

    public boolean isMissing() {
      return base == null && novel == null && hm == null;
    }
  }

  /** Differences of a campaign against the first, per value; null where either is missing. */
  public record Diff(Double base, Double novel, Double hm) {
    static Diff of(Cell a, Cell first) {
      return new Diff(sub(a.base(), first.base()), sub(a.novel(), first.novel()), sub(a.hm(), first.hm()));
    }

    private static Double sub(Double a, Double b) {
      return a == null || b == null ? null : a - b;
    }
  }

  /**
   * @param cells one per campaign, in campaign order
   * @param diffs one per campaign after the first: {@code cells[i] − cells[0]}
   */
  public record Row(Kind kind, String dataset, String method, int shots, String protocol, List<Cell> cells, List<Diff> diffs) {}

  private record GroupKey(String dataset, String method, int shots, String protocol) {}

  /** The comparison of {@code inputs}, rows in first-seen order over the campaigns. */
  public static CampaignComparison of(List<Input> inputs) {
    if (inputs.isEmpty()) throw new IllegalArgumentException("compare needs at least one campaign");
    List<Campaign> campaigns = new ArrayList<>();
    Map<String, Integer> names = new LinkedHashMap<>();
    for (Input in : inputs) {
      int seen = names.merge(in.name(), 1, Integer::sum);
      String label = seen == 1 ? in.name() : in.name() + " #" + seen;
      long finished = in.runs().stream().filter(CampaignComparison::finished).count();
      campaigns.add(new Campaign(label, in.campaignKey(), in.runs().size(), (int) finished));
    }
    // groups over all campaigns, first-seen order; per campaign, its runs of each group
    Map<GroupKey, List<List<RunResult>>> groups = new LinkedHashMap<>();
    for (int i = 0; i < inputs.size(); i++) {
      for (RunResult r : inputs.get(i).runs()) {
        RunConfig c = r.config();
        GroupKey k = new GroupKey(Published.canonical(c.dataset().name()), methodLabel(c), c.shots(), c.protocol());
        List<List<RunResult>> per = groups.computeIfAbsent(k, x -> {
          List<List<RunResult>> l = new ArrayList<>();
          for (int j = 0; j < inputs.size(); j++) l.add(new ArrayList<>());
          return l;
        });
        per.get(i).add(r);
      }
    }
    List<Row> rows = new ArrayList<>();
    Map<GroupKey, List<Cell>> cellsByGroup = new LinkedHashMap<>();
    for (var e : groups.entrySet()) {
      GroupKey k = e.getKey();
      List<Cell> cells = new ArrayList<>();
      for (List<RunResult> runs : e.getValue()) cells.add(cell(k.protocol(), runs));
      cellsByGroup.put(k, cells);
      rows.add(row(Kind.DATASET, k.dataset(), k, cells));
    }
    rows.addAll(averages(cellsByGroup, inputs.size()));
    return new CampaignComparison(List.copyOf(campaigns), List.copyOf(rows));
  }

  private static Row row(Kind kind, String dataset, GroupKey k, List<Cell> cells) {
    List<Diff> diffs = new ArrayList<>();
    for (int i = 1; i < cells.size(); i++) diffs.add(Diff.of(cells.get(i), cells.get(0)));
    return new Row(kind, dataset, k.method(), k.shots(), k.protocol(), List.copyOf(cells), List.copyOf(diffs));
  }

  private static boolean finished(RunResult r) {
    return Stages.FINISHED.equals(r.status()) && r.eval() != null;
  }

  /** The method and its non-default options, e.g. {@code coop} or {@code maple {depth=3}}. */
  static String methodLabel(RunConfig c) {
    return c.method() + (c.options().isEmpty() ? "" : " " + c.options());
  }

  /** Mean ± std over the finished seeds of one group in one campaign. */
  private static Cell cell(String protocol, List<RunResult> runs) {
    if (runs.isEmpty()) return Cell.missing(0, "not in this campaign");
    List<EvalResult> ok = runs.stream().filter(CampaignComparison::finished).map(RunResult::eval).toList();
    if (ok.isEmpty()) return Cell.missing(runs.size(), "missing: no finished run");
    String note = ok.size() < runs.size() ? (runs.size() - ok.size()) + " of " + runs.size() + " seed(s) missing" : "";
    double[] b = ok.stream().mapToDouble(EvalResult::accBase).toArray();
    if (!RunConfig.BASE2NOVEL.equals(protocol))
      return new Cell(ok.size(), runs.size(), CampaignSummary.mean(b), CampaignSummary.std(b), null, null, null, null, note);
    double[] n = ok.stream().mapToDouble(EvalResult::accNovel).toArray();
    double[] h = ok.stream().mapToDouble(e -> EvalResult.harmonicMean(e.accBase(), e.accNovel())).toArray();
    double mb = CampaignSummary.mean(b);
    double mn = CampaignSummary.mean(n);
    return new Cell(ok.size(), runs.size(), mb, CampaignSummary.std(b), mn, CampaignSummary.std(n), EvalResult.harmonicMean(mb, mn),
        CampaignSummary.std(h), note);
  }

  /** Per (method, shots) of base-to-novel, over every dataset any campaign has for it: both average rows. */
  private static List<Row> averages(Map<GroupKey, List<Cell>> cells, int campaigns) {
    Map<GroupKey, List<GroupKey>> byMethod = new LinkedHashMap<>();
    for (GroupKey k : cells.keySet())
      if (RunConfig.BASE2NOVEL.equals(k.protocol()))
        byMethod.computeIfAbsent(new GroupKey(null, k.method(), k.shots(), k.protocol()), x -> new ArrayList<>()).add(k);
    List<Row> out = new ArrayList<>();
    for (var e : byMethod.entrySet()) {
      List<GroupKey> datasets = e.getValue();
      List<Cell> hmOfMeans = new ArrayList<>();
      List<Cell> meanOfHms = new ArrayList<>();
      for (int i = 0; i < campaigns; i++) {
        int ci = i;
        List<String> missing = datasets.stream().filter(d -> cells.get(d).get(ci).isMissing()).map(GroupKey::dataset).toList();
        if (!missing.isEmpty()) {
          String note = "missing: no finished run on " + String.join(", ", missing);
          hmOfMeans.add(Cell.missing(datasets.size(), note));
          meanOfHms.add(Cell.missing(datasets.size(), note));
          continue;
        }
        double b = datasets.stream().mapToDouble(d -> cells.get(d).get(ci).base()).average().orElseThrow();
        double n = datasets.stream().mapToDouble(d -> cells.get(d).get(ci).novel()).average().orElseThrow();
        double h = datasets.stream().mapToDouble(d -> cells.get(d).get(ci).hm()).average().orElseThrow();
        int k = datasets.size();
        hmOfMeans.add(new Cell(k, k, b, null, n, null, EvalResult.harmonicMean(b, n), null, ""));
        meanOfHms.add(new Cell(k, k, null, null, null, null, h, null, ""));
      }
      String over = datasets.size() + " dataset" + (datasets.size() == 1 ? "" : "s");
      out.add(row(Kind.AVERAGE_HM_OF_MEANS, "average of " + over, e.getKey(), hmOfMeans));
      out.add(row(Kind.AVERAGE_MEAN_OF_HMS, "average of " + over, e.getKey(), meanOfHms));
    }
    return out;
  }

  // ------------------------------------------------------------------ reading results

  /**
   * Every planned run's result: the store's commit marker {@code runs/<key>/result.json} (read with
   * {@code threads} parallel requests), else — for the runs the store lacks, when a tracker is
   * given — the tracker's finished run with that run key, as {@link Comparison#results} reads it;
   * otherwise a {@code MISSING} result without values.
   */
  public static List<RunResult> results(CampaignPlan plan, ObjectStore store, Tracker tracker, String experimentId, int threads) {
    List<CampaignPlan.PlannedRun> runs = plan.runs();
    List<RunResult> found = PlanScan.parallel(runs,
        p -> Integrity.finishedResult(store, TrackingActivitiesImpl.resultKey(p.runKey()), p.runKey()), threads);
    if (tracker != null && experimentId != null) { // the tracker for what the store lacks (at most 8 requests at a time)
      List<Integer> lacking = new ArrayList<>();
      for (int i = 0; i < runs.size(); i++) if (found.get(i) == null) lacking.add(i);
      List<RunResult> fromTracker = PlanScan.parallel(lacking,
          i -> Comparison.results(List.of(runs.get(i).config()), tracker, experimentId, store).get(0), Math.min(threads, 8));
      found = new ArrayList<>(found);
      for (int j = 0; j < lacking.size(); j++) found.set(lacking.get(j), fromTracker.get(j));
    }
    List<RunResult> out = new ArrayList<>(runs.size());
    for (int i = 0; i < runs.size(); i++) {
      CampaignPlan.PlannedRun p = runs.get(i);
      RunResult r = found.get(i);
      if (r == null) r = new RunResult(p.runKey(), p.config(), null, "MISSING", null, false, null);
      // the planned config (with this machine's roots) labels the row, whatever the record holds
      out.add(new RunResult(p.runKey(), p.config(), r.mlflowRunId(), r.status(), r.eval(), r.reused(), r.error(), r.cost(), r.device()));
    }
    return out;
  }

  // ------------------------------------------------------------------ output

  private static final String MISSING = "missing";
  private static final String NONE = "—";

  /** The header cells and body cells of the table (shared by text and Markdown). */
  private List<List<String>> table(boolean markdownBold) {
    List<List<String>> t = new ArrayList<>();
    List<String> head = new ArrayList<>(List.of("dataset", "method", "shots"));
    for (Campaign c : campaigns) for (String v : List.of("n", "base", "novel", "HM")) head.add(c.label() + " " + v);
    for (int i = 1; i < campaigns.size(); i++)
      for (String v : List.of("base", "novel", "HM")) head.add("Δ " + v + " (" + campaigns.get(i).label() + " − " + campaigns.get(0).label() + ")");
    head.add("note");
    t.add(head);
    for (Row r : rows) {
      List<String> line = new ArrayList<>();
      String where = r.kind() == Kind.DATASET ? r.dataset() + (RunConfig.BASE2NOVEL.equals(r.protocol()) ? "" : " (" + r.protocol() + ")")
          : r.kind().label;
      line.add(markdownBold && r.kind() != Kind.DATASET ? "**" + where + "**" : where);
      line.add(r.method());
      line.add(String.valueOf(r.shots()));
      List<String> notes = new ArrayList<>();
      for (int i = 0; i < r.cells().size(); i++) {
        Cell c = r.cells().get(i);
        line.add(c.n() == c.expected() ? String.valueOf(c.n()) : c.n() + "/" + c.expected());
        line.add(stat(c, c.base(), c.baseStd()));
        line.add(stat(c, c.novel(), c.novelStd()));
        line.add(stat(c, c.hm(), c.hmStd()));
        if (!c.note().isEmpty()) notes.add(campaigns.size() == 1 ? c.note() : campaigns.get(i).label() + ": " + c.note());
      }
      for (Diff d : r.diffs()) {
        line.add(signed(d.base()));
        line.add(signed(d.novel()));
        line.add(signed(d.hm()));
      }
      line.add(String.join("; ", notes));
      t.add(line);
    }
    return t;
  }

  private String legend() {
    StringBuilder sb = new StringBuilder();
    for (Campaign c : campaigns)
      sb.append(String.format(Locale.ROOT, "%s = %s: %d of %d runs finished%n", c.label(), c.id(), c.finished(), c.planned()));
    sb.append("Accuracy %, mean ± sample std over seeds; n = finished seeds (averages: datasets). Per-dataset HM: the HM of the\n")
        .append("seed-mean base and novel, ± the std of the per-seed HMs. Averages: the HM of the base and novel averaged over the\n")
        .append("datasets (CoOp/CoCoOp's average rows), and the mean of the per-dataset HMs. missing = no finished run, never 0;\n")
        .append("an average with a missing dataset is missing.");
    if (campaigns.size() > 1) sb.append(" Δ = each campaign minus ").append(campaigns.get(0).label()).append('.');
    return sb.append('\n').toString();
  }

  /** An aligned terminal table, then the legend. */
  public String text() {
    List<List<String>> t = table(false);
    int cols = t.get(0).size();
    int[] w = new int[cols];
    for (List<String> line : t) for (int i = 0; i < cols; i++) w[i] = Math.max(w[i], line.get(i).length());
    StringBuilder sb = new StringBuilder();
    for (int li = 0; li < t.size(); li++) {
      List<String> line = t.get(li);
      StringBuilder l = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        String cell = line.get(i);
        boolean left = i < 2 || i == cols - 1;
        String pad = " ".repeat(w[i] - cell.length());
        l.append(left ? cell + pad : pad + cell);
        if (i < cols - 1) l.append("  ");
      }
      sb.append(l.toString().stripTrailing()).append('\n');
      if (li == 0) {
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < cols; i++) rule.append("-".repeat(w[i])).append(i < cols - 1 ? "  " : "");
        sb.append(rule).append('\n');
      }
    }
    return sb.append('\n').append(legend()).toString();
  }

  /** A Markdown table, then the legend. */
  public String markdown() {
    List<List<String>> t = table(true);
    StringBuilder sb = new StringBuilder();
    sb.append("| ").append(String.join(" | ", t.get(0))).append(" |\n");
    sb.append("|").append("---|".repeat(t.get(0).size())).append('\n');
    for (List<String> line : t.subList(1, t.size())) sb.append("| ").append(String.join(" | ", line)).append(" |\n");
    return sb.append('\n').append(legend()).toString();
  }

  /** Long format, one line per (row, campaign): easy to load into pandas or a sheet. Empty cells for missing values. */
  public String csv() {
    StringBuilder sb = new StringBuilder("kind,dataset,method,shots,protocol,campaign,campaign_id,n,expected,"
        + "base,base_std,novel,novel_std,hm,hm_std,diff_base,diff_novel,diff_hm,note\n");
    for (Row r : rows) {
      for (int i = 0; i < campaigns.size(); i++) {
        Cell c = r.cells().get(i);
        Diff d = i == 0 ? new Diff(null, null, null) : r.diffs().get(i - 1);
        List<String> f = new ArrayList<>(List.of(r.kind().name().toLowerCase(Locale.ROOT), quote(r.dataset()), quote(r.method()),
            String.valueOf(r.shots()), r.protocol(), quote(campaigns.get(i).label()), campaigns.get(i).id(), String.valueOf(c.n()),
            String.valueOf(c.expected())));
        for (Double v : new Double[] {c.base(), c.baseStd(), c.novel(), c.novelStd(), c.hm(), c.hmStd(), d.base(), d.novel(), d.hm()})
          f.add(v == null ? "" : String.format(Locale.ROOT, "%.4f", v));
        f.add(quote(c.note()));
        sb.append(String.join(",", f)).append('\n');
      }
    }
    return sb.toString();
  }

  /** The table in {@code format}: text, markdown or csv. */
  public String format(String format) {
    return switch (format.toLowerCase(Locale.ROOT)) {
      case "text" -> text();
      case "markdown", "md" -> markdown();
      case "csv" -> csv();
      default -> throw new IllegalArgumentException("--format " + format + ": unknown format; use text, markdown or csv");
    };
  }

  private static String stat(Cell c, Double mean, Double std) {
    if (c.isMissing()) return MISSING;
    if (mean == null) return NONE;
    return std == null ? String.format(Locale.ROOT, "%.2f", mean) : String.format(Locale.ROOT, "%.2f ± %.2f", mean, std);
  }

  private static String signed(Double v) {
    return v == null ? NONE : String.format(Locale.ROOT, "%+.2f", v);
  }

  private static String quote(String s) {
    if (s == null || s.isEmpty()) return "";
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }

}
