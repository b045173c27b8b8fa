package ai.promptline.cli;

import ai.promptline.activities.DevicePool;
import ai.promptline.activities.PromptlineMetrics;
import ai.promptline.workers.Connections;
import ai.promptline.workers.MetricsServer;
import ai.promptline.workers.PromptlineWorker;
import ai.promptline.workers.ServiceChecks;
import ai.promptline.workers.Settings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "worker", mixinStandardHelpOptions = true,
    description = {"Run a worker process that polls the Promptline task queues. Start more on other machines"
        + " (same PROMPTLINE_* endpoints) to share a campaign; GPU workers run --queues gpu --slots <#GPUs>."
        + " A machine without a GPU polls only the cpu queue unless told --queues cpu,gpu."})
public final class WorkerCommand implements Callable<Integer> {
  @Option(names = "--queues", split = ",", defaultValue = "auto",
      description = "Task queues to poll: cpu (workflows, data, tracking), gpu (features, training, evaluation), or auto:"
          + " cpu,gpu on a machine with a GPU, cpu only on one without (give --queues cpu,gpu to compute on the CPU). Default ${DEFAULT-VALUE}.")
  List<String> queues;

  @Option(names = "--slots", defaultValue = "1",
      description = "Concurrent compute activities; slot i runs on GPU i (at most one slot per GPU), or on the CPU on a machine without GPUs."
          + " Default ${DEFAULT-VALUE}.")
  int slots;

  @Option(names = "--decode-threads", defaultValue = "0", description = "Image decoding threads (0 = all cores).")
  int decodeThreads;

  @Option(names = "--metrics-port", defaultValue = "0", description = "Serve Prometheus metrics on this port (0 = off).")
  int metricsPort;

  @Option(names = "--metrics-host", defaultValue = "127.0.0.1",
      description = "Address the metrics endpoint binds to (0.0.0.0 in a container, so Prometheus can scrape it). Default ${DEFAULT-VALUE}.")
  String metricsHost;

  /** The queues a worker polls and, for {@code auto}, the line that says what it chose. */
  record QueueChoice(Set<String> queues, String notice) {}

  /**
   * {@code --queues} on a machine with {@code gpus} GPUs: as given, or for {@code auto} cpu,gpu when
   * there is a GPU and the cpu queue only when there is none (a CPU-only worker never takes GPU-queue
   * work unless told to).
   */
  static QueueChoice chooseQueues(List<String> given, int gpus) {
    if (given.contains("auto")) {
      if (given.size() > 1) throw new IllegalArgumentException("--queues: auto cannot be combined with other queues; give auto, cpu, gpu or cpu,gpu");
      if (gpus > 0)
        return new QueueChoice(Set.of("cpu", "gpu"), "worker: " + gpus + " GPU" + (gpus == 1 ? "" : "s")
            + " found: polling the cpu and gpu queues (--queues auto)");
      return new QueueChoice(Set.of("cpu"), "worker: no GPU found: polling the cpu queue only (workflows, data, tracking);"
          + " to run features, training and evaluation on this machine's CPU too, start it with --queues cpu,gpu");
    }
    for (String q : given)
      if (!q.equals("cpu") && !q.equals("gpu"))
        throw new IllegalArgumentException("--queues: unknown queue '" + q + "'; give cpu, gpu or cpu,gpu (or auto)");
    return new QueueChoice(new LinkedHashSet<>(given), null);
  }

  @Override
  public Integer call() throws Exception {
    if (slots < 1) throw new IllegalArgumentException("--slots must be >= 1, got " + slots + " (concurrent compute activities, one per GPU)");
    for (String q : queues)
      if (!q.equals("cpu") && !q.equals("gpu") && !q.equals("auto"))
        throw new IllegalArgumentException("--queues: unknown queue '" + q + "'; give cpu, gpu or cpu,gpu (or auto)");
    if (decodeThreads < 0) throw new IllegalArgumentException("--decode-threads must be >= 0 (0 = all cores), got " + decodeThreads);
    if (metricsPort < 0 || metricsPort > 65535)
      throw new IllegalArgumentException("--metrics-port must be a port 1-65535 (0 = off), got " + metricsPort);
    if (metricsHost == null || metricsHost.isBlank())
      throw new IllegalArgumentException("--metrics-host must be an address to bind, e.g. 127.0.0.1 or 0.0.0.0");
    Settings settings = Settings.fromEnv();
    int gpus = DevicePool.gpuCount();
    QueueChoice choice = chooseQueues(queues, gpus);
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // the slots are checked against the GPUs before anything is connected
    DevicePool devices = choice.queues().contains("gpu")
        ? new DevicePool(DevicePool.devices(slots, gpus), PromptlineMetrics.of(meters)) : null;
    if (choice.notice() != null) System.out.println(choice.notice());
    int threads = decodeThreads > 0 ? decodeThreads : Runtime.getRuntime().availableProcessors();
    CountDownLatch stop = new CountDownLatch(1);
    try (Connections conn = new Connections(settings, meters)) {
      // all three services before polling: a worker that cannot record or store would fail every task
      ServiceChecks.mlflow(settings);
      ServiceChecks.minio(settings, true);
      try (MetricsServer ignored = MetricsServer.start(metricsHost, metricsPort, meters);
          PromptlineWorker worker = new PromptlineWorker(conn.client(), conn.backends(meters),
              new PromptlineWorker.Options(choice.queues(), slots, threads), devices)) {
        worker.start();
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        System.out.println("worker polling " + choice.queues() + (devices == null ? "" : " with compute slots on " + devices.devices())
            + " on " + settings.temporalTarget() + (metricsPort > 0 ? ", metrics at http://" + metricsHost + ":" + metricsPort + "/metrics" : "")
            + " (Ctrl-C to stop)");
        stop.await();
      }
    }
    return 0;
  }
}
