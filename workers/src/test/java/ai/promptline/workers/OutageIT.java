package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages;
import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowStub;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outages of the real local services while a worker process trains: MinIO stopped for 60 s, then
 * MLflow stopped for 60 s, then Temporal restarted (about 5.5 min on a loaded 2-core box, most of
 * it the outages and MLflow's restart). The run waits each one out inside its train
 * attempt (no resume needed), finishes with every epoch's loss and lr logged exactly once and no
 * stale error tag, and the foreground await re-attaches after the Temporal restart.
 *
 * <p>The services are stopped by signalling the process group in their pid file and started again
 * with {@code services.sh up}; it stops the services of {@code PROMPTLINE_HOME}, so run it on a
 * service set of its own. Tag {@code chaos}: {@code ./promptline test --chaos} runs it; the default
 * suite runs only {@link ChaosIT}, which injects the same outages (and the other faults) into a
 * larger campaign.
 */
@Tag("chaos")
class OutageIT {
  /** How long MinIO and MLflow stay down (the chaos suite's 60 s); {@code -Dpromptline.outage.seconds=N} changes it. */
  static final Duration OUTAGE = Duration.ofSeconds(Long.getLong("promptline.outage.seconds", 60));

  @TempDir Path dir;

  @Test
  void minioAndMlflowStoppedForAMinute_andATemporalRestart_theRunFinishesWithEveryEpochLoggedOnce() throws Exception {
    long t0 = System.nanoTime();
    String suffix = Long.toString(System.currentTimeMillis(), 36);
    Map<String, String> env = new java.util.HashMap<>(System.getenv());
    env.put("PROMPTLINE_BUCKET", "outage-" + suffix);
    Settings settings = Settings.from(env);
    ObjectStore store = settings.store();
    MlflowRest mlflow = new MlflowRest(settings.mlflowUri());

    int epochs = 15; // batches of 16: 3 steps an epoch, so the outages, not the training, take the time
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("assets"));
    CampaignFile demo = Demo.campaignFile(assets, new Demo.Options(epochs, List.of(1), 4));
    CampaignSpec spec = new CampaignFile("outage-" + suffix, "promptline-outage-" + suffix, demo.model(), demo.datasets(),
        List.of(new CampaignFile.Method("coop", Map.of("epochs", epochs, "batchSize", 16, "lr", 0.002, "augViews", 1))),
        List.of(4), List.of(1), "base2novel", 1, 60).plan(Path.of("."));
    String runKey = ContentKeys.runKey(spec.expand().get(0));
    String ckpts = "runs/" + runKey + "/ckpt/";
    Path log = dir.resolve("worker.log");

    Process worker = WorkerCrashIT.startWorker(env, log);
    try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
      WorkflowStub campaign = CampaignSubmitter.start(conn, spec);
      List<String> notices = new CopyOnWriteArrayList<>();
      CompletableFuture<CampaignResult> awaited = CompletableFuture.supplyAsync(() -> CampaignSubmitter.await(campaign, 2, null,
          new CampaignSubmitter.Reattach(settings.temporalTarget(), Duration.ofMinutes(5), notices::add,
              ai.promptline.activities.retry.Retrier.Clock.SYSTEM, Thread::sleep)));

      int at = waitForCheckpoints(store, ckpts, 2, worker, log);
      long minioDown = System.nanoTime();
      stop("minio", port(settings.storeEndpoint()));
      Thread.sleep(OUTAGE.toMillis());
      up(env);
      System.out.printf("[OutageIT] MinIO down at checkpoint %d for %.0f s%n", at, (System.nanoTime() - minioDown) / 1e9);

      at = waitForCheckpoints(store, ckpts, at + 2, worker, log);
      assertTrue(at < epochs, "training finished before the MLflow outage: use more epochs");
      long mlflowDown = System.nanoTime();
      stop("mlflow", port(settings.mlflowUri()));
      Thread.sleep(OUTAGE.toMillis());
      up(env);
      System.out.printf("[OutageIT] MLflow down at checkpoint %d for %.0f s%n", at, (System.nanoTime() - mlflowDown) / 1e9);

      at = waitForCheckpoints(store, ckpts, at + 2, worker, log);
      boolean temporalRestartedInTraining = at < epochs;
      long temporalDown = System.nanoTime();
      stop("temporal", port("//" + settings.temporalTarget()));
      Thread.sleep(5_000);
      up(env);
      System.out.printf("[OutageIT] Temporal restarted at checkpoint %d (in training: %s) in %.0f s%n", at,
          temporalRestartedInTraining, (System.nanoTime() - temporalDown) / 1e9);

      CampaignResult result;
      try {
        result = awaited.get(10, TimeUnit.MINUTES);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("the campaign did not finish; notices " + notices + "; worker log:\n" + Files.readString(log), e);
      }
      String workerLog = Files.readString(log);
      System.out.println("[OutageIT] worker log:\n" + workerLog);
      assertEquals(Stages.FINISHED, result.status(), Demo.table(result.runs()) + workerLog);
      assertTrue(notices.contains("Temporal at " + settings.temporalTarget() + " unreachable; re-attaching…"), notices.toString());
      assertTrue(notices.stream().anyMatch(n -> n.contains("is back after")), notices.toString());

      String exp = mlflow.experimentId(spec.experiment());
      List<JsonNode> children = mlflow.runs(exp).stream()
          .filter(r -> runKey.equals(MlflowRest.tag(r, "promptline.run_key"))).toList();
      assertEquals(1, children.size(), "one MLflow run for the run key");
      JsonNode run = children.get(0);
      String runId = run.path("info").path("run_id").asText();
      assertEquals("FINISHED", run.path("info").path("status").asText());
      assertNull(MlflowRest.tag(run, "promptline.error"), "no stale error tag");
      assertEquals("0", MlflowRest.tag(run, "promptline.resumed_from_epoch"), "the outages were waited out, not resumed from");
      List<Long> all = LongStream.rangeClosed(1, epochs).boxed().toList();
      assertEquals(all, mlflow.metricSteps(runId, "loss"), "every epoch's loss logged exactly once");
      assertEquals(all, mlflow.metricSteps(runId, "lr"), "every epoch's lr logged exactly once");
      for (String m : List.of("acc_base", "acc_novel", "hm")) assertEquals(List.of(0L), mlflow.metricSteps(runId, m), m);
      assertEquals(epochs, store.list(ckpts).size());
      assertTrue(workerLog.contains("MinIO (object store s3://outage-" + suffix) && workerLog.contains("reachable again"),
          "the worker said what it waited for:\n" + workerLog);
      assertTrue(workerLog.contains("MLflow (tracking server " + settings.mlflowUri() + ")"), workerLog);
      assertFalse(workerLog.contains("Exception in thread"), workerLog);
      System.out.printf("[OutageIT] total %.0f s%n", (System.nanoTime() - t0) / 1e9);
    } finally {
      worker.destroyForcibly().waitFor();
      up(env); // leave the services as found
    }
  }

  private static int waitForCheckpoints(ObjectStore store, String prefix, int n, Process worker, Path log) throws Exception {
    long deadline = System.currentTimeMillis() + 300_000;
    while (true) {
      int have = store.list(prefix).size();
      if (have >= n) return have;
      assertTrue(worker.isAlive(), "worker died: " + Files.readString(log));
      assertTrue(System.currentTimeMillis() < deadline, "no checkpoint " + n + "; worker log:\n" + Files.readString(log));
      Thread.sleep(100);
    }
  }

  /** SIGTERM to the service's process group (from its pid file), then wait until its port is closed. */
  static void stop(String service, int port) throws Exception {
    Path pidFile = Settings.fromEnv().home().resolve("run").resolve(service + ".pid");
    String pid = Files.readString(pidFile).strip();
    assertTrue(pid.matches("\\d+"), pidFile + ": " + pid);
    new ProcessBuilder("kill", "-TERM", "--", "-" + pid).inheritIO().start().waitFor();
    long deadline = System.currentTimeMillis() + 30_000;
    while (listening(port)) {
      assertTrue(System.currentTimeMillis() < deadline, service + " still listens on " + port);
      Thread.sleep(100);
    }
  }

  static void up(Map<String, String> env) throws Exception {
    String root = System.getProperty("promptline.root", env.getOrDefault("PROMPTLINE_ROOT", "."));
    ProcessBuilder pb = new ProcessBuilder("bash", Path.of(root, "deploy", "local", "services.sh").toString(), "up");
    pb.environment().putAll(env);
    Process p = pb.redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), "services.sh up: " + out);
  }

  private static int port(String uri) {
    return Integer.parseInt(uri.replaceAll("^.*:(\\d+)/?$", "$1"));
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
