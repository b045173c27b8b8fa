package ai.promptline.workers;

import ai.promptline.activities.Backends;
import ai.promptline.activities.CampaignActivitiesImpl;
import ai.promptline.activities.ComputeActivitiesImpl;
import ai.promptline.activities.DataActivitiesImpl;
import ai.promptline.activities.ModelCache;
import ai.promptline.activities.TrackingActivitiesImpl;
import ai.promptline.workflows.CampaignWorkflowImpl;
import ai.promptline.workflows.LegacyCampaignWorkflowImpl;
import ai.promptline.workflows.RunWorkflowImpl;
import ai.promptline.workflows.api.TaskQueues;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Wires one worker process: the CPU queue (workflows, data and tracking activities) and/or the
 * GPU queue (features, training, evaluation) with as many concurrent compute activities as it
 * has devices. More processes with the same queues share the work.
 */
public final class PromptlineWorker implements AutoCloseable {
  /** Worker shape. {@code computeSlots} = concurrent compute activities (1 per GPU; 1 on a CPU box). */
  public record Options(Set<String> queues, int computeSlots, int decodeThreads) {
    public static Options local() {
      return new Options(Set.of("cpu", "gpu"), 1, Math.max(1, Runtime.getRuntime().availableProcessors()));
    }
  }

  private final WorkerFactory factory;
  private final ModelCache models = new ModelCache();

  public PromptlineWorker(WorkflowClient client, Backends backends, Options options) {
    factory = WorkerFactory.newInstance(client);
    register(factory::newWorker, backends, options, models);
  }

  /**
   * Registers workflows and activities on the queues {@code options} names; {@code newWorker}
   * creates a worker for a queue (a real factory, or Temporal's test environment in tests).
   */
  public static void register(BiFunction<String, WorkerOptions, Worker> newWorker, Backends backends, Options options,
      ModelCache models) {
    for (String q : options.queues())
      if (!q.equals("cpu") && !q.equals("gpu"))
        throw new IllegalArgumentException("unknown queue '" + q + "'; expected cpu, gpu or both (cpu,gpu)");
    if (options.queues().contains("cpu")) {
      Worker cpu = newWorker.apply(TaskQueues.CPU,
          WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(8).build());
      // release 0.1's campaign type stays registered: campaigns it started finish after an upgrade
      cpu.registerWorkflowImplementationTypes(CampaignWorkflowImpl.class, LegacyCampaignWorkflowImpl.class, RunWorkflowImpl.class);
      cpu.registerActivitiesImplementations(new TrackingActivitiesImpl(backends), new DataActivitiesImpl(backends),
          new CampaignActivitiesImpl(backends));
    }
    if (options.queues().contains("gpu")) {
      Worker gpu = newWorker.apply(TaskQueues.GPU,
          WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(Math.max(1, options.computeSlots())).build());
      gpu.registerActivitiesImplementations(new ComputeActivitiesImpl(backends, models, options.decodeThreads()));
    }
  }

  public void start() {
    factory.start();
  }

  /** Stops polling, lets running activities finish their current step, frees the model. */
  @Override
  public void close() {
    factory.shutdown();
    factory.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
    models.close();
  }
}
