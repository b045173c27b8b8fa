package ai.promptline.workers;

import ai.promptline.activities.retry.Retrier;
import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workflows.api.SearchAttrs;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignRequest;
import ai.promptline.workflows.model.Stages.BlobRef;
import java.util.ArrayList;
import java.util.List;
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

  /**
   * What a submission will start, computed before anything is created (so {@code --dry-run} can
   * print it): the campaign's full plan with its run keys, the runs this execution works through
   * (all of them, or a subset for {@code recover}), and the runs reused from another campaign.
   *
   * @param kind "run", "recover" or "from"
   * @param from the campaign whose finished runs are reused ({@code --from}), else null
   * @param reusedFrom how many planned runs are marked as reused from {@code from}
   */
  public record Prepared(CampaignSpec spec, String campaignKey, CampaignPlan full, CampaignPlan toRun, String kind, String from,
      int reusedFrom) {
    public String workflowId() {
      return CampaignWorkflow.workflowId(campaignKey);
    }
  }

  /** The whole grid of {@code spec}. */
  public static Prepared prepare(CampaignSpec spec) {
    CampaignPlan plan = CampaignPlan.of(spec);
    return new Prepared(spec, plan.campaignKey(), plan, plan, "run", null, 0);
  }

  /**
   * The grid of {@code spec}, reusing every run that finished in campaign {@code fromId}: those are
   * counted as reused and no run workflow starts for them. The campaign {@code fromId} must have a
   * plan in the store.
   */
  public static Prepared from(CampaignSpec spec, ObjectStore store, String fromId) {
    CampaignPlan earlier = storedPlan(store, fromId);
    java.util.Set<String> done = new java.util.HashSet<>();
    for (String k : finishedKeys(store, earlier)) done.add(k);
    CampaignPlan plan = CampaignPlan.of(spec);
    List<CampaignPlan.PlannedRun> runs = new ArrayList<>(plan.runs().size());
    int reused = 0;
    for (CampaignPlan.PlannedRun r : plan.runs()) {
      boolean reuse = done.contains(r.runKey());
      if (reuse) reused++;
      runs.add(new CampaignPlan.PlannedRun(r.runKey(), r.config(), reuse));
    }
    return new Prepared(spec, plan.campaignKey(), plan, new CampaignPlan(plan.campaignKey(), spec, runs), "from", fromId, reused);
  }

  /**
   * The runs of finished campaign {@code campaignId} that have no committed result (failed,
   * killed, or never started after a cancel or a stop), to run again under the same campaign id.
   */
  public static Prepared recover(ObjectStore store, String campaignId) {
    CampaignPlan full = storedPlan(store, campaignId);
    java.util.Set<String> done = new java.util.HashSet<>(finishedKeys(store, full));
    List<CampaignPlan.PlannedRun> todo = full.runs().stream().filter(r -> !done.contains(r.runKey())).toList();
    if (todo.isEmpty())
      throw new IllegalArgumentException("campaign " + campaignId + " has no failed or killed runs: all " + full.runs().size()
          + " finished, nothing to recover (campaign status " + campaignId + " shows it)");
    return new Prepared(full.spec(), full.campaignKey(), full, new CampaignPlan(full.campaignKey(), full.spec(), todo), "recover",
        null, 0);
  }

  /** The full plan of a submitted campaign, from the store; a clear error when there is none. */
  public static CampaignPlan storedPlan(ObjectStore store, String campaignId) {
    String key = campaignKeyOf(campaignId);
    byte[] data = store.find(CampaignPlan.fullPlanKey(key)).orElseThrow(() -> new IllegalArgumentException(
        "unknown campaign " + campaignId + ": no plan for it in " + store.describe() + " (campaign ids are printed by"
            + " campaign submit/run and listed by campaign list; check PROMPTLINE_S3_BUCKET points at the campaign's bucket)"));
    return ai.promptline.activities.TrackingActivitiesImpl.readJson(data, CampaignPlan.class);
  }

  /** The key of {@code campaign-<key>}; a clear error for anything else. */
  public static String campaignKeyOf(String campaignId) {
    // a scheduled campaign's id carries the time Temporal started it: campaign-<key>-2026-12-01T02:00:00Z
    if (campaignId != null && campaignId.matches("campaign-[0-9a-f]{64}-.+")) campaignId = campaignId.substring(0, 73);
    if (campaignId == null || !campaignId.matches("campaign-[0-9a-f]{64}"))
      throw new IllegalArgumentException("'" + campaignId + "' is not a campaign workflow id (campaign-<64 hex digits>, as campaign"
          + " submit and campaign plan print it); give the id or the campaign file");
    return campaignId.substring("campaign-".length());
  }

  /** Run keys of {@code plan} with a committed result (parallel existence checks). */
  public static List<String> finishedKeys(ObjectStore store, CampaignPlan plan) {
    java.util.concurrent.ForkJoinPool pool = new java.util.concurrent.ForkJoinPool(16);
    try {
      return pool.submit(() -> plan.runs().parallelStream().map(CampaignPlan.PlannedRun::runKey)
          .filter(k -> store.exists("runs/" + k + "/result.json")).toList()).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
    } finally {
      pool.shutdown();
    }
  }

  /** {@code r} with every run's row: inline for small campaigns, else read from its results blob. */
  public static CampaignResult withRuns(CampaignResult r, ObjectStore store) {
    if (!r.runs().isEmpty() || r.results() == null) return r;
    CampaignResult.Counts c = r.counts();
    if (c != null && c.total() == 0) return r;
    List<ai.promptline.workflows.model.Stages.RunResult> rows = java.util.Arrays.asList(
        ai.promptline.activities.TrackingActivitiesImpl.readJson(store.get(r.results()),
            ai.promptline.workflows.model.Stages.RunResult[].class));
    return r.withRuns(rows);
  }

  /** Starts (or attaches to) the campaign's whole grid with the store the connections' settings name. */
  public static WorkflowStub start(Connections conn, CampaignSpec spec) {
    return start(conn.client(), conn.settings().store(), spec);
  }

  /** Starts (or attaches to) the campaign's whole grid; returns without waiting. */
  public static WorkflowStub start(WorkflowClient client, ObjectStore store, CampaignSpec spec) {
    return submit(client, store, prepare(spec));
  }

  /**
   * Writes the plans to the store (verified, idempotent: same content, same bytes) and starts the
   * campaign workflow. A plain run attaches to a running campaign with the same key; a recover
   * refuses to, since the running one would do the same runs.
   */
  public static WorkflowStub submit(WorkflowClient client, ObjectStore store, Prepared p) {
    CampaignRequest request = writePlans(client, store, p);
    boolean indexed = request.indexed();
    WorkflowOptions.Builder options = WorkflowOptions.newBuilder()
        .setTaskQueue(TaskQueues.CPU)
        .setWorkflowId(p.workflowId())
        .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
        .setWorkflowIdConflictPolicy("recover".equals(p.kind()) ? WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL
            : WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
        .setStaticSummary(summary(p));
    if (indexed) options.setTypedSearchAttributes(campaignSearchAttributes(p));
    CampaignWorkflow wf = client.newWorkflowStub(CampaignWorkflow.class, options.build());
    try {
      retryBusy(() -> WorkflowClient.start(wf::run, request));
    } catch (io.temporal.client.WorkflowExecutionAlreadyStarted e) {
      throw new IllegalArgumentException("campaign " + p.workflowId() + " is still running: recover re-runs the failed runs of a"
          + " campaign that ended; wait for it (campaign watch " + p.workflowId() + ") or cancel it first", e);
    }
    return WorkflowStub.fromTyped(wf);
  }

  /**
   * Writes the plans of {@code p} to the store (verified, idempotent: same content, same bytes)
   * and returns the workflow input that runs them; a schedule's action carries this request.
   */
  public static CampaignRequest writePlans(WorkflowClient client, ObjectStore store, Prepared p) {
    BlobRef fullRef = store.put(CampaignPlan.fullPlanKey(p.campaignKey()), planBytes(p.full()));
    BlobRef runRef = fullRef;
    if (p.toRun() != p.full()) {
      byte[] bytes = planBytes(p.toRun());
      runRef = store.put(CampaignPlan.partialPlanKey(p.campaignKey(), ContentKeys.sha256Hex(bytes)), bytes);
    }
    return new CampaignRequest(p.campaignKey(), p.spec(), runRef, p.toRun().runs().size(), fullRef, p.full().runs().size(),
        searchAttributesRegistered(client), runsPerExecution(), null);
  }

  /** The search attributes a campaign workflow starts with (when the server has them). */
  public static io.temporal.common.SearchAttributes campaignSearchAttributes(Prepared p) {
    return io.temporal.common.SearchAttributes.newBuilder()
        .set(SearchAttrs.CAMPAIGN, p.workflowId()).set(SearchAttrs.PHASE, "starting").set(SearchAttrs.RUN_STATUS, "RUNNING")
        .set(SearchAttrs.MODEL, p.spec().model().name()).set(SearchAttrs.PROTOCOL, p.spec().protocol()).build();
  }

  /** What the Temporal UI lists for the campaign, e.g. "seed-table · 120 runs (recover: 3)". */
  public static String summary(Prepared p) {
    String s = p.spec().name() + " · " + p.full().runs().size() + " runs";
    if ("recover".equals(p.kind())) s += " (recover: " + p.toRun().runs().size() + ")";
    if ("from".equals(p.kind())) s += " (" + p.reusedFrom() + " reused from " + p.from() + ")";
    return s;
  }

  static byte[] planBytes(CampaignPlan plan) {
    return ContentKeys.canonicalJson(plan).getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** PROMPTLINE_RUNS_PER_EXECUTION, else the workflow's default. */
  static int runsPerExecution() {
    String v = Settings.environment().get("PROMPTLINE_RUNS_PER_EXECUTION");
    if (v == null || v.isBlank()) return 0;
    try {
      int n = Integer.parseInt(v.trim());
      if (n < 1) throw new NumberFormatException();
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("PROMPTLINE_RUNS_PER_EXECUTION must be a positive integer (runs per workflow execution"
          + " before continue-as-new), got '" + v + "'");
    }
  }

  /**
   * Whether the server's namespace has every Promptline search attribute ({@code services up}
   * registers them). Without them a campaign still runs, only unindexed.
   */
  public static boolean searchAttributesRegistered(WorkflowClient client) {
    try {
      var service = client.getWorkflowServiceStubs();
      var operator = io.temporal.serviceclient.OperatorServiceStubs.newServiceStubs(
          io.temporal.serviceclient.OperatorServiceStubsOptions.newBuilder().setChannel(service.getRawChannel())
              .validateAndBuildWithDefaults());
      try {
        var attrs = operator.blockingStub().withDeadlineAfter(10, TimeUnit.SECONDS).listSearchAttributes(
            io.temporal.api.operatorservice.v1.ListSearchAttributesRequest.newBuilder()
                .setNamespace(client.getOptions().getNamespace()).build()).getCustomAttributesMap();
        return SearchAttrs.ALL.stream().allMatch(a -> attrs.containsKey(a[0]));
      } finally {
        operator.shutdown();
      }
    } catch (RuntimeException e) {
      return false;
    }
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
