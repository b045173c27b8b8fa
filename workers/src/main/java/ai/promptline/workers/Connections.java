package ai.promptline.workers;

import ai.promptline.activities.Backends;
import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import io.micrometer.core.instrument.MeterRegistry;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.reporter.MicrometerClientStatsReporter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;

/** Opens the Temporal connection (with SDK metrics into Micrometer) and the backends. */
public final class Connections implements AutoCloseable {
  private final WorkflowServiceStubs service;
  private final WorkflowClient client;
  private final Settings settings;

  public Connections(Settings settings, MeterRegistry meters) {
    this.settings = settings;
    Scope scope = new RootScopeBuilder().reporter(new MicrometerClientStatsReporter(meters))
        .reportEvery(com.uber.m3.util.Duration.ofSeconds(10));
    try {
      service = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
          .setTarget(settings.temporalTarget()).setMetricsScope(scope).build());
      service.getServerCapabilities(); // fail now, with a clear message, when the server is down
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot reach Temporal at " + settings.temporalTarget() + " (" + e.getMessage()
          + "); start the local services with ./promptline services up", e);
    }
    client = WorkflowClient.newInstance(service,
        WorkflowClientOptions.newBuilder().setNamespace(settings.namespace()).build());
  }

  public WorkflowClient client() {
    return client;
  }

  public Backends backends(MeterRegistry meters) {
    return new Backends(settings.store(), settings.tracker(), meters, settings.scratch());
  }

  @Override
  public void close() {
    service.shutdown();
    service.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
  }

}
