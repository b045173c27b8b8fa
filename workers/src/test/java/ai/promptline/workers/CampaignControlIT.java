package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.cli.Main;
import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.workflows.CampaignWorkflow.Progress;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages;
import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pause, resume and cancel against the real services, through the CLI: a paused campaign starts
 * no run for 20 s, also across a restart of the Temporal server and with every worker gone and a
 * new one started; resumed, it completes. A second campaign is cancelled while a run trains, and
 * MLflow then has no RUNNING run: the child ends KILLED, the parent too.
 */
@Tag("integration")
class CampaignControlIT {
  @TempDir static Path dir;
  static final String SUFFIX = Long.toString(System.currentTimeMillis(), 36);

  static CampaignSpec spec(String name, List<Integer> seeds, int epochs) {
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    CampaignFile file = Demo.campaignFile(assets, new Demo.Options(epochs, seeds, List.of(4), List.of("coop")));
    return new CampaignFile(name + "-" + SUFFIX, "promptline-it-control-" + SUFFIX, file.model(), file.datasets(), file.methods(),
        file.shots(), file.seeds(), file.protocol(), 1, 30).plan(Path.of("."));
  }

  static Settings settings() {
    Map<String, String> env = new java.util.HashMap<>(System.getenv());
    env.put("PROMPTLINE_BUCKET", "promptline-it-control-" + SUFFIX);
    return Settings.from(env);
  }

  /** Runs the CLI in this JVM; returns its exit code and prints what it said. */
  static int cli(String... args) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream old = System.out;
    int rc;
    try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      System.setOut(out);
      rc = Settings.withEnvironment(Map.of("PROMPTLINE_BUCKET", "promptline-it-control-" + SUFFIX),
          () -> Main.newCommandLine().execute(args)); // the CLI sees this test's bucket
    } finally {
      System.setOut(old);
    }
    System.out.print("$ promptline " + String.join(" ", args) + "\n" + buf.toString(StandardCharsets.UTF_8));
    return rc;
  }

  static Progress waitFor(Connections conn, String id, String what, Predicate<Progress> condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        Progress p = conn.client().newUntypedWorkflowStub(id).query("progress", Progress.class);
        if (condition.test(p)) return p;
      } catch (RuntimeException notYet) {
        // no worker yet, or the server restarting
      }
      Thread.sleep(250);
    }
    throw new AssertionError("timed out waiting until " + what);
  }

  /** A worker in this JVM; right after a server restart the first attempts may find it still starting. */
  static PromptlineWorker worker(Connections conn, SimpleMeterRegistry meters) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      PromptlineWorker w = new PromptlineWorker(conn.client(), conn.backends(meters), PromptlineWorker.Options.local());
      try {
        w.start();
        return w;
      } catch (io.grpc.StatusRuntimeException e) {
        w.close();
        if (attempt == 60) throw e;
        Thread.sleep(1000);
      }
    }
  }

  @Test
  void pause_holdsAcrossATemporalRestartAndNewWorkers_resumeCompletes_cancelLeavesNothingRunning() throws Exception {
    Settings settings = settings();
    MlflowRest mlflow = MlflowRest.of(settings);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    CampaignSpec a = spec("control-a", List.of(1, 2, 3, 4), 8);
    String idA = CampaignSubmitter.workflowId(a);
    try (Connections conn = new Connections(settings, meters)) {
      PromptlineWorker w = worker(conn, meters);
      CampaignSubmitter.start(conn, a);
      waitFor(conn, idA, "the first run finished", p -> p.finished() >= 1);
      assertEquals(0, cli("campaign", "pause", idA));
      Progress paused = waitFor(conn, idA, "the running run finished", p -> p.paused() && p.running() == 0);
      int done = paused.done();
      assertTrue(done < 4, "the pause came before the last run: " + paused);

      // every worker goes away, the Temporal server restarts, a new worker comes
      w.close();
      LocalServices.Run restart = LocalServices.script("restart", "temporal");
      assertEquals(0, restart.code(), restart.output());
      w = worker(conn, meters);
      Progress after = waitFor(conn, idA, "the new worker answers", p -> true);
      assertTrue(after.paused(), "still paused after the restart: " + after);
      Thread.sleep(20_000);
      Progress still = waitFor(conn, idA, "the campaign answers", p -> true);
      assertEquals(done, still.done(), "no run ended, so none ran: " + still);
      assertEquals(0, still.running(), "no run started in 20 s while paused: " + still);
      assertEquals(0, cli("campaign", "status", idA));

      assertEquals(0, cli("campaign", "resume", idA));
      CampaignResult r = CampaignSubmitter.await(conn.client().newUntypedWorkflowStub(idA), 2, null);
      assertEquals(Stages.FINISHED, r.status());
      assertEquals(new CampaignResult.Counts(4, 4, 0, 0, 0), r.counts());
      assertEquals(2, cli("campaign", "pause", idA), "pausing a finished campaign is refused");
      assertEquals(2, cli("campaign", "recover", idA), "a campaign without failures has nothing to recover");

      // a second campaign, cancelled while a run trains
      CampaignSpec b = spec("control-b", List.of(11, 12), 200); // long enough to be cancelled mid-training
      String idB = CampaignSubmitter.workflowId(b);
      CampaignSubmitter.start(conn, b);
      waitFor(conn, idB, "a run is training", p -> p.running() == 1);
      Thread.sleep(5000);
      assertEquals(0, cli("campaign", "cancel", idB));
      String exp = mlflow.experimentId(b.experiment());
      List<JsonNode> runs = mlflow.runs(exp);
      String statuses = runs.stream().map(x -> x.path("info").path("run_name").asText() + "=" + x.path("info").path("status").asText())
          .toList().toString();
      for (JsonNode run : runs)
        assertTrue(!"RUNNING".equals(run.path("info").path("status").asText()), "nothing RUNNING after a cancel: " + statuses);
      assertTrue(runs.stream().anyMatch(x -> "KILLED".equals(x.path("info").path("status").asText())
          && MlflowRest.tag(x, "mlflow.parentRunId") != null), "the training run ended KILLED: " + statuses);
      assertTrue(runs.stream().anyMatch(x -> "KILLED".equals(x.path("info").path("status").asText())
          && MlflowRest.tag(x, "mlflow.parentRunId") == null), "the parent run ended KILLED: " + statuses);
      assertEquals(io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
          conn.client().newUntypedWorkflowStub(idB).describe().getWorkflowExecutionInfo().getStatus());
      w.close();
    }
  }

  /** {@code campaign run} is SIGKILLed right after it submitted: the campaign goes on and finishes without it. */
  @Test
  void killingTheSubmittingCli_neverAffectsTheCampaign() throws Exception {
    Settings settings = settings();
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    Path file = dir.resolve("killed-cli.yaml");
    java.nio.file.Files.writeString(file, "name: killed-cli-" + SUFFIX + "\nexperiment: promptline-it-control-" + SUFFIX + "\n"
        + "model: {name: tiny-clip-scenes, weights: " + assets.weights() + ", sha256: " + ai.promptline.ml.pretrain.TinyClip.SHA256 + "}\n"
        + "datasets: [{name: " + DemoAssets.DATASET + ", root: " + assets.datasetRoot() + "}]\n"
        + "methods: [{name: coop, train: {epochs: 20, batchSize: 4}}]\nshots: [4]\nseeds: [21, 22]\n");
    String id = CampaignSubmitter.workflowId(CampaignFile.read(file).plan(file.getParent()));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (Connections conn = new Connections(settings, meters)) {
      PromptlineWorker w = worker(conn, meters);
      String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Path log = dir.resolve("killed-cli.log");
      ProcessBuilder pb = new ProcessBuilder(javaBin, "-Xmx1g", "-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
          "-cp", System.getProperty("java.class.path"), "ai.promptline.cli.Main", "campaign", "run", file.toString());
      pb.environment().put("PROMPTLINE_BUCKET", "promptline-it-control-" + SUFFIX);
      pb.redirectErrorStream(true).redirectOutput(log.toFile());
      Process cli = pb.start();
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (!java.nio.file.Files.readString(log).contains("submitted " + id)) {
        if (System.nanoTime() > deadline || !cli.isAlive())
          throw new AssertionError("campaign run did not submit: " + java.nio.file.Files.readString(log));
        Thread.sleep(100);
      }
      waitFor(conn, id, "a run is in flight", p -> p.running() == 1);
      cli.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no goodbye to the server
      CampaignResult r = CampaignSubmitter.await(conn.client().newUntypedWorkflowStub(id), 2, null);
      assertEquals(Stages.FINISHED, r.status(), "the campaign finished without the CLI that submitted it");
      assertEquals(new CampaignResult.Counts(2, 2, 0, 0, 0), r.counts());
      w.close();
    }
  }
}
