package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code worker --queues}: auto by default, cpu only without a GPU (saying how to opt in), as given otherwise. */
class WorkerCommandTest {
  @Test
  void theDefault_isAuto_andTheMetricsEndpointBindsToLoopback() {
    WorkerCommand w = new WorkerCommand();
    new CommandLine(w).parseArgs();
    assertEquals(List.of("auto"), w.queues);
    assertEquals(1, w.slots);
    assertEquals("127.0.0.1", w.metricsHost);
    new CommandLine(w).parseArgs("--queues", "cpu,gpu", "--metrics-host", "0.0.0.0");
    assertEquals(List.of("cpu", "gpu"), w.queues);
    assertEquals("0.0.0.0", w.metricsHost);
  }

  @Test
  void auto_withoutAGpu_pollsTheCpuQueueOnly_andSaysHowToOptIn() {
    WorkerCommand.QueueChoice c = WorkerCommand.chooseQueues(List.of("auto"), 0);
    assertEquals(Set.of("cpu"), c.queues());
    assertTrue(c.notice().contains("no GPU found") && c.notice().contains("cpu queue only"), c.notice());
    assertTrue(c.notice().contains("--queues cpu,gpu"), c.notice());
    assertEquals(1, c.notice().lines().count(), "one line");
  }

  @Test
  void auto_withGpus_pollsBothQueues() {
    WorkerCommand.QueueChoice c = WorkerCommand.chooseQueues(List.of("auto"), 2);
    assertEquals(Set.of("cpu", "gpu"), c.queues());
    assertTrue(c.notice().contains("2 GPUs found"), c.notice());
  }

  @Test
  void explicitQueues_areTakenAsGiven_evenWithoutAGpu() {
    WorkerCommand.QueueChoice both = WorkerCommand.chooseQueues(List.of("cpu", "gpu"), 0);
    assertEquals(Set.of("cpu", "gpu"), both.queues());
    assertNull(both.notice(), "nothing to say: the user chose");
    assertEquals(Set.of("gpu"), WorkerCommand.chooseQueues(List.of("gpu"), 4).queues());
    IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class, () -> WorkerCommand.chooseQueues(List.of("auto", "gpu"), 1));
    assertTrue(mixed.getMessage().contains("auto cannot be combined"), mixed.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> WorkerCommand.chooseQueues(List.of("tpu"), 1));
    assertTrue(unknown.getMessage().contains("unknown queue 'tpu'"), unknown.getMessage());
  }
}
