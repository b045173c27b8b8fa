package ai.promptline.activities;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workflows.api.CampaignActivities;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignPlan.PlannedRun;
import ai.promptline.workflows.model.CampaignRequest.RunFailure;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.RunResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;

/**
 * The campaign workflow's activities: plan slices (the plan blob is parsed once per worker and
 * kept while it is in use) and the close, which reads every run's result of the full plan.
 */
public final class CampaignActivitiesImpl implements CampaignActivities {
  /** Parallel reads of result records when a campaign closes. */
  static final int READERS = 8;

  /** MLflow lookups of unfinished runs' statuses per close; beyond that they are "not finished". */
  static final int STATUS_LOOKUPS = 500;

  private final Backends backends;
  private final Map<String, CampaignPlan> plans =
      new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, CampaignPlan> eldest) {
          return size() > 4;
        }
      };

  public CampaignActivitiesImpl(Backends backends) {
    this.backends = backends;
  }

  /** Reads and verifies a plan blob (its SHA-256 against the ref); used by the CLI as well. */
  public static CampaignPlan readPlan(ObjectStore store, BlobRef ref) {
    byte[] data = store.get(ref);
    return TrackingActivitiesImpl.read(data, CampaignPlan.class);
  }

  private synchronized CampaignPlan plan(BlobRef ref) {
    CampaignPlan p = plans.get(ref.sha256());
    if (p == null) {
      p = readPlan(backends.store(), ref);
      plans.put(ref.sha256(), p);
    }
    return p;
  }

  @Override
  public List<PlannedRun> planSlice(BlobRef ref, int from, int count) {
    List<PlannedRun> runs = plan(ref).runs();
    if (from < 0 || count < 0 || from > runs.size())
      throw Failures.invalidInput("plan " + ref.key() + " has " + runs.size() + " runs; slice " + from + "+" + count
          + " is outside it", null);
    return new ArrayList<>(runs.subList(from, Math.min(runs.size(), from + count)));
  }

  @Override
  public CampaignResult closeCampaign(CampaignClose close) {
    CampaignPlan plan = plan(close.fullPlan());
    List<RunResult> rows = results(plan, close.failures());
    java.util.Set<String> reused = new java.util.HashSet<>(close.reusedKeys());
    if (!reused.isEmpty()) rows = rows.stream().map(r -> reused.contains(r.runKey()) && !r.reused() ? r.asReused() : r).toList();
    BlobRef resultsRef = backends.store().put(CampaignPlan.resultsKey(close.campaignKey()), TrackingActivitiesImpl.write(rows));
    TrackingActivitiesImpl tracking = new TrackingActivitiesImpl(backends);
    CampaignCost.logCampaignCost(backends.tracker(), close.parentRunId(), rows);
    CampaignPlots.log(backends.tracker(), backends.store(), close.parentRunId(), rows); // never fails the close
    tracking.closeCampaign(close, rows); // last: it sets the terminal status
    List<RunResult> inline = rows.size() <= CampaignResult.INLINE_RUNS ? rows : List.of();
    return new CampaignResult(close.campaignKey(), close.parentRunId(), close.status(), inline, close.counts(), close.reason(),
        resultsRef);
  }

  /**
   * Every planned run's row in grid order: the committed result of a finished one; for the others
   * a row with the status their MLflow run ended in (FAILED, KILLED) and the failure message when
   * the campaign saw it, or NOT_STARTED.
   */
  List<RunResult> results(CampaignPlan plan, List<RunFailure> failures) {
    Map<String, RunFailure> byKey = new HashMap<>();
    for (RunFailure f : failures) byKey.put(f.runKey(), f);
    ForkJoinPool pool = new ForkJoinPool(READERS);
    try {
      List<RunResult> found = pool.submit(() -> plan.runs().parallelStream()
          .map(r -> new TrackingActivitiesImpl(backends).lookupFinished(r.runKey()))
          .toList()).get();
      List<RunResult> rows = new ArrayList<>(found.size());
      int lookups = 0;
      for (int i = 0; i < found.size(); i++) {
        PlannedRun p = plan.runs().get(i);
        RunResult r = found.get(i);
        if (r != null) {
          rows.add(r);
          continue;
        }
        RunFailure f = byKey.get(p.runKey());
        String status = f != null ? f.status() : lookups++ < STATUS_LOOKUPS ? mlflowStatus(p.runKey()) : "NOT_FINISHED";
        rows.add(new RunResult(p.runKey(), p.config(), null, status, null, false, f == null ? null : f.message()));
      }
      return rows;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading results", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
    } finally {
      pool.shutdown();
    }
  }

  /** FAILED or KILLED as MLflow has it, NOT_STARTED when the run never reached MLflow. */
  private String mlflowStatus(String runKey) {
    var location = Integrity.record(backends.store(), TrackingActivitiesImpl.locationKey(runKey),
        TrackingActivitiesImpl.RunLocation.class);
    if (location.isEmpty()) return "NOT_STARTED";
    String s = backends.tracker().getRun(location.get().runId()).status();
    return Stages.FINISHED.equals(s) ? Stages.FAILED : s; // FINISHED in MLflow without a result record: not done
  }
}
