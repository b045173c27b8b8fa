package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.Published;
import ai.promptline.activities.TrackingActivitiesImpl;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.activities.tracking.Tracker.Metric;
import ai.promptline.workers.DemoAssets;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code campaign compare} after a campaign: results from a (file) tracker by run-key tag, one run
 * only in the object store (reused from another experiment), one missing and one failed; printed
 * next to a published file and logged to the campaign's parent run.
 */
class CampaignCompareTest {
  @TempDir static Path dir;
  static Path campaign;
  static Path published;
  static CampaignSpec spec;

  @BeforeAll
  static void setUp() throws Exception {
    DemoAssets.Assets a = DemoAssets.ensure(dir.resolve("assets"));
    campaign = dir.resolve("c.yaml");
    Files.writeString(campaign, "name: cmp\nmodel: {name: tiny, weights: " + a.weights() + "}\n"
        + "datasets: [{name: Scenes, root: " + a.datasetRoot() + "}]\nmethods: [{name: zsclip}, {name: coop}]\n"
        + "shots: [2]\nseeds: [1, 2]\n");
    published = dir.resolve("pub.csv");
    Files.writeString(published, String.join(",", List.of("table", "method", "label", "dataset", "backbone", "shots", "protocol", "base",
        "novel", "hm", "accuracy", "verification", "source", "notes")) + "\n"
        + "t1,zsclip,CLIP,Scenes,tiny,2,base2novel,50.00,60.00,54.55,,made up,test,\n"
        + "t1,coop,CoOp,Scenes,tiny,2,base2novel,70.00,40.00,50.91,,made up,test,\n");
    spec = CampaignCommand.load(campaign);
  }

  @Test
  void comparesFinishedRunsFromTheTrackerAndTheStoreAndLogsToTheParentRun() throws Exception {
    FileTracker tracker = new FileTracker(dir.resolve("mlflow"));
    LocalObjectStore store = new LocalObjectStore(dir.resolve("store"));
    String exp = tracker.experimentId(spec.experiment());
    String parent = tracker.createRun(exp, "campaign:cmp", Map.of(TrackingActivitiesImpl.TAG_CAMPAIGN_KEY, ContentKeys.campaignKey(spec)));
    for (RunConfig c : spec.expand()) {
      String key = ContentKeys.runKey(c);
      if (c.method().equals("zsclip")) { // finished runs in MLflow
        double b = c.seed() == 1 ? 52 : 54;
        String id = tracker.createRun(exp, c.displayName(), Map.of(TrackingActivitiesImpl.TAG_RUN_KEY, key));
        tracker.log(id, Map.of(), List.of(new Metric("acc_base", b, 0, 0), new Metric("acc_novel", 62, 0, 0),
            new Metric("hm", Stages.EvalResult.harmonicMean(b, 62), 0, 0)), Map.of());
        tracker.setStatus(id, "FINISHED");
      } else if (c.seed() == 1) { // reused from elsewhere: only the store's commit marker
        Stages.RunResult r = new Stages.RunResult(key, c, "other", Stages.FINISHED, new Stages.EvalResult(71, 41, Stages.EvalResult.harmonicMean(71, 41), 10, 10), false, null);
        store.put("runs/" + key + "/result.json", new ObjectMapper().writeValueAsBytes(r));
      } else { // a failed run with metrics must not count
        String id = tracker.createRun(exp, c.displayName(), Map.of(TrackingActivitiesImpl.TAG_RUN_KEY, key));
        tracker.log(id, Map.of(), List.of(new Metric("acc_base", 0, 0, 0)), Map.of());
        tracker.setStatus(id, "FAILED");
      }
    }
    List<Published> pub = CampaignCommand.publishedData(List.of(published), campaign, null);
    String out = CampaignCommand.compareText(spec, pub, tracker, store, true);
    assertTrue(out.contains("| Scenes | zsclip | 2 | 2 | 53.00 ± 1.41 | 62.00 ± 0.00 |"), out);
    assertTrue(out.contains("| +3.00 | +2.00 |"), out);
    assertTrue(out.contains("| Scenes | coop | 2 | 1/2 | 71.00 ± 0.00 | 41.00 ± 0.00 |"), out);
    assertTrue(out.contains("1 seed(s) missing"), out);
    assertTrue(out.contains("logged to the campaign run"), out);
    String md = new String(tracker.artifact(parent, "compare.md"), StandardCharsets.UTF_8);
    assertTrue(md.contains("| Scenes | zsclip |"), md);
    assertTrue(new String(tracker.artifact(parent, "compare.csv"), StandardCharsets.UTF_8).startsWith("kind,dataset,method,"));
    List<Metric> diff = tracker.metricHistory(parent, "compare/t1/Scenes/zsclip/2shot/base_diff");
    assertEquals(1, diff.size());
    assertEquals(3.0, diff.get(0).value(), 1e-9);
    assertEquals(1.0, tracker.metricHistory(parent, "compare/t1/Scenes/coop/2shot/base_diff").get(0).value(), 1e-9);
  }

  @Test
  void withoutACampaignRunItPrintsAndSaysItDidNotLog() {
    FileTracker tracker = new FileTracker(dir.resolve("mlflow-empty"));
    String out = CampaignCommand.compareText(spec, CampaignCommand.publishedData(List.of(published), campaign, List.of("t1")), tracker,
        new LocalObjectStore(dir.resolve("store-empty")), true);
    assertTrue(out.contains("| Scenes | zsclip | 2 | 0/2 | missing | missing | missing |"), out);
    assertTrue(out.contains("not logged: experiment 'promptline' has no campaign run"), out);
    assertFalse(out.contains("NaN"), out);
  }

  @Test
  void badPublishedInputIsRefusedBeforeAnyServiceIsContacted() {
    CliRun r = CliRun.of("campaign", "compare", campaign.toString(), "--published", dir.resolve("nope.csv").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("nope.csv does not exist"), r.err());
    r = CliRun.of("campaign", "compare", campaign.toString(), "--published", published.toString(), "--table", "t9");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--table t9: no such published table; known: t1"), r.err());
  }
}
