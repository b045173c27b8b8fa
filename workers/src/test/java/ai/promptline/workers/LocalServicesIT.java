package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small campaign against the real local services (Temporal dev server, MLflow server with
 * MinIO-proxied artifacts, MinIO), started by {@code ./promptline test}. Assertions read MLflow's
 * REST API and MinIO directly. Each test run uses its own bucket and experiment.
 */
@Tag("integration")
class LocalServicesIT {
  @TempDir static Path dir;
  static Settings settings;
  static MlflowRest mlflow;
  static ObjectStore store;
  static CampaignSpec spec;
  static CampaignResult result;
  static final String SUFFIX = Long.toString(System.currentTimeMillis(), 36);

  static Settings isolated() {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("PROMPTLINE_BUCKET", "promptline-it-" + SUFFIX); // inside the worker key's scope (promptline-*)
    return Settings.from(env);
  }

  @BeforeAll
  static void runCampaign() {
    settings = isolated();
    mlflow = MlflowRest.of(settings);
    store = settings.store();
    DemoAssets.Assets assets = DemoAssets.ensure(dir);
    CampaignFile file = Demo.campaignFile(assets, new Demo.Options(null, List.of(1), List.of(16), List.of("zsclip", "coop")));
    spec = new CampaignFile("it-" + SUFFIX, "promptline-it-" + SUFFIX, file.model(), file.datasets(), file.methods(),
        file.shots(), file.seeds(), file.protocol(), 2, 30).plan(Path.of("."));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (Connections conn = new Connections(settings, meters);
        PromptlineWorker worker = new PromptlineWorker(conn.client(), conn.backends(meters), PromptlineWorker.Options.local())) {
      worker.start();
      result = CampaignSubmitter.await(CampaignSubmitter.start(conn, spec), 5, null);
    }
  }

  @Test
  void campaign_finishes_andMlflowHoldsParentAndChildren() throws Exception {
    assertEquals(Stages.FINISHED, result.status(), Demo.table(result.runs()));
    String exp = mlflow.experimentId(spec.experiment());
    List<JsonNode> runs = mlflow.runs(exp);
    assertEquals(3, runs.size(), "one parent + one child per run");
    JsonNode parent = runs.stream().filter(r -> MlflowRest.tag(r, "mlflow.parentRunId") == null).findFirst().orElseThrow();
    assertEquals("FINISHED", parent.path("info").path("status").asText());
    assertNotNull(MlflowRest.metric(parent, "Scenes/coop/16shot/hm_mean"));
    assertTrue(mlflow.artifacts(parent.path("info").path("run_id").asText(), null).contains("summary.csv"));
    for (RunResult r : result.runs()) {
      JsonNode child = runs.stream().filter(x -> r.runKey().equals(MlflowRest.tag(x, "promptline.run_key"))).findFirst()
          .orElseThrow(() -> new AssertionError("no MLflow run tagged with " + r.runKey()));
      String id = child.path("info").path("run_id").asText();
      assertEquals("FINISHED", child.path("info").path("status").asText());
      assertEquals(parent.path("info").path("run_id").asText(), MlflowRest.tag(child, "mlflow.parentRunId"));
      assertEquals(r.config().method(), MlflowRest.tag(child, "promptline.method"));
      assertEquals("Scenes", MlflowRest.tag(child, "promptline.dataset"));
      assertEquals("16", MlflowRest.tag(child, "promptline.shots"));
      assertEquals("1", MlflowRest.tag(child, "promptline.seed"));
      assertEquals(spec.name(), MlflowRest.tag(child, "promptline.campaign"));
      assertEquals("16", MlflowRest.param(child, "shots"));
      assertEquals(r.eval().accBase(), MlflowRest.metric(child, "acc_base"), 1e-9);
      assertEquals(r.eval().accNovel(), MlflowRest.metric(child, "acc_novel"), 1e-9);
      assertEquals(r.eval().hm(), MlflowRest.metric(child, "hm"), 1e-9);
      assertTrue(mlflow.artifacts(id, null).contains("provenance.json"));
      JsonNode prov = new com.fasterxml.jackson.databind.ObjectMapper().readTree(mlflow.artifact(id, "provenance.json"));
      assertEquals(r.runKey(), prov.path("runKey").asText());
      if (r.config().method().equals("coop")) {
        int epochs = r.config().train().epochs();
        assertEquals(java.util.stream.LongStream.rangeClosed(1, epochs).boxed().toList(), mlflow.metricSteps(id, "loss"));
        byte[] viaMlflow = mlflow.artifact(id, "prompt/prompt.safetensors");
        byte[] inMinio = store.find("runs/" + r.runKey() + "/prompt.safetensors").orElseThrow();
        assertArrayEquals(inMinio, viaMlflow, "the MLflow artifact is the prompt MinIO holds");
        assertEquals(epochs, store.list("runs/" + r.runKey() + "/ckpt/").size(), "a checkpoint per epoch");
      }
      assertTrue(store.exists("runs/" + r.runKey() + "/result.json"));
    }
    assertFalse(store.list("features/").isEmpty(), "frozen features are cached in MinIO");
    // learning, read back through MLflow's REST API: CoOp beats the hand template on the base
    // classes (margin and measurements: CampaignWorkflowTest#coop_beatsZeroShotOnTheBaseClasses)
    double zs = Double.NaN;
    double coop = Double.NaN;
    for (JsonNode child : runs) {
      String m = MlflowRest.tag(child, "promptline.method");
      if ("zsclip".equals(m)) zs = MlflowRest.metric(child, "acc_base");
      if ("coop".equals(m)) coop = MlflowRest.metric(child, "acc_base");
    }
    assertTrue(coop - zs >= 6, "MLflow acc_base: CoOp " + coop + " vs zero-shot " + zs);
  }

  @Test
  void resubmission_reusesRuns_andDuplicatesNothingInMlflow() throws Exception {
    String exp = mlflow.experimentId(spec.experiment());
    int before = mlflow.runs(exp).size();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    CampaignResult again;
    try (Connections conn = new Connections(settings, meters);
        PromptlineWorker worker = new PromptlineWorker(conn.client(), conn.backends(meters), PromptlineWorker.Options.local())) {
      worker.start();
      again = CampaignSubmitter.await(CampaignSubmitter.start(conn, spec), 5, null);
    }
    assertEquals(Stages.FINISHED, again.status());
    assertTrue(again.runs().stream().allMatch(RunResult::reused));
    assertEquals(before, mlflow.runs(exp).size());
    assertTrue(mlflow.runs(exp).stream().allMatch(r -> r.path("info").path("status").asText().equals("FINISHED")));
  }

}
