package ai.promptline.activities;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The campaign's plots, PNG artifacts of its MLflow parent run (JFreeChart, rendered headless):
 * {@value #ACCURACY}, a grouped bar chart of Base / Novel / HM (seed means, as in
 * {@link CampaignComparison}) per method and dataset, and {@value #CURVES}, the training loss per
 * epoch of each run.
 *
 * <p>Loss histories come from MLflow's metric history of {@code loss} (one GET per run): it is
 * the run's authoritative record — every epoch exactly once, backfilled from the checkpoint when a
 * logging call was lost (see {@link EpochHistory}) — and it outlives checkpoints, which a cleanup
 * may delete. A run without an MLflow history (no MLflow run id) falls back to the history in the
 * metadata of its newest checkpoint in the object store. At most {@link #MAX_CURVES} runs are drawn
 * (grid order; the chart says how many were left out).
 */
public final class CampaignPlots {
  private static final Logger LOG = LoggerFactory.getLogger(CampaignPlots.class);
  public static final String ACCURACY = "plots/accuracy.png";
  public static final String CURVES = "plots/training-curves.png";
  public static final int MAX_CURVES = 60;
  public static final int CURVES_WIDTH = 1200;
  public static final int CURVES_HEIGHT = 700;
  public static final int ACCURACY_HEIGHT = 700;
  static final String BASE = "Base";
  static final String NOVEL = "Novel";
  static final String HM = "HM";
  private static final ObjectMapper JSON = new ObjectMapper();

  private CampaignPlots() {}

  /**
   * Renders both plots and uploads them to {@code parentRunId}. A failure to plot is logged and
   * swallowed: plots must never fail a campaign (its results are already committed).
   *
   * @return the artifact paths written
   */
  public static List<String> log(Tracker tracker, ObjectStore store, String parentRunId, List<RunResult> runs) {
    List<String> written = new ArrayList<>();
    try {
      tracker.uploadArtifact(parentRunId, ACCURACY, png(accuracyChart(runs), accuracyWidth(runs), ACCURACY_HEIGHT));
      written.add(ACCURACY);
      tracker.uploadArtifact(parentRunId, CURVES, png(curvesChart(runs, lossHistories(tracker, store, runs)), CURVES_WIDTH, CURVES_HEIGHT));
      written.add(CURVES);
    } catch (RuntimeException | Error e) {
      if (e instanceof VirtualMachineError vm) throw vm;
      LOG.warn("campaign plots for run {} not written: {}", parentRunId, e.toString());
    }
    return written;
  }

  // ------------------------------------------------------------------ accuracy

  /** The bar chart's data: rows Base, Novel, HM; one column per (dataset, method, shots) with a finished run. */
  public static DefaultCategoryDataset accuracyDataset(List<RunResult> runs) {
    CampaignComparison c = CampaignComparison.of(List.of(new CampaignComparison.Input("campaign", "", runs)));
    DefaultCategoryDataset d = new DefaultCategoryDataset();
    for (CampaignComparison.Row r : c.rows()) {
      if (r.kind() != CampaignComparison.Kind.DATASET) continue;
      CampaignComparison.Cell cell = r.cells().get(0);
      if (cell.isMissing()) continue; // missing is no bar, never a bar at 0
      String column = column(r);
      // every column gets all three rows, so a value the protocol lacks (novel under 'all') leaves a gap, not a shift
      d.addValue(cell.base(), BASE, column);
      d.addValue(cell.novel(), NOVEL, column);
      d.addValue(cell.hm(), HM, column);
    }
    return d;
  }

  static String column(CampaignComparison.Row r) {
    return r.dataset() + " · " + r.method() + " · " + r.shots() + "-shot" + (RunConfig.BASE2NOVEL.equals(r.protocol()) ? "" : " (" + r.protocol() + ")");
  }

  static int accuracyWidth(List<RunResult> runs) {
    return Math.max(800, Math.min(6000, 160 + 70 * accuracyDataset(runs).getColumnCount()));
  }

  public static JFreeChart accuracyChart(List<RunResult> runs) {
    PlotFonts.ensure();
    DefaultCategoryDataset d = accuracyDataset(runs);
    JFreeChart chart = ChartFactory.createBarChart("Accuracy per method and dataset (mean over seeds)", "dataset · method · shots",
        "accuracy (%)", d, PlotOrientation.VERTICAL, true, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    ((NumberAxis) plot.getRangeAxis()).setRange(0, 100);
    CategoryAxis x = plot.getDomainAxis();
    x.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
    x.setMaximumCategoryLabelLines(2);
    BarRenderer bars = (BarRenderer) plot.getRenderer();
    bars.setBarPainter(new StandardBarPainter());
    bars.setShadowVisible(false);
    bars.setSeriesPaint(0, new Color(0x1f77b4));
    bars.setSeriesPaint(1, new Color(0xff7f0e));
    bars.setSeriesPaint(2, new Color(0x2ca02c));
    bars.setItemMargin(0.02);
    if (d.getColumnCount() == 0) chart.addSubtitle(new TextTitle("no finished run"));
    return chart;
  }

  // ------------------------------------------------------------------ training curves

  /** Loss per epoch (step → loss) of each finished run that trained, grid order, at most {@link #MAX_CURVES}. */
  static Map<RunResult, List<double[]>> lossHistories(Tracker tracker, ObjectStore store, List<RunResult> runs) {
    List<RunResult> candidates = runs.stream().filter(r -> Stages.FINISHED.equals(r.status())).limit(MAX_CURVES).toList();
    List<List<double[]>> histories = PlanScan.parallel(candidates, r -> history(tracker, store, r), 8);
    Map<RunResult, List<double[]>> out = new LinkedHashMap<>();
    for (int i = 0; i < candidates.size(); i++)
      if (!histories.get(i).isEmpty()) out.put(candidates.get(i), histories.get(i));
    return out;
  }

  private static List<double[]> history(Tracker tracker, ObjectStore store, RunResult r) {
    List<double[]> points = new ArrayList<>();
    if (r.mlflowRunId() != null) {
      Map<Long, Double> byStep = new java.util.TreeMap<>();
      for (Metric m : tracker.metricHistory(r.mlflowRunId(), EpochHistory.LOSS)) byStep.putIfAbsent(m.step(), m.value());
      byStep.forEach((s, v) -> points.add(new double[] {s, v}));
    }
    if (points.isEmpty() && store != null) checkpointHistory(store, r.runKey()).ifPresent(h -> {
      for (EpochHistory.Point p : h.points()) points.add(new double[] {p.step(), p.loss()});
    });
    return points;
  }

  /** The history in the metadata of the run's newest checkpoint (safetensors header only). */
  static Optional<EpochHistory> checkpointHistory(ObjectStore store, String runKey) {
    try {
      List<String> ckpts = store.list("runs/" + runKey + "/ckpt/");
      if (ckpts.isEmpty()) return Optional.empty();
      Optional<byte[]> bytes = store.find(ckpts.get(ckpts.size() - 1));
      if (bytes.isEmpty()) return Optional.empty();
      Map<String, String> meta = safetensorsMetadata(bytes.get());
      EpochHistory h = EpochHistory.decode(meta);
      return h.points().isEmpty() ? Optional.empty() : Optional.of(h);
    } catch (RuntimeException e) {
      LOG.info("run {}: no loss history from its checkpoint ({})", runKey, e.toString());
      return Optional.empty();
    }
  }

  /** The {@code __metadata__} of a safetensors blob: an 8-byte little-endian header length, then the JSON header. */
  static Map<String, String> safetensorsMetadata(byte[] data) {
    long n = ByteBuffer.wrap(data, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (n < 2 || n > data.length - 8) throw new IllegalArgumentException("not a safetensors blob (header length " + n + ")");
    try {
      JsonNode meta = JSON.readTree(new String(data, 8, (int) n, StandardCharsets.UTF_8)).path("__metadata__");
      Map<String, String> out = new LinkedHashMap<>();
      meta.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The curves' data: one series per run ({@code method · dataset · shots · seed}), x = epoch, y = mean training loss. */
  public static XYSeriesCollection curvesDataset(Map<RunResult, List<double[]>> histories) {
    XYSeriesCollection d = new XYSeriesCollection();
    for (var e : histories.entrySet()) {
      RunConfig c = e.getKey().config();
      XYSeries s = new XYSeries(CampaignComparison.methodLabel(c) + " · " + c.dataset().name() + " · " + c.shots() + "-shot · seed "
          + c.seed(), false, false);
      for (double[] p : e.getValue()) s.add(p[0], p[1]);
      d.addSeries(s);
    }
    return d;
  }

  static JFreeChart curvesChart(List<RunResult> runs, Map<RunResult, List<double[]>> histories) {
    PlotFonts.ensure();
    XYSeriesCollection d = curvesDataset(histories);
    JFreeChart chart = ChartFactory.createXYLineChart("Training loss per epoch", "epoch", "mean training loss", d,
        PlotOrientation.VERTICAL, d.getSeriesCount() <= 24, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, false);
    for (int i = 0; i < d.getSeriesCount(); i++) lines.setSeriesStroke(i, new BasicStroke(1.5f));
    plot.setRenderer(lines);
    long finished = runs.stream().filter(r -> Stages.FINISHED.equals(r.status())).count();
    String sub = d.getSeriesCount() + " run(s) with a loss history" + (finished > MAX_CURVES ? " (the first " + MAX_CURVES + " of "
        + finished + " finished runs)" : "") + (d.getSeriesCount() > 24 ? "; legend omitted" : "");
    chart.addSubtitle(new TextTitle(sub));
    return chart;
  }

  /** The chart as PNG bytes. */
  public static byte[] png(JFreeChart chart, int width, int height) {
    PlotFonts.ensure();
    BufferedImage img = chart.createBufferedImage(width, height);
    try {
      return ChartUtils.encodeAsPNG(img);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
