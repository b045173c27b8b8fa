package ai.promptline.cli;

import ai.promptline.workers.CampaignSubmitter;
import ai.promptline.workers.Connections;
import ai.promptline.workers.ServiceChecks;
import ai.promptline.workers.Settings;
import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.workflows.api.TaskQueues;
import ai.promptline.workflows.model.CampaignRequest;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionExecution;
import io.temporal.client.schedules.ScheduleActionExecutionStartWorkflow;
import io.temporal.client.schedules.ScheduleActionResult;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleAlreadyRunningException;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleClientOptions;
import io.temporal.client.schedules.ScheduleDescription;
import io.temporal.client.schedules.ScheduleHandle;
import io.temporal.client.schedules.ScheduleOptions;
import io.temporal.client.schedules.SchedulePolicy;
import io.temporal.client.schedules.ScheduleSpec;
import io.temporal.client.schedules.ScheduleState;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Campaigns on a cron schedule, through Temporal Schedules: {@code campaign schedule FILE --cron}
 * ({@link Create}) and {@code schedule list|pause|resume|delete}. Each action starts the campaign
 * workflow {@code campaign-<key>-<time>} (Temporal appends the scheduled time) with the plan
 * written when the schedule was created; an action whose previous campaign is still running is
 * skipped. Finished runs are reused by run key, so a scheduled run with nothing changed computes
 * nothing, and {@code schedule list} says so.
 */
@Command(name = "schedule", mixinStandardHelpOptions = true,
    description = {"List, pause, resume and delete campaign schedules (Temporal Schedules).",
        "Create one with: ./promptline campaign schedule FILE --cron \"0 2 * * *\""},
    subcommands = {ScheduleCommand.ListSchedules.class, ScheduleCommand.Pause.class, ScheduleCommand.Resume.class,
        ScheduleCommand.Delete.class})
public final class ScheduleCommand implements Runnable {
  /** Memo keys on a schedule: where its campaign came from (the Temporal UI shows them too). */
  static final String MEMO_CAMPAIGN = "promptline.campaign";
  static final String MEMO_FILE = "promptline.file";
  static final String MEMO_CRON = "promptline.cron";
  static final String MEMO_ZONE = "promptline.timeZone";
  static final String MEMO_RUNS = "promptline.runs";
  static final String MEMO_CAMPAIGN_ID = "promptline.campaignId";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The default schedule id of campaign {@code name}. */
  static String defaultId(String campaignName) {
    return "nightly-" + campaignName;
  }

  /** {@code id} when it is a usable schedule id, else a clear error. */
  static String checkId(String id, String option) {
    if (id == null || !id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,199}"))
      throw new IllegalArgumentException(option + " '" + (id == null ? "" : id) + "' is not a schedule id: use letters, digits, '.', '_'"
          + " and '-' (at most 200, starting with a letter or digit), e.g. nightly-b2n");
    return id;
  }

  static ZoneId zone(String name) {
    try {
      return ZoneId.of(name);
    } catch (java.time.DateTimeException e) {
      throw new IllegalArgumentException("--time-zone '" + name + "' is not a time zone: give an IANA name such as UTC, Europe/Berlin or"
          + " America/New_York");
    }
  }

  static ScheduleClient scheduleClient(Connections conn) {
    return ScheduleClient.newInstance(conn.service(),
        ScheduleClientOptions.newBuilder().setNamespace(conn.settings().namespace()).build());
  }

  /** Whether {@code e} (or a cause) is the server's NOT_FOUND. */
  static boolean notFound(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause())
      if (t instanceof io.grpc.StatusRuntimeException s && s.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) return true;
    return false;
  }

  /**
   * {@code call}, with the SDK's bare "Schedule exception" turned into what the server said: a
   * server that cannot be reached is left to {@link Errors} (it names the fix), a refusal names
   * what was refused and why.
   */
  static <T> T temporal(String what, java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (IllegalArgumentException | ScheduleAlreadyRunningException e) {
      throw e;
    } catch (RuntimeException e) {
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause())
        if (t instanceof io.grpc.StatusRuntimeException st) {
          io.grpc.Status.Code code = st.getStatus().getCode();
          if (code == io.grpc.Status.Code.UNAVAILABLE || code == io.grpc.Status.Code.DEADLINE_EXCEEDED
              || code == io.grpc.Status.Code.NOT_FOUND) throw st;
          throw new IllegalStateException("Temporal refused to " + what + ": " + code + " " + st.getStatus().getDescription(), e);
        }
      StringBuilder why = new StringBuilder();
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause())
        if (t.getMessage() != null && !t.getMessage().isBlank()) why.append(why.length() == 0 ? "" : ": ").append(t.getMessage());
      throw new IllegalStateException("could not " + what + ": " + why.toString().replace('\n', ' '), e);
    }
  }

  static void temporal(String what, Runnable call) {
    temporal(what, () -> {
      call.run();
      return null;
    });
  }

  /** The description of schedule {@code id}, or empty when there is none. */
  static Optional<ScheduleDescription> find(ScheduleClient schedules, String id) {
    try {
      return Optional.of(temporal("describe schedule " + id, () -> schedules.getHandle(id).describe()));
    } catch (RuntimeException e) {
      if (notFound(e)) return Optional.empty();
      throw e;
    }
  }

  /** The description of schedule {@code id}; one clear line when there is none. */
  static ScheduleDescription existing(ScheduleClient schedules, Settings s, String id) {
    return find(schedules, id).orElseThrow(() -> new IllegalArgumentException("no schedule '" + id + "' in namespace " + s.namespace()
        + " at " + s.temporalTarget() + "; ./promptline schedule list shows the schedules"));
  }

  // ------------------------------------------------------------------------------------ create

  @Command(name = "schedule", mixinStandardHelpOptions = true,
      description = {"Run a campaign on a cron schedule (a Temporal Schedule), e.g. a nightly regression campaign.",
          "The plan is written now; each scheduled time starts campaign workflow campaign-<key>-<time>. A time at which the",
          "previous campaign is still running is skipped (overlap policy SKIP). Finished runs are reused by run key, so a",
          "scheduled run with nothing changed computes nothing (schedule list says so). Edit the file? Delete and re-create.",
          "An invalid cron expression is refused before anything is written or created."})
  public static final class Create implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Campaign YAML file.")
    Path file;

    @Option(names = "--cron", required = true, paramLabel = "EXPR",
        description = "5-field cron expression: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\" (02:00 every day),"
            + " \"30 1 * * MON-FRI\"; or @daily, @weekly, ...")
    String cron;

    @Option(names = "--name", paramLabel = "ID", description = "Schedule id (default: nightly-<campaign name>).")
    String name;

    @Option(names = "--time-zone", paramLabel = "ZONE", defaultValue = "UTC",
        description = "Time zone the cron expression is read in (IANA name; default: ${DEFAULT-VALUE}).")
    String timeZone;

    @CommandLine.Mixin CampaignCommand.GridLimit limit = new CampaignCommand.GridLimit();

    @CommandLine.Spec CommandLine.Model.CommandSpec cmd;

    @Override
    public Integer call() {
      // everything that can be checked locally, before any service is contacted
      String expr = Cron.validate(cron);
      ZoneId tz = zone(timeZone);
      if (name != null) checkId(name, "--name");
      CampaignSpec campaign = CampaignCommand.load(file, limit.limits());
      String id = name != null ? name : checkId(defaultId(campaign.name()), "the schedule id");
      Settings settings = Settings.fromEnv();
      try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
        ScheduleClient schedules = scheduleClient(conn);
        if (find(schedules, id).isPresent()) throw exists(id, settings);
        ServiceChecks.minio(settings, false);
        CampaignSubmitter.Prepared p = CampaignSubmitter.prepare(campaign);
        CampaignRequest request = CampaignSubmitter.writePlans(conn.client(), settings.store(), p);
        ScheduleHandle handle;
        try {
          handle = temporal("create schedule " + id, () -> schedules.createSchedule(id, schedule(p, request, expr, tz, id, file),
              ScheduleOptions.newBuilder().setMemo(memo(p, expr, tz, file)).build()));
        } catch (ScheduleAlreadyRunningException e) {
          throw exists(id, settings);
        }
        ScheduleDescription d = handle.describe();
        PrintWriter out = cmd.commandLine().getOut();
        out.printf("created schedule %s: campaign %s (%d runs) at \"%s\" (%s), overlap policy skip%n", id, campaign.name(),
            p.full().runs().size(), expr, tz.getId());
        out.printf("  each run starts %s-<time>; next: %s%n", p.workflowId(), next(d.getInfo().getNextActionTimes()));
        out.printf("  finished runs are reused by run key: a run with nothing changed computes nothing%n");
        out.printf("  ./promptline schedule list | pause %s | delete %s%n", id, id);
        out.flush();
        return 0;
      }
    }

    private static IllegalArgumentException exists(String id, Settings s) {
      return new IllegalArgumentException("schedule '" + id + "' already exists in namespace " + s.namespace() + "; delete it first"
          + " (./promptline schedule delete " + id + ") or give another id with --name");
    }
  }

  /** The schedule: cron in {@code tz}, overlap SKIP, an action that starts the campaign workflow with {@code request}. */
  static Schedule schedule(CampaignSubmitter.Prepared p, CampaignRequest request, String cron, ZoneId tz, String id, Path file) {
    WorkflowOptions.Builder options = WorkflowOptions.newBuilder()
        .setWorkflowId(p.workflowId())
        .setTaskQueue(TaskQueues.CPU)
        .setStaticSummary(CampaignSubmitter.summary(p) + " · schedule " + id)
        // both: the SDK (1.38) cannot describe a schedule whose action has a summary but no details
        .setStaticDetails("Started by schedule " + id + " from campaign file " + file.toAbsolutePath().normalize()
            + ". Finished runs are reused by run key.");
    if (request.indexed()) options.setTypedSearchAttributes(CampaignSubmitter.campaignSearchAttributes(p));
    return Schedule.newBuilder()
        .setAction(ScheduleActionStartWorkflow.newBuilder().setWorkflowType(CampaignWorkflow.class).setOptions(options.build())
            .setArguments(request).build())
        .setSpec(ScheduleSpec.newBuilder().setCronExpressions(List.of(cron)).setTimeZoneName(tz.getId()).build())
        .setPolicy(SchedulePolicy.newBuilder().setOverlap(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_SKIP).build())
        .setState(ScheduleState.newBuilder().setNote("campaign " + p.spec().name() + " (" + p.full().runs().size() + " runs) from "
            + file.toAbsolutePath().normalize()).build())
        .build();
  }

  static Map<String, Object> memo(CampaignSubmitter.Prepared p, String cron, ZoneId tz, Path file) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(MEMO_CAMPAIGN, p.spec().name());
    m.put(MEMO_CAMPAIGN_ID, p.workflowId());
    m.put(MEMO_RUNS, p.full().runs().size());
    m.put(MEMO_CRON, cron);
    m.put(MEMO_ZONE, tz.getId());
    m.put(MEMO_FILE, file.toAbsolutePath().normalize().toString());
    return m;
  }

  // ------------------------------------------------------------------------------------ list

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = {"Every schedule: cron, paused or active, next run, and the last campaign it started with its outcome",
          "(e.g. \"12 runs: 12 reused, 0 computed\": nothing changed, nothing was recomputed)."})
  static final class ListSchedules implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec cmd;

    @Override
    public Integer call() {
      Settings settings = Settings.fromEnv();
      try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
        ScheduleClient schedules = scheduleClient(conn);
        List<String> ids = temporal("list schedules",
            () -> schedules.listSchedules(null).map(d -> d.getScheduleId()).sorted().distinct().toList());
        List<ScheduleDescription> found = new ArrayList<>();
        for (String id : ids) find(schedules, id).ifPresent(found::add); // one deleted just now is still listed for a moment
        PrintWriter out = cmd.commandLine().getOut();
        if (found.isEmpty()) {
          out.printf("no schedules in namespace %s at %s; create one: ./promptline campaign schedule FILE --cron \"0 2 * * *\"%n",
              settings.namespace(), settings.temporalTarget());
        } else {
          for (ScheduleDescription d : found) out.print(describe(d, lastOutcome(conn.client(), settings, d)));
        }
        out.flush();
        return 0;
      }
    }
  }

  /**
   * What {@code schedule list} prints for one schedule: its id, cron, paused or active and next
   * run; the campaign and file; the last campaign it started and {@code last} (its outcome).
   */
  static String describe(ScheduleDescription d, String last) {
    StringBuilder b = new StringBuilder();
    ScheduleState st = d.getSchedule().getState();
    String cron = memoString(d, MEMO_CRON);
    if (cron == null) cron = String.join(" | ", d.getSchedule().getSpec().getCronExpressions());
    String zone = memoString(d, MEMO_ZONE);
    if (zone == null) zone = d.getSchedule().getSpec().getTimeZoneName();
    b.append(String.format("%s  cron %s %s  %s  next %s%n", d.getId(), cron == null || cron.isEmpty() ? "(calendar)" : "\"" + cron + "\"",
        zone == null || zone.isEmpty() ? "UTC" : zone, st.isPaused() ? "PAUSED" : "active",
        st.isPaused() ? "- (paused)" : next(d.getInfo().getNextActionTimes())));
    String campaign = memoString(d, MEMO_CAMPAIGN);
    String from = campaign == null ? null : String.format("campaign %s (%s runs) from %s", campaign, memoString(d, MEMO_RUNS),
        memoString(d, MEMO_FILE));
    // the note: why it was paused or resumed (the one set at creation says what the campaign line says)
    if (st.getNote() != null && !st.getNote().isEmpty() && !st.getNote().equals(from)) b.append(String.format("  note: %s%n", st.getNote()));
    if (from != null) b.append("  ").append(from).append(System.lineSeparator());
    long skipped = d.getInfo().getNumActionsSkippedOverlap();
    b.append(String.format("  started %d campaign(s)%s%n", d.getInfo().getNumActions(),
        skipped > 0 ? ", skipped " + skipped + " (the previous one was still running)" : ""));
    b.append(String.format("  last: %s%n", last));
    return b.toString();
  }

  private static String memoString(ScheduleDescription d, String key) {
    try {
      Object v = d.getMemo(key, Object.class);
      return v == null ? null : v.toString();
    } catch (RuntimeException e) {
      return null;
    }
  }

  static String next(List<Instant> times) {
    return times == null || times.isEmpty() ? "-" : TIME.format(times.get(0));
  }

  static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** The workflow id of the newest campaign {@code d} started, or null. */
  static String lastWorkflowId(ScheduleDescription d) {
    List<ScheduleActionResult> recent = new ArrayList<>(d.getInfo().getRecentActions());
    recent.sort(Comparator.comparing(ScheduleActionResult::getStartedAt, Comparator.nullsFirst(Comparator.naturalOrder())));
    List<ScheduleActionExecution> running = d.getInfo().getRunningActions();
    for (int i = recent.size() - 1; i >= 0; i--)
      if (recent.get(i).getAction() instanceof ScheduleActionExecutionStartWorkflow w) return w.getWorkflowId();
    for (ScheduleActionExecution a : running)
      if (a instanceof ScheduleActionExecutionStartWorkflow w) return w.getWorkflowId();
    return null;
  }

  /** The last campaign of {@code d} and how it is doing or how it ended. */
  static String lastOutcome(WorkflowClient client, Settings s, ScheduleDescription d) {
    String id = lastWorkflowId(d);
    if (id == null) return "none yet";
    io.temporal.api.workflow.v1.WorkflowExecutionInfo info;
    try {
      info = client.getWorkflowServiceStubs().blockingStub().withDeadlineAfter(10, TimeUnit.SECONDS).describeWorkflowExecution(
          io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest.newBuilder().setNamespace(s.namespace())
              .setExecution(io.temporal.api.common.v1.WorkflowExecution.newBuilder().setWorkflowId(id)).build())
          .getWorkflowExecutionInfo();
    } catch (RuntimeException e) {
      if (notFound(e)) return id + " (no longer in Temporal: past the namespace's retention)";
      return id + " (cannot describe it: " + Errors.describe(e) + ")";
    }
    WorkflowExecutionStatus st = info.getStatus();
    if (st == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      try {
        CampaignWorkflow.Progress p = client.newUntypedWorkflowStub(id).query("progress", CampaignWorkflow.Progress.class);
        return id + " running: " + CampaignCommand.statusLine(p);
      } catch (RuntimeException e) {
        return id + " running (no worker has answered yet)";
      }
    }
    String word = st.name().replace("WORKFLOW_EXECUTION_STATUS_", "").toLowerCase(Locale.ROOT);
    if (st != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) return id + " " + word;
    try {
      CampaignResult r = client.newUntypedWorkflowStub(id).getResult(10, TimeUnit.SECONDS, CampaignResult.class);
      return id + " " + outcome(r);
    } catch (Exception e) {
      return id + " completed (result unreadable: " + Errors.describe(e) + ")";
    }
  }

  /**
   * A finished campaign in a few words, e.g. {@code finished: 12 runs: 12 reused, 0 computed —
   * nothing changed, nothing was recomputed}.
   */
  static String outcome(CampaignResult r) {
    CampaignResult.Counts c = r.counts();
    String status = r.status() == null ? "completed" : r.status().toLowerCase(Locale.ROOT);
    if (c == null) {
      long reused = r.runs().stream().filter(x -> x.reused()).count();
      long failed = r.failed();
      c = new CampaignResult.Counts(r.runs().size(), (int) (r.runs().size() - reused - failed), (int) reused, (int) failed, 0);
    }
    StringBuilder b = new StringBuilder(status).append(": ").append(c.total()).append(c.total() == 1 ? " run: " : " runs: ")
        .append(c.reused()).append(" reused, ").append(c.finished()).append(" computed");
    if (c.failed() > 0) b.append(", ").append(c.failed()).append(" failed");
    if (c.killed() > 0) b.append(", ").append(c.killed()).append(" killed");
    if (c.notStarted() > 0) b.append(", ").append(c.notStarted()).append(" not started");
    if (c.total() > 0 && c.reused() == c.total()) b.append(" — nothing changed, nothing was recomputed");
    if (r.reason() != null) b.append(" (").append(r.reason()).append(')');
    return b.toString();
  }

  // ------------------------------------------------------------------------------------ pause, resume, delete

  @Command(name = "pause", mixinStandardHelpOptions = true,
      description = "Pause a schedule: it starts no campaign until resumed (a campaign it already started goes on).")
  static final class Pause implements Callable<Integer> {
    @Parameters(paramLabel = "ID", description = "Schedule id (schedule list shows them).")
    String id;

    @Option(names = "--note", paramLabel = "TEXT", description = "Why (shown by schedule list and the Temporal UI).")
    String note;

    @CommandLine.Spec CommandLine.Model.CommandSpec cmd;

    @Override
    public Integer call() {
      return change(cmd, id, true, note);
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused schedule.")
  static final class Resume implements Callable<Integer> {
    @Parameters(paramLabel = "ID", description = "Schedule id (schedule list shows them).")
    String id;

    @Option(names = "--note", paramLabel = "TEXT", description = "Why (shown by schedule list and the Temporal UI).")
    String note;

    @CommandLine.Spec CommandLine.Model.CommandSpec cmd;

    @Override
    public Integer call() {
      return change(cmd, id, false, note);
    }
  }

  static int change(CommandLine.Model.CommandSpec cmd, String id, boolean pause, String note) {
    checkId(id, "schedule");
    Settings settings = Settings.fromEnv();
    try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
      ScheduleClient schedules = scheduleClient(conn);
      ScheduleDescription d = existing(schedules, settings, id);
      PrintWriter out = cmd.commandLine().getOut();
      if (d.getSchedule().getState().isPaused() == pause) {
        out.printf("schedule %s is already %s%n", id, pause ? "paused" : "active");
      } else {
        ScheduleHandle h = schedules.getHandle(id);
        String n = note != null ? note : (pause ? "paused" : "resumed") + " with ./promptline schedule " + (pause ? "pause" : "resume");
        temporal((pause ? "pause" : "resume") + " schedule " + id, () -> {
          if (pause) h.pause(n);
          else h.unpause(n);
        });
        out.printf(pause ? "paused schedule %s: it starts no campaign until ./promptline schedule resume %s%n"
            : "resumed schedule %s; next: %s%n", id, pause ? id : next(h.describe().getInfo().getNextActionTimes()));
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete a schedule. A campaign it started goes on; its runs and results stay.")
  static final class Delete implements Callable<Integer> {
    @Parameters(paramLabel = "ID", description = "Schedule id (schedule list shows them).")
    String id;

    @CommandLine.Spec CommandLine.Model.CommandSpec cmd;

    @Override
    public Integer call() {
      checkId(id, "schedule");
      Settings settings = Settings.fromEnv();
      try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
        ScheduleClient schedules = scheduleClient(conn);
        ScheduleDescription d = existing(schedules, settings, id);
        try {
          temporal("delete schedule " + id, () -> schedules.getHandle(id).delete());
        } catch (RuntimeException e) {
          if (!notFound(e)) throw e; // deleted meanwhile: the same end
        }
        String last = lastWorkflowId(d);
        cmd.commandLine().getOut().printf("deleted schedule %s%s%n", id,
            last == null ? "" : "; the campaigns it started are not affected (the last: " + last + ")");
        cmd.commandLine().getOut().flush();
        return 0;
      }
    }
  }
}
