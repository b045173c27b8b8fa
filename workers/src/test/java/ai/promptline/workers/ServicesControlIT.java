package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.Tracker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code services.sh stop|start|restart NAME} against the real services: each verb acts on one
 * service only (the other two stay healthy while it is down), keeps its data on disk (an object,
 * an experiment with a run and a metric, a running workflow survive), and {@code start mlflow}
 * refuses to start without MinIO. Leaves every service running.
 */
@Tag("integration")
class ServicesControlIT {
  static final String SUFFIX = Long.toString(System.currentTimeMillis(), 36);

  static void assertOnlyDown(String down) throws Exception {
    Map<String, String> status = LocalServices.status();
    for (String svc : LocalServices.NAMES) {
      if (svc.equals(down)) assertFalse(LocalServices.healthy(status, svc), "stopped, still healthy: " + status.get(svc));
      else assertTrue(LocalServices.healthy(status, svc), svc + " must stay healthy while " + down + " is down: " + status);
    }
  }

  static void assertOk(LocalServices.Run r, String what) {
    assertEquals(0, r.code(), what + ":\n" + r.output());
  }

  @Test
  void minio_stopAndStart_keepsObjects_othersStayHealthy() throws Exception {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("PROMPTLINE_BUCKET", "promptline-svc-" + SUFFIX);
    ObjectStore store = Settings.from(env).store();
    byte[] data = ("object written before the restart " + SUFFIX).getBytes(StandardCharsets.UTF_8);
    store.put("probe/kept", data);

    assertOk(LocalServices.script("stop", "minio"), "stop minio");
    assertOnlyDown("minio");
    LocalServices.Run start = LocalServices.script("start", "minio");
    assertOk(start, "start minio");
    assertTrue(start.output().lines().anyMatch(l -> l.startsWith("minio") && l.contains(" healthy")), start.output());

    assertArrayEquals(data, Settings.from(env).store().find("probe/kept").orElseThrow(), "the object survives a MinIO restart");
    assertArrayEquals(data, store.find("probe/kept").orElseThrow(), "and the client from before the restart reads it again");
  }

  @Test
  void mlflow_restart_keepsRunsAndMetrics_andNeedsMinio() throws Exception {
    Tracker tracker = LocalServices.settings().tracker();
    String exp = tracker.experimentId("promptline-svc-" + SUFFIX);
    String run = tracker.createRun(exp, "svc-restart", Map.of("promptline.test", "ServicesControlIT"));
    tracker.log(run, Map.of("p", "1"), List.of(new Tracker.Metric("loss", 0.5, 1, System.currentTimeMillis())), Map.of());
    tracker.setStatus(run, "FINISHED");

    assertOk(LocalServices.script("stop", "mlflow"), "stop mlflow");
    assertOnlyDown("mlflow");
    // MLflow needs its artifact store: with MinIO down, start refuses with one line saying what to do
    assertOk(LocalServices.script("stop", "minio"), "stop minio");
    LocalServices.Run refused = LocalServices.script("start", "mlflow");
    assertEquals(1, refused.code(), refused.output());
    assertTrue(refused.output().contains("minio is not healthy") && refused.output().contains("start minio"), refused.output());
    assertOk(LocalServices.script("start", "minio"), "start minio");

    LocalServices.Run start = LocalServices.script("restart", "mlflow");
    assertOk(start, "restart mlflow");
    assertTrue(LocalServices.healthy(LocalServices.status(), "mlflow"));

    Tracker after = LocalServices.settings().tracker();
    assertEquals(exp, after.experimentId("promptline-svc-" + SUFFIX), "same experiment after the restart");
    assertEquals("FINISHED", after.getRun(run).status());
    assertEquals(List.of(0.5), after.metricHistory(run, "loss").stream().map(Tracker.Metric::value).toList());
  }

  @Test
  void temporal_restart_keepsARunningWorkflow() throws Exception {
    Settings settings = LocalServices.settings();
    String id = "promptline-svc-" + SUFFIX;
    try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
      // a workflow type no worker serves: it stays RUNNING, which is what must survive
      conn.client().newUntypedWorkflowStub("PromptlineServicesControlProbe",
          WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue("promptline-svc-probe-" + SUFFIX).build()).start();
    }
    assertOk(LocalServices.script("stop", "temporal"), "stop temporal");
    assertOnlyDown("temporal");
    assertOk(LocalServices.script("start", "temporal"), "start temporal");
    assertOnlyDown("none");
    try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
      WorkflowStub stub = conn.client().newUntypedWorkflowStub(id);
      assertEquals(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, stub.describe().getStatus(),
          "the workflow started before the restart is still there");
      stub.terminate("ServicesControlIT done");
    }
  }

  @Test
  void unknownOrMissingName_isOneLineWithTheValidNames_exit2() throws Exception {
    for (String[] args : List.of(new String[] {"restart", "postgres"}, new String[] {"stop"}, new String[] {"start", "minio", "mlflow"})) {
      LocalServices.Run r = LocalServices.script(args);
      assertEquals(2, r.code(), String.join(" ", args) + ": " + r.output());
      assertEquals(1, r.output().strip().lines().count(), r.output());
      assertTrue(r.output().contains("temporal, mlflow, minio"), r.output());
    }
    LocalServices.Run auth = LocalServices.script("start", "minio", "--auth");
    assertEquals(2, auth.code(), auth.output());
    assertTrue(auth.output().contains("mlflow only"), auth.output());
  }
}
