package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workflows.CampaignWorkflowImpl;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.worker.WorkerFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Against the real Temporal: a queue nobody polls gets the one-time warning with the fix, a queue a
 * worker polls does not (DescribeTaskQueue's pollers).
 */
@Tag("integration")
class WorkerWatchIT {
  @Test
  void warnsOnce_forTheQueueWithoutAWorker_only() throws Exception {
    String suffix = Long.toString(System.nanoTime(), 36);
    String idle = "watch-idle-" + suffix;
    String served = "watch-served-" + suffix;
    try (Connections conn = new Connections(Settings.fromEnv(), new SimpleMeterRegistry())) {
      WorkerFactory factory = WorkerFactory.newInstance(conn.client());
      factory.newWorker(served).registerWorkflowImplementationTypes(CampaignWorkflowImpl.class);
      factory.start();
      try {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!WorkerWatch.hasPoller(conn, served, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)) {
          assertTrue(System.currentTimeMillis() < deadline, "the worker on " + served + " never showed as a poller");
          Thread.sleep(200);
        }
        assertFalse(WorkerWatch.hasPoller(conn, idle, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (WorkerWatch w = WorkerWatch.start(conn, out, Duration.ofMillis(500), List.of(served, idle),
            List.of(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))) {
          Thread.sleep(3000); // several checks
        }
        String said = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("warning: no worker is polling task queue " + idle) && said.contains("start one: ./promptline worker"), said);
        assertFalse(said.contains(served), said);
        assertTrue(said.strip().lines().count() == 1, "said once: " + said);
      } finally {
        factory.shutdownNow();
      }
    }
  }
}
