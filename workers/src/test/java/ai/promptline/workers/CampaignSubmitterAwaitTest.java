package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.retry.Retrier;
import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.workflows.model.CampaignResult;
import io.grpc.Status;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.WorkflowServiceException;
import io.temporal.client.WorkflowStub;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The foreground {@code campaign run} rides out a Temporal restart: one line when the server goes
 * away, progress again once it is back, the result at the end; a server that stays away past the
 * budget ends it with the endpoint and the fix, and any other failure goes through at once.
 */
class CampaignSubmitterAwaitTest {
  static final WorkflowExecution EXEC = WorkflowExecution.newBuilder().setWorkflowId("campaign-abc").build();
  static final CampaignResult DONE = new CampaignResult("abc", "parent", "FINISHED", List.of());

  static final class FakeClock implements Retrier.Clock, Retrier.Sleeper {
    long nanos;

    public long nanos() {
      return nanos;
    }

    public long millis() {
      return nanos / 1_000_000L;
    }

    public void sleep(long millis) {
      nanos += millis * 1_000_000L;
    }
  }

  static RuntimeException unavailable() {
    return new WorkflowServiceException(WorkflowExecution.newBuilder().setWorkflowId("campaign-abc").build(), "CampaignWorkflow",
        Status.UNAVAILABLE.withDescription("io exception").withCause(new java.net.ConnectException("Connection refused"))
            .asRuntimeException());
  }

  /** A stub whose getResult answers from a script: a result, or an exception to throw ({@code null} = long poll timed out). */
  static WorkflowStub scripted(Deque<Supplier<Object>> script, FakeClock clock) {
    return (WorkflowStub) Proxy.newProxyInstance(WorkflowStub.class.getClassLoader(), new Class<?>[] {WorkflowStub.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "getResult" -> {
            clock.nanos += 15_000_000_000L; // each long poll takes its time
            Object next = script.isEmpty() ? unavailable() : script.poll().get();
            if (next == null) throw new TimeoutException();
            if (next instanceof RuntimeException e) throw e;
            yield next;
          }
          case "query" -> new CampaignWorkflow.Progress(4, 1, 1, 2, 0, 0);
          case "getExecution" -> EXEC;
          case "toString" -> "stub";
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  @Test
  void aTemporalRestart_printsOneLine_thenProgressResumes_andTheResultArrives() {
    FakeClock clock = new FakeClock();
    Deque<Supplier<Object>> script = new ArrayDeque<>();
    script.add(() -> null); // running
    for (int i = 0; i < 4; i++) script.add(CampaignSubmitterAwaitTest::unavailable); // restarting
    script.add(() -> null); // back, still running
    script.add(() -> DONE);
    List<String> out = new ArrayList<>();
    CampaignResult r = CampaignSubmitter.await(scripted(script, clock), 15, p -> out.add("progress " + p.finished()),
        new CampaignSubmitter.Reattach("127.0.0.1:7233", Duration.ofMinutes(5), out::add, clock, clock));
    assertEquals(DONE, r);
    assertEquals(List.of("progress 2", "Temporal at 127.0.0.1:7233 unreachable; re-attaching…",
        out.get(2), "progress 2"), out);
    assertTrue(out.get(2).startsWith("Temporal at 127.0.0.1:7233 is back after ") && out.get(2).endsWith("re-attached to campaign-abc"),
        out.get(2));
  }

  @Test
  void aServerThatStaysAway_endsAfterTheBudget_namingTheEndpointAndTheFix() {
    FakeClock clock = new FakeClock();
    List<String> out = new ArrayList<>();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> CampaignSubmitter.await(
        scripted(new ArrayDeque<>(), clock), 15, p -> {},
        new CampaignSubmitter.Reattach("127.0.0.1:7233", Duration.ofMinutes(5), out::add, clock, clock)));
    assertEquals(List.of("Temporal at 127.0.0.1:7233 unreachable; re-attaching…"), out, "one line, not one per try");
    assertTrue(e.getMessage().startsWith("Temporal at 127.0.0.1:7233 unreachable for 5m"), e.getMessage());
    assertTrue(e.getMessage().contains("campaign-abc goes on without this command"), e.getMessage());
    assertTrue(e.getMessage().contains("./promptline services status"), e.getMessage());
    assertTrue(clock.nanos >= Duration.ofMinutes(5).toNanos() && clock.nanos < Duration.ofMinutes(6).toNanos(), "" + clock.nanos);
  }

  @Test
  void anyOtherFailure_goesThroughAtOnce() {
    FakeClock clock = new FakeClock();
    Deque<Supplier<Object>> script = new ArrayDeque<>();
    RuntimeException notFound = new WorkflowServiceException(EXEC, "CampaignWorkflow",
        Status.NOT_FOUND.withDescription("workflow not found").asRuntimeException());
    script.add(() -> notFound);
    List<String> out = new ArrayList<>();
    RuntimeException thrown = assertThrows(RuntimeException.class, () -> CampaignSubmitter.await(scripted(script, clock), 15,
        p -> {}, new CampaignSubmitter.Reattach("127.0.0.1:7233", Duration.ofMinutes(5), out::add, clock, clock)));
    assertTrue(thrown == notFound);
    assertTrue(out.isEmpty());
  }
}
