package ai.promptline.cli;

import ai.promptline.workers.Connections;
import ai.promptline.workers.MetricsServer;
import ai.promptline.workers.PromptlineWorker;
import ai.promptline.workers.ServiceChecks;
import ai.promptline.workers.Settings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "worker", mixinStandardHelpOptions = true,
    description = {"Run a worker process that polls the Promptline task queues. Start more on other machines"
        + " (same PROMPTLINE_* endpoints) to share a campaign; GPU workers run --queues gpu --slots <#GPUs>."})
public final class WorkerCommand implements Callable<Integer> {
  @Option(names = "--queues", split = ",", defaultValue = "cpu,gpu",
      description = "Task queues to poll: cpu (workflows, data, tracking), gpu (features, training, evaluation). Default ${DEFAULT-VALUE}.")
  List<String> queues;

  @Option(names = "--slots", defaultValue = "1", description = "Concurrent compute activities (one per GPU). Default ${DEFAULT-VALUE}.")
  int slots;

  @Option(names = "--decode-threads", defaultValue = "0", description = "Image decoding threads (0 = all cores).")
  int decodeThreads;

  @Option(names = "--metrics-port", defaultValue = "0", description = "Serve Prometheus metrics on this port (0 = off).")
  int metricsPort;

  @Override
  public Integer call() throws Exception {
    if (slots < 1) throw new IllegalArgumentException("--slots must be >= 1, got " + slots + " (concurrent compute activities, one per GPU)");
    for (String q : queues)
      if (!q.equals("cpu") && !q.equals("gpu"))
        throw new IllegalArgumentException("--queues: unknown queue '" + q + "'; give cpu, gpu or cpu,gpu");
    if (decodeThreads < 0) throw new IllegalArgumentException("--decode-threads must be >= 0 (0 = all cores), got " + decodeThreads);
    if (metricsPort < 0 || metricsPort > 65535)
      throw new IllegalArgumentException("--metrics-port must be a port 1-65535 (0 = off), got " + metricsPort);
    Settings settings = Settings.fromEnv();
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    int threads = decodeThreads > 0 ? decodeThreads : Runtime.getRuntime().availableProcessors();
    CountDownLatch stop = new CountDownLatch(1);
    try (Connections conn = new Connections(settings, meters)) {
      // all three services before polling: a worker that cannot record or store would fail every task
      ServiceChecks.mlflow(settings);
      ServiceChecks.minio(settings, true);
      try (MetricsServer ignored = MetricsServer.start(metricsPort, meters);
          PromptlineWorker worker = new PromptlineWorker(conn.client(), conn.backends(meters),
              new PromptlineWorker.Options(new LinkedHashSet<>(queues), slots, threads))) {
        worker.start();
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        System.out.println("worker polling " + queues + " on " + settings.temporalTarget() + " (Ctrl-C to stop)");
        stop.await();
      }
    }
    return 0;
  }
}
