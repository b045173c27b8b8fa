package ai.promptline.workers;

import ai.promptline.activities.retry.Retrier;
import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Submits a campaign under its content key. Submitting a spec whose campaign is running attaches
 * to it; submitting one that ended starts it again, and its finished runs are reused, not redone.
 */
public final class CampaignSubmitter {
  private CampaignSubmitter() {}

  public static String workflowId(CampaignSpec spec) {
    return CampaignWorkflow.workflowId(ContentKeys.campaignKey(spec));
  }

  /** Starts (or attaches to) the campaign and returns its workflow id without waiting. */
  public static WorkflowStub start(WorkflowClient client, CampaignSpec spec) {
    String id = workflowId(spec);
    CampaignWorkflow wf = client.newWorkflowStub(CampaignWorkflow.class, WorkflowOptions.newBuilder()
        .setTaskQueue(TaskQueues.CPU)
        .setWorkflowId(id)
        .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
        .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
        .build());
    retryBusy(() -> WorkflowClient.start(wf::run, spec));
    return WorkflowStub.fromTyped(wf);
  }

  /**
   * The server answers RESOURCE_EXHAUSTED ("Workflow is busy") while a workflow's history is being
   * written by its worker; the SDK does not retry that for these calls, so retry briefly here.
   */
  static <T> T retryBusy(java.util.function.Supplier<T> call) {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.get();
      } catch (io.temporal.client.WorkflowServiceException e) {
        if (!isBusy(e) || attempt == 10) throw e;
        sleep(200L * attempt);
      }
    }
  }

  static boolean isBusy(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause())
      if (t instanceof io.grpc.StatusRuntimeException s && s.getStatus().getCode() == io.grpc.Status.Code.RESOURCE_EXHAUSTED)
        return true;
    return false;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", ie);
    }
  }

  /**
   * Waits for the result, reporting progress every {@code everySeconds}; re-attaches by itself when
   * the Temporal server restarts (endpoint and budget from the environment, notices on stdout).
   */
  public static CampaignResult await(WorkflowStub stub, int everySeconds, Consumer<CampaignWorkflow.Progress> onProgress) {
    return await(stub, everySeconds, onProgress, Reattach.of(Settings.fromEnv(), System.out::println));
  }

  /**
   * How {@link #await} rides out a Temporal restart: the server's address (for the message), how long
   * it may stay unreachable, where the one-line notices go, and the clock (tests use a fake one).
   */
  public record Reattach(String target, Duration budget, Consumer<String> notices, Retrier.Clock clock,
      Retrier.Sleeper sleeper) {
    public static Reattach of(Settings settings, Consumer<String> notices) {
      return new Reattach(settings.temporalTarget(), settings.retryBudget(), notices, Retrier.Clock.SYSTEM, Thread::sleep);
    }
  }

  /**
   * Waits for the result, reporting progress every {@code everySeconds}. While the server is
   * unreachable (UNAVAILABLE, DEADLINE_EXCEEDED, a refused connection) it prints one line, keeps
   * trying for the budget and then goes on printing progress; the campaign itself never depended
   * on this process.
   */
  public static CampaignResult await(WorkflowStub stub, int everySeconds, Consumer<CampaignWorkflow.Progress> onProgress,
      Reattach reattach) {
    long downSince = -1;
    int tries = 0;
    while (true) {
      try {
        CampaignResult result = stub.getResult(everySeconds, TimeUnit.SECONDS, CampaignResult.class);
        if (downSince >= 0) reattach.notices().accept(reattached(stub, reattach, downSince));
        return result;
      } catch (TimeoutException e) { // the server answered: the campaign is still running
        if (downSince >= 0) {
          reattach.notices().accept(reattached(stub, reattach, downSince));
          downSince = -1;
        }
        if (onProgress != null) {
          try {
            onProgress.accept(stub.query("progress", CampaignWorkflow.Progress.class));
          } catch (RuntimeException queryFailed) {
            // no worker has picked the workflow up yet (or the server just went away); keep waiting
          }
        }
      } catch (RuntimeException e) {
        if (isBusy(e)) {
          pause(reattach, 500);
          continue;
        }
        if (!isUnreachable(e)) throw e;
        long now = reattach.clock().nanos();
        tries++;
        if (downSince < 0) {
          downSince = now;
          tries = 1;
          reattach.notices().accept("Temporal at " + reattach.target() + " unreachable; re-attaching…");
        } else if (now - downSince >= reattach.budget().toNanos()) {
          throw new IllegalStateException("Temporal at " + reattach.target() + " unreachable for "
              + Retrier.format(now - downSince) + " (" + tries + " tries): " + Retrier.rootMessage(e) + " — the campaign "
              + workflowIdOf(stub) + " goes on without this command; check ./promptline services status, then"
              + " run the same `campaign run` again to re-attach", e);
        }
        pause(reattach, Math.min(5_000L, Math.max(1, everySeconds) * 1000L));
      }
    }
  }

  private static String reattached(WorkflowStub stub, Reattach reattach, long downSince) {
    return "Temporal at " + reattach.target() + " is back after " + Retrier.format(reattach.clock().nanos() - downSince)
        + "; re-attached to " + workflowIdOf(stub);
  }

  private static String workflowIdOf(WorkflowStub stub) {
    try {
      return stub.getExecution().getWorkflowId();
    } catch (RuntimeException notStartedByThisStub) {
      return stub.getOptions().map(o -> o.getWorkflowId()).orElse("(unknown workflow)");
    }
  }

  /** The server (or the network to it) is down or restarting, as opposed to an answer that refuses the call. */
  static boolean isUnreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof io.grpc.StatusRuntimeException s) {
        io.grpc.Status.Code code = s.getStatus().getCode();
        if (code == io.grpc.Status.Code.UNAVAILABLE || code == io.grpc.Status.Code.DEADLINE_EXCEEDED) return true;
      }
      if (t instanceof java.net.ConnectException) return true;
    }
    return false;
  }

  private static void pause(Reattach reattach, long millis) {
    try {
      reattach.sleeper().sleep(millis);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", ie);
    }
  }
}
