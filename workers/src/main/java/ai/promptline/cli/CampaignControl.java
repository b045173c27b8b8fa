package ai.promptline.cli;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workers.CampaignSubmitter;
import ai.promptline.workers.Connections;
import ai.promptline.workers.ServiceChecks;
import ai.promptline.workers.Settings;
import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.workflows.CampaignWorkflow.ActiveRun;
import ai.promptline.workflows.CampaignWorkflow.Progress;
import ai.promptline.workflows.RunWorkflow;
import ai.promptline.workflows.api.SearchAttrs;
import ai.promptline.workflows.model.CampaignRequest.RunFailure;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages;
import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowStub;
import io.temporal.common.converter.DefaultDataConverter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The campaign controls of the CLI: watch, pause, resume, cancel, recover, list, and the status
 * display they share. Everything goes through Temporal (signals, queries, cancel, describe), so
 * it works from any machine that reaches the server, and killing this process never affects a
 * campaign.
 */
final class CampaignControl {
  private CampaignControl() {}

  /** A campaign named on the command line: its workflow id, and its name when a file named it. */
  record Target(String id, String name) {
    String label() {
      return name == null ? id : name + " (" + id + ")";
    }
  }

  /** {@code campaign-<key>} or a campaign file; one clear error for anything else. */
  static Target resolve(String arg) {
    Path file = Path.of(arg);
    if (arg.startsWith("campaign-") && !Files.exists(file)) {
      CampaignSubmitter.campaignKeyOf(arg); // the form, with its own message
      return new Target(arg, null);
    }
    if (!Files.exists(file) && (arg.endsWith(".yaml") || arg.endsWith(".yml") || arg.contains("/")))
      throw new IllegalArgumentException("campaign file " + arg + " does not exist; give an existing campaign file or the campaign id"
          + " (campaign-<key>, as campaign submit prints it)");
    if (!Files.exists(file))
      throw new IllegalArgumentException("'" + arg + "' is neither a campaign id (campaign-<64 hex digits>, as campaign submit prints"
          + " it; campaign list shows them) nor a campaign file");
    CampaignSpec spec = CampaignCommand.load(file);
    return new Target(CampaignSubmitter.workflowId(spec), spec.name());
  }

  static DescribeWorkflowExecutionResponse describe(Connections conn, String workflowId) {
    return conn.service().blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
        .setNamespace(conn.settings().namespace())
        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId)).build());
  }

  /** The campaign's newest execution; a clear error when Temporal has none. */
  static WorkflowExecutionInfo info(Connections conn, Target t) {
    try {
      return describe(conn, t.id()).getWorkflowExecutionInfo();
    } catch (io.grpc.StatusRuntimeException e) {
      if (e.getStatus().getCode() != io.grpc.Status.Code.NOT_FOUND) throw e;
      throw new IllegalArgumentException("no campaign " + (t.name() == null ? "" : "'" + t.name() + "' ") + "(workflow " + t.id()
          + ") in namespace " + conn.settings().namespace() + " at " + conn.settings().temporalTarget() + "; submit it with"
          + " ./promptline campaign run FILE (or campaign submit FILE); campaign list shows the campaigns there", e);
    }
  }

  static boolean running(WorkflowExecutionInfo info) {
    return info.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  }

  static String statusName(WorkflowExecutionInfo info) {
    return info.getStatus().name().replace("WORKFLOW_EXECUTION_STATUS_", "").toLowerCase(Locale.ROOT);
  }

  /** The campaign must be running for {@code action}; else one line saying how it ended. */
  static WorkflowExecutionInfo requireRunning(Connections conn, Target t, String action) {
    WorkflowExecutionInfo info = info(conn, t);
    if (!running(info))
      throw new IllegalArgumentException("campaign " + t.label() + " is not running (it " + ended(info) + "): nothing to " + action
          + (action.equals("cancel") ? "" : "; campaign recover " + t.id() + " re-runs its failed or killed runs"));
    return info;
  }

  private static String ended(WorkflowExecutionInfo info) {
    return switch (info.getStatus()) {
      case WORKFLOW_EXECUTION_STATUS_COMPLETED -> "completed";
      case WORKFLOW_EXECUTION_STATUS_CANCELED -> "was cancelled";
      case WORKFLOW_EXECUTION_STATUS_TERMINATED -> "was terminated";
      case WORKFLOW_EXECUTION_STATUS_FAILED -> "failed";
      case WORKFLOW_EXECUTION_STATUS_TIMED_OUT -> "timed out";
      default -> "is " + statusName(info);
    };
  }

  static Progress progress(Connections conn, String id) {
    return conn.client().newUntypedWorkflowStub(id).query("progress", Progress.class);
  }

  /** Status of a campaign that ended: from its result, or for a cancelled one from the store's record. */
  static String closedStatus(io.temporal.client.WorkflowFailedException e) {
    return e.getCause() instanceof io.temporal.failure.CanceledFailure ? "cancelled (its runs in flight were KILLED)"
        : "failed: " + Errors.describe(e);
  }

  /** Prints the status block; exit code 0 when running or finished, 1 when it ended otherwise. */
  static int printStatus(Connections conn, Target t, PrintStream out) {
    WorkflowExecutionInfo info = info(conn, t);
    if (running(info)) {
      Progress p = progress(conn, t.id());
      out.print(progressBlock(conn, t, p, System.currentTimeMillis()));
      return 0;
    }
    out.println(closedLine(conn, t, info));
    return info.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED && completedFinished(conn, t) ? 0 : 1;
  }

  private static boolean completedFinished(Connections conn, Target t) {
    try {
      return Stages.FINISHED.equals(conn.client().newUntypedWorkflowStub(t.id()).getResult(5, java.util.concurrent.TimeUnit.SECONDS,
          CampaignResult.class).status());
    } catch (Exception e) {
      return false;
    }
  }

  /** How a campaign that is not running ended, with its counts when it completed. */
  static String closedLine(Connections conn, Target t, WorkflowExecutionInfo info) {
    if (info.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      try {
        CampaignResult r = conn.client().newUntypedWorkflowStub(t.id()).getResult(5, java.util.concurrent.TimeUnit.SECONDS,
            CampaignResult.class);
        return CampaignCommand.resultLine(t.label(), r);
      } catch (Exception e) {
        return "campaign " + t.label() + ": completed";
      }
    }
    String line = "campaign " + t.label() + ": " + statusName(info);
    if (info.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED)
      line += " (runs in flight ended KILLED; campaign recover " + t.id() + " runs the unfinished ones)";
    return line;
  }

  static final int BAR = 30;

  /** The progress bar, the counts, the ETA, one line per running run (phase, epoch, loss) and the newest failures. */
  static String progressBlock(Connections conn, Target t, Progress p, long now) {
    StringBuilder sb = new StringBuilder();
    sb.append("campaign ").append(t.label()).append(" — ").append(p.state());
    if (p.executions() > 1) sb.append(" (execution ").append(p.executions()).append(" after continue-as-new)");
    sb.append(System.lineSeparator());
    sb.append(bar(p)).append(' ').append(counts(p)).append(eta(p, now)).append(System.lineSeparator());
    if (p.reason() != null) sb.append("  stopping: ").append(p.reason()).append(System.lineSeparator());
    for (ActiveRun a : p.active()) sb.append("  ").append(runLine(conn, a)).append(System.lineSeparator());
    for (RunFailure f : p.recentFailures())
      sb.append("  ").append(f.status()).append(' ').append(f.name()).append(": ").append(f.message()).append(System.lineSeparator());
    return sb.toString();
  }

  static String bar(Progress p) {
    int total = Math.max(1, p.total());
    int done = (int) Math.round((double) BAR * p.done() / total);
    int run = Math.min(BAR - done, (int) Math.ceil((double) BAR * p.running() / total));
    return "[" + "#".repeat(done) + ">".repeat(run) + ".".repeat(Math.max(0, BAR - done - run)) + "]";
  }

  static String counts(Progress p) {
    return String.format(Locale.ROOT, "%d/%d done: %d finished, %d reused, %d failed, %d killed · %d running · %d pending%s",
        p.done(), p.total(), p.finished(), p.reused(), p.failed(), p.killed(), p.running(), p.pending(), p.paused() ? " · PAUSED" : "");
  }

  /** Remaining runs × the mean wall time per computed run so far (reused runs cost nothing). */
  static String eta(Progress p, long now) {
    int computed = p.finished() + p.failed() + p.killed();
    int left = p.pending() + p.running();
    if (left == 0) return "";
    if (p.paused()) return " · ETA: paused";
    if (computed == 0 || p.startedAt() <= 0) return " · ETA: after the first run";
    double perRun = (double) (now - p.startedAt()) / computed;
    return " · ETA " + duration(Duration.ofMillis((long) (perRun * left)));
  }

  static String duration(Duration d) {
    long s = d.toSeconds();
    if (s < 90) return s + " s";
    if (s < 5400) return Math.round(s / 60.0) + " min";
    return String.format(Locale.ROOT, "%.1f h", s / 3600.0);
  }

  /** A running run: its phase, the activity it is in and, while training, epoch and loss from the heartbeat. */
  static String runLine(Connections conn, ActiveRun a) {
    String line = a.name();
    try {
      DescribeWorkflowExecutionResponse d = describe(conn, RunWorkflow.workflowId(a.runKey()));
      String phase = phaseOf(d);
      if (phase != null) line += " · " + phase;
      for (PendingActivityInfo act : d.getPendingActivitiesList()) {
        line += " · " + act.getActivityType().getName();
        if (act.getAttempt() > 1) line += " (attempt " + act.getAttempt() + ")";
        if (act.hasHeartbeatDetails()) line += heartbeatText(act.getHeartbeatDetails());
      }
    } catch (RuntimeException e) {
      line += " · starting";
    }
    return line;
  }

  private static String phaseOf(DescribeWorkflowExecutionResponse d) {
    var fields = d.getWorkflowExecutionInfo().getSearchAttributes().getIndexedFieldsMap();
    var payload = fields.get(SearchAttrs.PHASE.getName());
    if (payload == null) return null;
    try {
      return DefaultDataConverter.STANDARD_INSTANCE.fromPayload(payload, String.class, String.class);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** " · 3/10 epochs · loss 1.2345" from a training heartbeat (ComputeActivitiesImpl.TrainProgress). */
  static String heartbeatText(io.temporal.api.common.v1.Payloads details) {
    try {
      JsonNode n = DefaultDataConverter.STANDARD_INSTANCE.fromPayloads(0, Optional.of(details), JsonNode.class, JsonNode.class);
      if (n == null || !n.has("epochsDone")) return "";
      String s = " · " + n.get("epochsDone").asInt();
      s += n.hasNonNull("epochs") ? "/" + n.get("epochs").asInt() + " epochs" : " epochs";
      if (n.hasNonNull("loss")) s += String.format(Locale.ROOT, " · loss %.4f", n.get("loss").asDouble());
      return s;
    } catch (RuntimeException e) {
      return "";
    }
  }

  static Connections connect() {
    return new Connections(Settings.fromEnv(), new SimpleMeterRegistry());
  }

  /** Waits until {@code condition} holds on the campaign's progress (a signal is applied at the next workflow task). */
  static Progress awaitProgress(Connections conn, String id, java.util.function.Predicate<Progress> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Progress p = null;
    while (System.nanoTime() < deadline) {
      try {
        p = progress(conn, id);
        if (condition.test(p)) return p;
      } catch (RuntimeException notYet) {
        // the workflow task is being processed; ask again
      }
      sleep(200);
    }
    return p;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Command(name = "watch", mixinStandardHelpOptions = true,
      description = {"Follow a campaign live until it ends: progress bar, counts, ETA, and each running run's phase, epoch and loss.",
          "Ctrl-C stops watching, never the campaign. Exit 0 when the campaign FINISHED, 1 otherwise."})
  static final class Watch implements Callable<Integer> {
    @Parameters(paramLabel = "ID|FILE", description = "The campaign's id (campaign-<key>) or its YAML file.")
    String campaign;

    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "5", description = "Refresh every SECONDS (default 5).")
    int interval;

    @Override
    public Integer call() {
      if (interval < 1) throw new IllegalArgumentException("--interval must be >= 1 second, got " + interval);
      boolean tty = System.console() != null;
      Target t = resolve(campaign); // the argument first: bad input never waits for a service
      try (Connections conn = connect()) {
        info(conn, t); // unknown campaign: one clear line
        int lines = 0;
        while (true) {
          WorkflowExecutionInfo info = info(conn, t);
          if (!running(info)) {
            System.out.println(closedLine(conn, t, info));
            return printStatusCode(conn, t, info);
          }
          String block;
          try {
            block = progressBlock(conn, t, progress(conn, t.id()), System.currentTimeMillis());
          } catch (RuntimeException queryFailed) {
            block = "campaign " + t.label() + " — waiting for a worker to answer (is one running? ./promptline worker)"
                + System.lineSeparator();
          }
          if (tty && lines > 0) System.out.print("\033[" + lines + "F\033[J"); // redraw in place
          System.out.print(block);
          System.out.flush();
          lines = (int) block.lines().count();
          sleep(interval * 1000L);
        }
      }
    }

    private static int printStatusCode(Connections conn, Target t, WorkflowExecutionInfo info) {
      return info.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED && completedFinished(conn, t) ? 0 : 1;
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true,
      description = {"Pause a running campaign: no new run starts; the running runs finish. The pause survives restarts of",
          "Temporal and of every worker, and continue-as-new. campaign resume ID lets it go on."})
  static final class Pause implements Callable<Integer> {
    @Parameters(paramLabel = "ID|FILE", description = "The campaign's id (campaign-<key>) or its YAML file.")
    String campaign;

    @Override
    public Integer call() {
      Target t = resolve(campaign); // the argument first: bad input never waits for a service
      try (Connections conn = connect()) {
        requireRunning(conn, t, "pause");
        WorkflowStub stub = conn.client().newUntypedWorkflowStub(t.id());
        stub.signal("pause");
        Progress p = awaitProgress(conn, t.id(), Progress::paused, Duration.ofSeconds(30));
        if (p == null || !p.paused()) {
          System.out.println("pause sent to " + t.label() + "; no worker has applied it yet (it will when one polls)");
          return 0;
        }
        System.out.println("paused " + t.label() + ": no new run starts; " + p.running() + " running run(s) will finish; "
            + p.pending() + " pending. Resume with ./promptline campaign resume " + t.id());
        return 0;
      }
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused campaign: runs start again.")
  static final class Resume implements Callable<Integer> {
    @Parameters(paramLabel = "ID|FILE", description = "The campaign's id (campaign-<key>) or its YAML file.")
    String campaign;

    @Override
    public Integer call() {
      Target t = resolve(campaign); // the argument first: bad input never waits for a service
      try (Connections conn = connect()) {
        requireRunning(conn, t, "resume");
        Progress before = awaitProgress(conn, t.id(), p -> true, Duration.ofSeconds(10));
        if (before != null && !before.paused()) {
          System.out.println("campaign " + t.label() + " is not paused (" + before.state() + "): nothing to resume");
          return 0;
        }
        conn.client().newUntypedWorkflowStub(t.id()).signal("resume");
        Progress p = awaitProgress(conn, t.id(), x -> !x.paused(), Duration.ofSeconds(30));
        System.out.println("resumed " + t.label() + (p == null ? "" : ": " + CampaignCommand.statusLine(p)));
        return 0;
      }
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true,
      description = {"Cancel a running campaign: no new run starts, running runs end KILLED in MLflow, the parent run too;",
          "nothing is left RUNNING. campaign recover ID later runs what did not finish."})
  static final class Cancel implements Callable<Integer> {
    @Parameters(paramLabel = "ID|FILE", description = "The campaign's id (campaign-<key>) or its YAML file.")
    String campaign;

    @Option(names = "--no-wait", description = "Return once the cancel is requested, without waiting for the runs to be closed.")
    boolean noWait;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
        description = "How long to wait for the campaign to close (default 300).")
    int timeout;

    @Override
    public Integer call() {
      Target t = resolve(campaign); // the argument first: bad input never waits for a service
      try (Connections conn = connect()) {
        requireRunning(conn, t, "cancel");
        WorkflowStub stub = conn.client().newUntypedWorkflowStub(t.id());
        stub.cancel();
        System.out.println("cancel requested for " + t.label());
        if (noWait) return 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(timeout).toNanos();
        while (System.nanoTime() < deadline) {
          WorkflowExecutionInfo info = info(conn, t);
          if (!running(info)) {
            System.out.println(closedLine(conn, t, info));
            return 0;
          }
          sleep(500);
        }
        System.out.println("campaign " + t.label() + " is still closing after " + timeout + " s (its runs are being cancelled);"
            + " campaign status " + t.id() + " shows when it is done");
        return 1;
      }
    }
  }

  @Command(name = "recover", mixinStandardHelpOptions = true,
      description = {"Re-run only the failed, killed or never-started runs of a campaign that ended (its finished runs are kept),",
          "under the same campaign id; the summary then covers the whole grid. --dry-run prints what would run."})
  static final class Recover implements Callable<Integer> {
    @Parameters(paramLabel = "ID|FILE", description = "The campaign's id (campaign-<key>) or its YAML file.")
    String campaign;

    @Option(names = "--dry-run", description = "Print the runs that would run again; submit nothing.")
    boolean dryRun;

    @Option(names = "--detach", description = "Return after submitting.")
    boolean detach;

    @Option(names = "--all", description = "List every run.")
    boolean all;

    @Override
    public Integer call() {
      Settings settings = Settings.fromEnv();
      Target t = resolve(campaign); // the argument first: bad input never waits for a service
      try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
        WorkflowExecutionInfo info = info(conn, t);
        if (running(info))
          throw new IllegalArgumentException("campaign " + t.label() + " is still running: recover re-runs the failed runs of a campaign"
              + " that ended; wait for it (campaign watch " + t.id() + ") or cancel it first");
        ServiceChecks.minio(settings, false);
        ObjectStore store = settings.store();
        CampaignSubmitter.Prepared p = CampaignSubmitter.recover(store, t.id());
        if (dryRun) {
          System.out.print(CampaignCommand.planText(p, store, all));
          System.out.println("dry run: nothing was submitted");
          return 0;
        }
        ServiceChecks.mlflow(settings);
        return CampaignCommand.submitPrepared(conn, store, p, !detach);
      }
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "The newest campaigns on the Temporal server: id, status, start time.")
  static final class ListCampaigns implements Callable<Integer> {
    @Option(names = "--limit", defaultValue = "20", description = "How many (default 20).")
    int limit;

    @Override
    public Integer call() {
      if (limit < 1) throw new IllegalArgumentException("--limit must be >= 1, got " + limit);
      try (Connections conn = connect()) {
        var resp = conn.service().blockingStub().listWorkflowExecutions(
            io.temporal.api.workflowservice.v1.ListWorkflowExecutionsRequest.newBuilder().setNamespace(conn.settings().namespace())
                .setQuery("WorkflowType = 'Campaign' OR WorkflowType = 'CampaignWorkflow'").setPageSize(limit).build());
        if (resp.getExecutionsCount() == 0) System.out.println("no campaigns in namespace " + conn.settings().namespace());
        for (WorkflowExecutionInfo i : resp.getExecutionsList())
          System.out.printf("%-73s %-10s %s%n", i.getExecution().getWorkflowId(), statusName(i),
              java.time.Instant.ofEpochSecond(i.getStartTime().getSeconds()));
        return 0;
      }
    }
  }
}
