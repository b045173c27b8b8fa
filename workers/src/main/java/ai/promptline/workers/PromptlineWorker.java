package ai.promptline.workers;

import ai.promptline.activities.Backends;
import ai.promptline.activities.CampaignActivitiesImpl;
import ai.promptline.activities.ComputeActivitiesImpl;
import ai.promptline.activities.DataActivitiesImpl;
import ai.promptline.activities.DevicePool;
import ai.promptline.activities.ModelCache;
import ai.promptline.activities.PromptlineMetrics;
import ai.promptline.activities.QueueWaitInterceptor;
import ai.promptline.activities.TrackingActivitiesImpl;
import ai.promptline.workflows.CampaignWorkflowImpl;
import ai.promptline.workflows.LegacyCampaignWorkflowImpl;
import ai.promptline.workflows.RunWorkflowImpl;
import ai.promptline.workflows.api.TaskQueues;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Wires one worker process: the CPU queue (workflows, data and tracking activities) and/or the
 * GPU queue (features, training, evaluation) with one concurrent compute activity per slot, each
 * slot pinned to a device ({@link DevicePool}: gpu(i) for slot i, or the CPU on a machine without
 * GPUs). More processes with the same queues share the work. The queues are always given
 * explicitly; {@code worker --queues auto} (the CLI default) decides them from the GPU count.
 */
public final class PromptlineWorker implements AutoCloseable {
  /** Worker shape. {@code computeSlots} = concurrent compute activities (1 per GPU; 1 on a CPU box). */
  public record Options(Set<String> queues, int computeSlots, int decodeThreads) {
    /**
     * Both queues, one slot: the demo and the tests compute on this machine whether it has a GPU or
     * not (a CPU-only machine runs the GPU queue's activities on the CPU).
     */
    public static Options local() {
      return new Options(Set.of("cpu", "gpu"), 1, Math.max(1, Runtime.getRuntime().availableProcessors()));
    }
  }

  private final WorkerFactory factory;
  private final ModelCache models;

  /** Slots on this machine's devices ({@link DevicePool#forSlots}). */
  public PromptlineWorker(WorkflowClient client, Backends backends, Options options) {
    this(client, backends, options, options.queues().contains("gpu")
        ? DevicePool.forSlots(options.computeSlots(), backends.metrics()) : null);
  }

  /** @param devices the compute slots (null when the GPU queue is not polled) */
  public PromptlineWorker(WorkflowClient client, Backends backends, Options options, DevicePool devices) {
    PromptlineMetrics metrics = backends.metrics();
    models = new ModelCache(1, metrics);
    factory = WorkerFactory.newInstance(client,
        WorkerFactoryOptions.newBuilder().setWorkerInterceptors(new QueueWaitInterceptor(metrics)).build());
    register(factory::newWorker, backends, options, models, devices);
  }

  /**
   * Registers workflows and activities on the queues {@code options} names; {@code newWorker}
   * creates a worker for a queue (a real factory, or Temporal's test environment in tests). The
   * compute slots are {@code options.computeSlots()} on this machine's devices.
   */
  public static void register(BiFunction<String, WorkerOptions, Worker> newWorker, Backends backends, Options options,
      ModelCache models) {
    register(newWorker, backends, options, models, options.queues().contains("gpu")
        ? DevicePool.forSlots(options.computeSlots(), backends.metrics()) : null);
  }

  /** As above with the given compute slots (their number is the GPU queue's concurrency). */
  public static void register(BiFunction<String, WorkerOptions, Worker> newWorker, Backends backends, Options options,
      ModelCache models, DevicePool devices) {
    for (String q : options.queues())
      if (!q.equals("cpu") && !q.equals("gpu"))
        throw new IllegalArgumentException("unknown queue '" + q + "'; expected cpu, gpu or both (cpu,gpu)");
    backends.metrics().bindScratch(backends.scratch());
    if (options.queues().contains("cpu")) {
      Worker cpu = newWorker.apply(TaskQueues.CPU,
          WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(8).build());
      // release 0.1's campaign type stays registered: campaigns it started finish after an upgrade
      cpu.registerWorkflowImplementationTypes(CampaignWorkflowImpl.class, LegacyCampaignWorkflowImpl.class, RunWorkflowImpl.class);
      cpu.registerActivitiesImplementations(new TrackingActivitiesImpl(backends), new DataActivitiesImpl(backends),
          new CampaignActivitiesImpl(backends));
    }
    if (options.queues().contains("gpu")) {
      if (devices == null) throw new IllegalArgumentException("the gpu queue needs compute slots (a DevicePool)");
      Worker gpu = newWorker.apply(TaskQueues.GPU,
          WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(devices.size()).build());
      gpu.registerActivitiesImplementations(new ComputeActivitiesImpl(backends, models, options.decodeThreads(), devices));
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
