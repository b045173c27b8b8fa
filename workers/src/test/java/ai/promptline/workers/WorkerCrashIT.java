package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages;
import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 the worker process in the middle of training, start another one: the run finishes,
 * resumed from its last checkpoint (not from scratch), and MLflow shows one run whose loss curve
 * has every epoch exactly once.
 */
@Tag("integration")
class WorkerCrashIT {
  @TempDir Path dir;

  @Test
  void killedWorker_resumesFromCheckpoint_andMlflowShowsOneRun() throws Exception {
    String suffix = Long.toString(System.currentTimeMillis(), 36);
    Map<String, String> env = new java.util.HashMap<>(System.getenv());
    env.put("PROMPTLINE_BUCKET", "promptline-crash-" + suffix); // inside the worker key's scope (promptline-*)
    Settings settings = Settings.from(env);
    ObjectStore store = settings.store();
    MlflowRest mlflow = MlflowRest.of(settings);

    int epochs = 60;
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("assets"));
    CampaignFile demo = Demo.campaignFile(assets, new Demo.Options(epochs, List.of(1), 4));
    CampaignSpec spec = new CampaignFile("crash-" + suffix, "promptline-crash-" + suffix, demo.model(), demo.datasets(),
        List.of(new CampaignFile.Method("coop", Map.of("epochs", epochs, "batchSize", 1, "lr", 0.002, "augViews", 1))),
        List.of(4), List.of(1), "base2novel", 1, 5).plan(Path.of("."));
    String runKey = ContentKeys.runKey(spec.expand().get(0));
    String ckpts = "runs/" + runKey + "/ckpt/";

    Process first = startWorker(env, dir.resolve("worker-1.log"));
    Process second = null;
    try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
      WorkflowStub campaign = CampaignSubmitter.start(conn, spec);
      long deadline = System.currentTimeMillis() + 240_000;
      while (store.list(ckpts).size() < 3) {
        assertTrue(first.isAlive(), "worker died on its own: " + Files.readString(dir.resolve("worker-1.log")));
        assertTrue(System.currentTimeMillis() < deadline,
            "no checkpoints appeared; worker log:\n" + Files.readString(dir.resolve("worker-1.log")));
        Thread.sleep(200);
      }
      first.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no graceful drain
      int atKill = store.list(ckpts).size();
      assertTrue(atKill < epochs, "training had already finished when the worker was killed");

      second = startWorker(env, dir.resolve("worker-2.log"));
      CampaignResult result = campaign.getResult(300, TimeUnit.SECONDS, CampaignResult.class);
      assertEquals(Stages.FINISHED, result.status(), Demo.table(result.runs()) + Files.readString(dir.resolve("worker-2.log")));

      String exp = mlflow.experimentId(spec.experiment());
      List<JsonNode> children = mlflow.runs(exp).stream()
          .filter(r -> runKey.equals(MlflowRest.tag(r, "promptline.run_key"))).toList();
      assertEquals(1, children.size(), "one MLflow run for the run key");
      JsonNode run = children.get(0);
      assertEquals("FINISHED", run.path("info").path("status").asText());
      int resumedFrom = Integer.parseInt(MlflowRest.tag(run, "promptline.resumed_from_epoch"));
      assertTrue(resumedFrom >= atKill && resumedFrom < epochs,
          "resumed from epoch " + resumedFrom + ", checkpoints at kill: " + atKill);
      assertEquals(LongStream.rangeClosed(1, epochs).boxed().toList(),
          mlflow.metricSteps(run.path("info").path("run_id").asText(), "loss"), "every epoch logged exactly once");
      assertEquals(epochs, store.list(ckpts).size());
    } finally {
      first.destroyForcibly();
      if (second != null) second.destroyForcibly().waitFor();
    }
  }

  /** A worker in its own JVM, on the test class path, polling both queues (said explicitly: auto is cpu only without a GPU). */
  static Process startWorker(Map<String, String> env, Path log) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx2g", "-Dai.djl.offline=true",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
        "ai.promptline.cli.Main", "worker", "--queues", "cpu,gpu", "--decode-threads", "1");
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    return pb.start();
  }

}
