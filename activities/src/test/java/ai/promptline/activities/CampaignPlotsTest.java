package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.workflows.model.DatasetRef;
import ai.promptline.workflows.model.ModelRef;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.EvalResult;
import ai.promptline.workflows.model.Stages.RunResult;
import ai.promptline.workflows.model.TrainParams;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeriesCollection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plots' data models, valid PNGs of the expected size, the artifacts, and text rendering without system fonts. */
class CampaignPlotsTest {
  @TempDir Path dir;

  static RunResult result(String dataset, String method, int seed, String protocol, String status, double base, double novel, String mlflowRunId) {
    RunConfig c = new RunConfig(new DatasetRef(dataset, "/d", "f-" + dataset), new ModelRef("m", "/w", "sha"), method, 16, seed, protocol,
        TrainParams.coopDefaults(10));
    EvalResult e = Stages.FINISHED.equals(status) ? new EvalResult(base, novel, EvalResult.harmonicMean(base, novel), 10, 10) : null;
    return new RunResult("rk-" + dataset + method + seed + protocol, c, mlflowRunId, status, e, false, null);
  }

  /** EuroSAT coop seeds 80/60 and 84/64; EuroSAT zsclip 70/50 (one seed); DTD coop failed; EuroSAT coop under 'all': 90. */
  static List<RunResult> runs() {
    return List.of(result("EuroSAT", "coop", 1, "base2novel", Stages.FINISHED, 80, 60, "r1"),
        result("EuroSAT", "coop", 2, "base2novel", Stages.FINISHED, 84, 64, "r2"),
        result("EuroSAT", "zsclip", 1, "base2novel", Stages.FINISHED, 70, 50, null),
        result("DescribableTextures", "coop", 1, "base2novel", Stages.FAILED, 0, 0, "r4"),
        result("EuroSAT", "coop", 1, "all", Stages.FINISHED, 90, 0, "r5"));
  }

  @Test
  void accuracyDataset_holdsTheSeedMeans_andNoBarForMissingValues() {
    DefaultCategoryDataset d = CampaignPlots.accuracyDataset(runs());
    assertEquals(List.of("Base", "Novel", "HM"), d.getRowKeys());
    assertEquals(List.of("EuroSAT · coop · 16-shot", "EuroSAT · zsclip · 16-shot", "EuroSAT · coop · 16-shot (all)"), d.getColumnKeys(),
        "the failed DescribableTextures group has no column: missing, not 0");
    assertEquals(82.0, d.getValue("Base", "EuroSAT · coop · 16-shot").doubleValue(), 1e-12); // (80 + 84) / 2
    assertEquals(62.0, d.getValue("Novel", "EuroSAT · coop · 16-shot").doubleValue(), 1e-12); // (60 + 64) / 2
    assertEquals(2 * 82.0 * 62 / 144, d.getValue("HM", "EuroSAT · coop · 16-shot").doubleValue(), 1e-12); // HM of the means
    assertEquals(70.0, d.getValue("Base", "EuroSAT · zsclip · 16-shot").doubleValue(), 1e-12);
    assertEquals(90.0, d.getValue("Base", "EuroSAT · coop · 16-shot (all)").doubleValue(), 1e-12);
    assertNull(d.getValue("Novel", "EuroSAT · coop · 16-shot (all)"), "all-class runs have no novel accuracy");
  }

  static BufferedImage decodePng(byte[] png) throws Exception {
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, Arrays.copyOf(png, 8), "PNG signature");
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertTrue(img != null, "decodes as an image");
    return img;
  }

  @Test
  void accuracyChart_rendersAValidPngOfTheRequestedSize() throws Exception {
    BufferedImage img = decodePng(CampaignPlots.png(CampaignPlots.accuracyChart(runs()), 900, 600));
    assertEquals(900, img.getWidth());
    assertEquals(600, img.getHeight());
    assertEquals(800, CampaignPlots.accuracyWidth(runs()), "3 columns: the minimum width");
  }

  /** A safetensors blob without tensors whose metadata carries an epoch history, as a checkpoint's does. */
  static byte[] checkpoint(String history) {
    byte[] header = ("{\"__metadata__\":{\"epochsDone\":\"3\",\"history\":\"" + history + "\"}}").getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header);
    return b.array();
  }

  @Test
  void trainingCurves_fromMlflowHistory_elseFromTheNewestCheckpoint_andBothPlotsBecomeArtifacts() throws Exception {
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    String exp = tracker.experimentId("e");
    String parent = tracker.createRun(exp, "campaign:c", Map.of());
    List<RunResult> runs = new ArrayList<>();
    String r1 = tracker.createRun(exp, "a", Map.of());
    tracker.log(r1, Map.of(), List.of(new Metric("loss", 2.0, 1, 1), new Metric("loss", 1.5, 2, 2), new Metric("loss", 1.0, 3, 3)), Map.of());
    RunResult withMlflow = result("EuroSAT", "coop", 1, "base2novel", Stages.FINISHED, 80, 60, r1);
    runs.add(withMlflow);
    RunResult noMlflow = result("EuroSAT", "coop", 2, "base2novel", Stages.FINISHED, 84, 64, null);
    store.put("runs/" + noMlflow.runKey() + "/ckpt/epoch-00001.safetensors", checkpoint("1,9.0,0.1,5"));
    store.put("runs/" + noMlflow.runKey() + "/ckpt/epoch-00002.safetensors", checkpoint("1,3.0,0.1,5;2,2.5,0.1,6"));
    runs.add(noMlflow);
    RunResult zeroShot = result("EuroSAT", "zsclip", 1, "base2novel", Stages.FINISHED, 70, 50, tracker.createRun(exp, "z", Map.of()));
    runs.add(zeroShot); // no loss history: no curve

    XYSeriesCollection d = CampaignPlots.curvesDataset(CampaignPlots.lossHistories(tracker, store, runs));
    assertEquals(2, d.getSeriesCount());
    assertEquals("coop · EuroSAT · 16-shot · seed 1", d.getSeries(0).getKey());
    assertEquals(List.of(2.0, 1.5, 1.0), List.of(d.getYValue(0, 0), d.getYValue(0, 1), d.getYValue(0, 2)));
    assertEquals(List.of(1.0, 2.0), List.of(d.getXValue(1, 0), d.getXValue(1, 1)), "the newest checkpoint's history");
    assertEquals(List.of(3.0, 2.5), List.of(d.getYValue(1, 0), d.getYValue(1, 1)));

    assertEquals(List.of(CampaignPlots.ACCURACY, CampaignPlots.CURVES), CampaignPlots.log(tracker, store, parent, runs));
    BufferedImage curves = decodePng(tracker.artifact(parent, CampaignPlots.CURVES));
    assertEquals(CampaignPlots.CURVES_WIDTH, curves.getWidth());
    assertEquals(CampaignPlots.CURVES_HEIGHT, curves.getHeight());
    BufferedImage acc = decodePng(tracker.artifact(parent, CampaignPlots.ACCURACY));
    assertEquals(CampaignPlots.ACCURACY_HEIGHT, acc.getHeight());
  }

  /**
   * The bundled-font configuration renders text on its own: a child JVM started with it (as a
   * machine without fonts ends up) draws the chart, and the JDK sees Liberation Sans.
   */
  @Test
  void theBundledFontConfiguration_rendersText() throws Exception {
    Path props = PlotFonts.bundledConfiguration();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Djava.awt.headless=true", "-Dsun.awt.fontconfig=" + props, "-cp",
        System.getProperty("java.class.path"), PlotFontsProbe.class.getName()).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe finished");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("png ") && out.contains("Liberation Sans"), out);
  }
}
