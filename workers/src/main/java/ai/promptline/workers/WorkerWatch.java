package ai.promptline.workers;

import ai.promptline.workflows.api.TaskQueues;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.taskqueue.v1.PollerInfo;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * While {@code campaign run} waits: when no worker has polled a Promptline task queue for a while
 * (Temporal's DescribeTaskQueue lists no recent poller), says so once per queue, with the fix. A
 * campaign without workers otherwise waits silently at 0/N.
 */
public final class WorkerWatch implements AutoCloseable {
  /** How long a queue may go without a poller before the warning. */
  static final Duration GRACE = Duration.ofSeconds(30);
  /** A poller last seen longer ago than this is gone (long polls last about a minute). */
  static final Duration STALE = Duration.ofMinutes(3);

  private final ScheduledExecutorService timer;

  private WorkerWatch(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  /** Starts watching both queues; the first check is after {@link #GRACE}. */
  public static WorkerWatch start(Connections conn, PrintStream out) {
    return start(conn, out, GRACE);
  }

  static WorkerWatch start(Connections conn, PrintStream out, Duration grace) {
    return start(conn, out, grace, List.of(TaskQueues.CPU, TaskQueues.GPU),
        List.of(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY));
  }

  /** Watches {@code queues} (each for tasks of the matching {@code types}); the last queue's hint names the GPU worker. */
  static WorkerWatch start(Connections conn, PrintStream out, Duration grace, List<String> queues, List<TaskQueueType> types) {
    ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread th = new Thread(r, "promptline-worker-watch");
      th.setDaemon(true);
      return th;
    });
    boolean[] warned = new boolean[queues.size()];
    Runnable check = () -> {
      boolean all = true;
      for (int i = 0; i < queues.size(); i++) {
        if (warned[i]) continue;
        try {
          if (!hasPoller(conn, queues.get(i), types.get(i))) {
            warned[i] = true;
            out.println("warning: no worker is polling task queue " + queues.get(i) + " at " + conn.settings().temporalTarget()
                + " (namespace " + conn.settings().namespace() + "); start one: ./promptline worker"
                + (queues.get(i).equals(TaskQueues.GPU) ? " --queues cpu,gpu (a machine without a GPU polls only the cpu queue"
                    + " unless told so; or ./promptline worker --queues gpu on a GPU machine)" : ""));
            out.flush();
          }
        } catch (RuntimeException e) {
          // Temporal briefly away: the wait loop reports that; look again next time
        }
        all &= warned[i];
      }
      if (all) t.shutdown();
    };
    t.scheduleWithFixedDelay(check, grace.toMillis(), grace.toMillis(), TimeUnit.MILLISECONDS);
    return new WorkerWatch(t);
  }

  /** Whether a worker polled {@code queue} for {@code type} tasks within {@link #STALE}. */
  public static boolean hasPoller(Connections conn, String queue, TaskQueueType type) {
    List<PollerInfo> pollers = conn.service().blockingStub().withDeadlineAfter(5, TimeUnit.SECONDS)
        .describeTaskQueue(DescribeTaskQueueRequest.newBuilder().setNamespace(conn.settings().namespace())
            .setTaskQueue(TaskQueue.newBuilder().setName(queue)).setTaskQueueType(type).build())
        .getPollersList();
    long now = System.currentTimeMillis() / 1000;
    return pollers.stream().anyMatch(p -> !p.hasLastAccessTime() || now - p.getLastAccessTime().getSeconds() < STALE.toSeconds());
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
