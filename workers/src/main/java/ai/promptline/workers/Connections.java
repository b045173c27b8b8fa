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
    String target = settings.temporalTarget();
    ServiceChecks.checkAddresses(settings); // every endpoint's form, before anything is contacted
    String fix = "; start it: ./promptline services up (or set PROMPTLINE_TEMPORAL_TARGET)";
    if (!target.startsWith("dns:"))
      ServiceChecks.probe("Temporal", target, target.substring(0, target.lastIndexOf(':')),
          Integer.parseInt(target.substring(target.lastIndexOf(':') + 1)), fix);
    service = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget(target).setMetricsScope(scope).build());
    try {
      // a health check within a few seconds: the stubs connect lazily, so without it the first call
      // (a workflow start) would be the one to fail, saying only workflowId='...', runId=''
      service.connect(ServiceChecks.TIMEOUT);
      service.blockingStub().withDeadlineAfter(ServiceChecks.TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .describeNamespace(io.temporal.api.workflowservice.v1.DescribeNamespaceRequest.newBuilder()
              .setNamespace(settings.namespace()).build());
    } catch (RuntimeException e) {
      service.shutdownNow();
      if (e instanceof io.grpc.StatusRuntimeException s && s.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND)
        throw new ServiceChecks.ServiceException("Temporal at " + target + " has no namespace '" + settings.namespace()
            + "'; set PROMPTLINE_TEMPORAL_NAMESPACE (default: default) or create it: temporal operator namespace create "
            + settings.namespace(), e);
      throw new ServiceChecks.ServiceException("cannot reach Temporal at " + target + " (" + ServiceChecks.reason(e) + ")" + fix, e);
    }
    client = WorkflowClient.newInstance(service,
        WorkflowClientOptions.newBuilder().setNamespace(settings.namespace()).build());
  }

  public Settings settings() {
    return settings;
  }

  public WorkflowServiceStubs service() {
    return service;
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
