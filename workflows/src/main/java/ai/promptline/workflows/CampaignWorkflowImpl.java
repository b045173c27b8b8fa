package ai.promptline.workflows;

import ai.promptline.workflows.RunWorkflow.RunRequest;
import ai.promptline.workflows.api.CampaignActivities;
import ai.promptline.workflows.api.CampaignActivities.CampaignClose;
import ai.promptline.workflows.api.SearchAttrs;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.api.TrackingActivities;
import ai.promptline.workflows.model.CampaignPlan.PlannedRun;
import ai.promptline.workflows.model.CampaignRequest;
import ai.promptline.workflows.model.CampaignRequest.RunFailure;
import ai.promptline.workflows.model.CampaignRequest.State;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.common.SearchAttributes;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.ChildWorkflowFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Workflow;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Works through the plan with a sliding window of child run workflows; see {@link CampaignWorkflow}.
 *
 * <p>Each execution starts at most {@code runsPerExecution} runs (or fewer when Temporal suggests
 * continuing), waits for the window to drain (children end with their parent's execution, so none
 * may be in flight) and continues as new with the cursor and the counters. A failed run never
 * stops the others unless the failure policy says so. The last execution closes the campaign: the
 * summary over the whole plan goes to the MLflow parent run, whose status is always set (also
 * when the campaign is cancelled), so no MLflow run stays RUNNING.
 *
 * <p>Deterministic: the plan comes from an activity, keys were computed by the submitter, and
 * there are no clocks, randomness or I/O here.
 */
public final class CampaignWorkflowImpl implements CampaignWorkflow {
  /** Runs read from the plan per activity call. */
  static final int PAGE = 200;

  /** Runs started per execution: a child costs about 10 history events, so well below the 50k limit. */
  public static final int DEFAULT_RUNS_PER_EXECUTION = 500;

  private final TrackingActivities tracking = ActivityStubs.tracking();
  private final CampaignActivities campaign = ActivityStubs.campaign();

  private int total;
  private int cursor;
  private int finished;
  private int reused;
  private int failed;
  private int killed;
  private int running;
  private boolean paused;
  private int executions;
  private String state = "starting";
  private boolean indexed;
  private int startedHere;
  private long startedAt;
  private String stopReason;
  private final List<RunFailure> failures = new ArrayList<>();
  private final List<String> reusedKeys = new ArrayList<>();
  private final Map<String, ActiveRun> active = new LinkedHashMap<>();
  private final Map<String, CancellationScope> scopes = new LinkedHashMap<>();

  @Override
  public CampaignResult run(CampaignRequest request) {
    State s = request.state() == null ? State.initial() : request.state();
    total = request.total();
    cursor = s.cursor();
    finished = s.finished();
    reused = s.reused();
    failed = s.failed();
    killed = s.killed();
    paused = s.paused();
    executions = s.executions() + 1;
    failures.addAll(s.recentFailures());
    reusedKeys.addAll(s.reusedKeys());
    startedAt = s.startedAt() > 0 ? s.startedAt() : Workflow.currentTimeMillis();
    String campaignId = Workflow.getInfo().getWorkflowId();
    String parentRunId = s.parentRunId() != null ? s.parentRunId()
        : tracking.startCampaign(request.campaignKey(), request.spec(), campaignId);
    int perExecution = request.runsPerExecution() > 0 ? request.runsPerExecution() : DEFAULT_RUNS_PER_EXECUTION;
    int maxParallel = request.spec().maxParallel();
    indexed = request.indexed();
    setState(paused ? "paused" : "running", indexed);

    Deque<PlannedRun> buffer = new ArrayDeque<>();
    boolean cancelled = false;
    try {
      while (cursor < total && stopReason == null) {
        // a paused campaign still continues as new when its execution is full, so the pause outlives any history
        Workflow.await(() -> stopReason != null || startedHere >= perExecution || (!paused && running < maxParallel));
        if (stopReason != null) break;
        if (startedHere >= perExecution || Workflow.getInfo().isContinueAsNewSuggested()) break;
        if (buffer.isEmpty()) buffer.addAll(campaign.planSlice(request.plan(), cursor, Math.min(PAGE, total - cursor)));
        if (buffer.isEmpty()) throw new IllegalStateException("plan " + request.plan().key() + " ended at " + cursor + " of " + total);
        PlannedRun next = buffer.poll();
        cursor++;
        if (next.reuse()) {
          reused++; // finished in the campaign this one was started --from
          noteReused(next.runKey());
          continue;
        }
        start(next, parentRunId, request);
        startedHere++;
      }
      if (cursor < total && stopReason == null) setState("draining", request.indexed());
      Workflow.await(() -> running == 0);
    } catch (CanceledFailure e) {
      cancelled = true;
    }
    if (cancelled) {
      state = "cancelling";
      // the children were cancelled with this workflow's scope; wait until each has recorded KILLED
      Workflow.newDetachedCancellationScope(() -> Workflow.await(() -> running == 0)).run();
    } else if (cursor < total && stopReason == null) {
      Workflow.continueAsNew(request.withState(snapshot(parentRunId)));
    }

    CampaignResult.Counts counts = new CampaignResult.Counts(total, finished, reused, failed, killed);
    int notFinished = total - finished - reused;
    String status;
    String reason;
    if (cancelled) {
      status = Stages.KILLED;
      reason = "cancelled";
    } else if (stopReason != null) {
      status = Stages.FAILED;
      reason = stopReason;
    } else {
      status = request.policy().tolerates(notFinished, total) ? Stages.FINISHED : Stages.FAILED;
      reason = notFinished == 0 ? null : notFinished + " of " + total + " runs did not finish (failure policy: " + request.policy() + ")";
    }
    state = "closing";
    CampaignClose close = new CampaignClose(request.campaignKey(), parentRunId, status, reason, request.fullPlan(), counts,
        State.newest(failures), reusedKeys);
    // detached: the parent run gets its terminal status even while the campaign is being cancelled
    CampaignResult[] result = new CampaignResult[1];
    Workflow.newDetachedCancellationScope(() -> {
      result[0] = campaign.closeCampaign(close);
      setState("done", request.indexed(), status);
    }).run();
    if (cancelled) throw new CanceledFailure("campaign cancelled");
    return result[0];
  }

  private void setState(String st, boolean indexed) {
    setState(st, indexed, null);
  }

  private void setState(String st, boolean indexed, String runStatus) {
    state = st;
    if (!indexed) return;
    if (runStatus == null) Workflow.upsertTypedSearchAttributes(SearchAttrs.PHASE.valueSet(st));
    else Workflow.upsertTypedSearchAttributes(SearchAttrs.PHASE.valueSet(st), SearchAttrs.RUN_STATUS.valueSet(runStatus));
  }

  private State snapshot(String parentRunId) {
    return new State(parentRunId, cursor, finished, reused, failed, killed, paused, executions, State.newest(failures),
        reusedKeys, startedAt);
  }

  private void noteReused(String runKey) {
    if (total <= CampaignResult.INLINE_RUNS) reusedKeys.add(runKey);
  }

  /** Starts one child in its own cancellation scope (the failure policy cancels it alone). */
  private void start(PlannedRun run, String parentRunId, CampaignRequest request) {
    running++;
    active.put(run.runKey(), new ActiveRun(run.runKey(), run.config().displayName()));
    CancellationScope scope = Workflow.newCancellationScope(() -> Async.procedure(() -> runOne(run, parentRunId, request)));
    scopes.put(run.runKey(), scope);
    scope.run();
  }

  /** Runs one child to completion and counts how it ended. */
  private void runOne(PlannedRun run, String parentRunId, CampaignRequest request) {
    RunConfig config = run.config();
    String runKey = run.runKey();
    ChildWorkflowOptions.Builder options = ChildWorkflowOptions.newBuilder()
        .setWorkflowId(RunWorkflow.workflowId(runKey))
        .setTaskQueue(TaskQueues.CPU)
        .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL)
        .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
        .setStaticSummary(summary(config));
    if (request.indexed()) options.setTypedSearchAttributes(searchAttributes(config, Workflow.getInfo().getWorkflowId()));
    RunWorkflow child = Workflow.newChildWorkflowStub(RunWorkflow.class, options.build());
    try {
      RunResult r = child.run(new RunRequest(runKey, config, parentRunId, request.spec().heartbeatTimeoutSeconds(),
          request.indexed()));
      if (r.reused()) {
        reused++;
        noteReused(runKey);
      } else finished++;
    } catch (ChildWorkflowFailure e) {
      boolean wasCancelled = e.getCause() instanceof CanceledFailure;
      String message = RunWorkflowImpl.rootMessage(e);
      String status = wasCancelled ? Stages.KILLED : Stages.FAILED;
      if (wasCancelled) killed++;
      else failed++;
      failures.add(new RunFailure(runKey, config.displayName(), status, message));
      if (failures.size() > 2 * State.RECENT_FAILURES) failures.subList(0, failures.size() - State.RECENT_FAILURES).clear();
      Workflow.newDetachedCancellationScope(() -> tracking.closeIfRunning(runKey, status, message)).run();
      if (!wasCancelled && stopReason == null) {
        stopReason = request.policy().stopReason(failed, total);
        if (stopReason != null) {
          state = "stopping";
          for (CancellationScope other : new ArrayList<>(scopes.values())) other.cancel();
        }
      }
    } catch (CanceledFailure e) {
      // cancelled before the child started: it never ran, so it stays "not started"
    } finally {
      running--;
      active.remove(runKey);
      scopes.remove(runKey);
    }
  }

  /** What the Temporal UI shows for a run instead of its opaque id, e.g. "coop · EuroSAT · 16 shots · seed 1". */
  static String summary(RunConfig c) {
    return c.method() + " · " + c.dataset().name() + " · " + c.shots() + " shots · seed " + c.seed();
  }

  static SearchAttributes searchAttributes(RunConfig c, String campaignId) {
    return SearchAttributes.newBuilder()
        .set(SearchAttrs.CAMPAIGN, campaignId)
        .set(SearchAttrs.DATASET, c.dataset().name())
        .set(SearchAttrs.METHOD, c.method())
        .set(SearchAttrs.SHOTS, (long) c.shots())
        .set(SearchAttrs.SEED, (long) c.seed())
        .set(SearchAttrs.MODEL, c.model().name())
        .set(SearchAttrs.PROTOCOL, c.protocol())
        .set(SearchAttrs.PHASE, "queued")
        .set(SearchAttrs.RUN_STATUS, "RUNNING")
        .build();
  }

  @Override
  public Progress progress() {
    int pending = Math.max(0, total - cursor);
    return new Progress(total, pending, running, finished, reused, failed, killed, paused,
        state, executions, stopReason, new ArrayList<>(active.values()),
        State.newest(failures), startedAt);
  }

  @Override
  public void pause() {
    paused = true;
    if ("running".equals(state)) setState("paused", indexed);
  }

  @Override
  public void resume() {
    paused = false;
    if ("paused".equals(state)) setState("running", indexed);
  }
}
