package ai.promptline.cli;

import ai.promptline.activities.Comparison;
import ai.promptline.activities.Published;
import ai.promptline.activities.TrackingActivitiesImpl;
import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.workers.CampaignFile;
import ai.promptline.workers.CampaignSubmitter;
import ai.promptline.workers.Connections;
import ai.promptline.workers.Demo;
import ai.promptline.workers.ServiceChecks;
import ai.promptline.workers.Settings;
import ai.promptline.workers.WorkerWatch;
import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowStub;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "campaign", mixinStandardHelpOptions = true,
    description = "Plan, submit and follow benchmark campaigns (datasets x methods x shots x seeds).",
    subcommands = {CampaignCommand.Plan.class, CampaignCommand.Run.class, CampaignCommand.Submit.class, CampaignCommand.Status.class,
        CampaignControl.Watch.class, CampaignControl.Pause.class, CampaignControl.Resume.class, CampaignControl.Cancel.class,
        CampaignControl.Recover.class, CampaignControl.ListCampaigns.class, CompareCommand.class, ScheduleCommand.Create.class})
public final class CampaignCommand {
  static CampaignSpec load(Path file) {
    return load(file, CampaignFile.Limits.DEFAULT);
  }

  /** Reads and plans a campaign file; path variables and PROMPTLINE_MAX_RUNS come from the environment. */
  static CampaignSpec load(Path file, CampaignFile.Limits limits) {
    Path abs = file.toAbsolutePath();
    return CampaignFile.read(abs).plan(abs.getParent(), Settings.environment()::get, limits);
  }

  /** {@code --max-runs} and {@code --yes}: the grid-size guard of plan and run. */
  static final class GridLimit {
    @Option(names = "--max-runs", paramLabel = "N",
        description = "Refuse a grid of more than N runs (default: maxRuns in the file, else PROMPTLINE_MAX_RUNS, else "
            + CampaignFile.DEFAULT_MAX_RUNS + ").")
    Integer maxRuns;

    @Option(names = "--yes", description = "Plan a grid larger than the run limit anyway.")
    boolean yes;

    CampaignFile.Limits limits() {
      if (maxRuns != null && maxRuns < 1)
        throw new IllegalArgumentException("--max-runs must be >= 1, got " + maxRuns + " (the most runs a campaign may have without --yes)");
      return new CampaignFile.Limits(maxRuns, yes);
    }
  }

  @Command(name = "plan", mixinStandardHelpOptions = true,
      description = "Validate a campaign file and list its runs: run key and whether a finished result will be reused.")
  static final class Plan implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Campaign YAML file.")
    Path file;

    @picocli.CommandLine.Mixin GridLimit limit = new GridLimit();

    @Option(names = "--all", description = "List every run, also for grids of more than " + LIST_RUNS + " runs.")
    boolean all;

    @Override
    public Integer call() {
      CampaignSpec spec = load(file, limit.limits());
      Settings s = Settings.fromEnv();
      // which runs are reused: read-only (a bucket that does not exist yet holds no results)
      ObjectStore store = ServiceChecks.minio(s, false) ? s.store() : null;
      System.out.print(planText(CampaignSubmitter.prepare(spec), store, all));
      return 0;
    }
  }

  /** Per-run lines are listed up to this many runs (all with --all). */
  static final int LIST_RUNS = 200;

  /**
   * What {@code campaign plan} prints: targets (cross-dataset), one line per run (up to {@link
   * #LIST_RUNS} unless {@code all}) and whether it is reused, then the scan's summary: how many
   * are finished (found by run key) and the compute estimate ({@code store} null: none is known).
   */
  static String planText(CampaignSpec spec, ObjectStore store) {
    return planText(CampaignSubmitter.prepare(spec), store, true);
  }

  static String planText(CampaignSubmitter.Prepared p, ObjectStore store, boolean all) {
    CampaignSpec spec = p.spec();
    StringBuilder sb = new StringBuilder();
    String what = switch (p.kind()) {
      case "recover" -> "recover of campaign " + p.workflowId() + ": " + p.toRun().runs().size() + " of " + p.full().runs().size()
          + " runs have no result and run again";
      case "from" -> "campaign " + spec.name() + " -> workflow " + p.workflowId() + ", reusing the finished runs of " + p.from();
      default -> "campaign " + spec.name() + " -> workflow " + p.workflowId();
    };
    sb.append(what).append(String.format("%n"));
    if (spec.failurePolicy() != null) sb.append("failure policy: ").append(spec.failurePolicy()).append(String.format("%n"));
    if (!spec.targets().isEmpty()) {
      sb.append(String.format("protocol %s: every run is evaluated on %d target(s) after training%n", spec.protocol(),
          spec.targets().size()));
      for (var t : spec.targets())
        sb.append(String.format("  target %-24s %s  fingerprint %s%n", t.name(), t.root(),
            t.fingerprint() == null ? "-" : t.fingerprint().substring(0, Math.min(16, t.fingerprint().length()))));
    }
    List<ai.promptline.workflows.model.CampaignPlan.PlannedRun> runs = p.toRun().runs();
    // a recover scans the whole grid: what finished gives the estimate for what runs again
    List<ai.promptline.workflows.model.CampaignPlan.PlannedRun> scanned = "recover".equals(p.kind()) ? p.full().runs() : runs;
    ai.promptline.activities.PlanScan scan = store == null ? null : ai.promptline.activities.PlanScan.scan(scanned, store, 16);
    int listed = 0;
    for (var r : runs) {
      if (!all && listed == LIST_RUNS) {
        sb.append(String.format("  … %,d more runs (campaign plan --all lists every run)%n", runs.size() - LIST_RUNS));
        break;
      }
      listed++;
      boolean done = scan != null && scan.isFinished(r.runKey());
      String how = r.reuse() ? "reuse (finished in " + p.from() + ")" : done ? "reuse (finished)" : "run";
      sb.append(String.format("  %-40s %s  %s%n", r.config().displayName(), r.runKey().substring(0, 16), how));
    }
    if (scan != null) sb.append(scan.summary()).append(String.format("%n"));
    else sb.append(String.format("%,d runs; the object store cannot be reached, so none is known to be finished%n", runs.size()));
    if (p.reusedFrom() > 0) sb.append(String.format("%,d runs finished in %s are reused without starting them%n", p.reusedFrom(), p.from()));
    return sb.toString();
  }

  /** {@code --from ID} and {@code --dry-run}, shared by run and submit. */
  static final class SubmitOptions {
    @Option(names = "--from", paramLabel = "ID",
        description = "Reuse every run that finished in campaign ID (campaign-<key>): those start no run workflow.")
    String from;

    @Option(names = "--dry-run", description = "Print the plan (runs, what is reused, the estimate) and submit nothing.")
    boolean dryRun;

    @Option(names = "--all", description = "With --dry-run: list every run.")
    boolean all;

    CampaignSubmitter.Prepared prepare(CampaignSpec spec, ObjectStore store) {
      return from == null ? CampaignSubmitter.prepare(spec) : CampaignSubmitter.from(spec, store, from);
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = {"Submit a campaign (or attach to it when it is already running) and wait for it, showing progress.",
          "Re-running a campaign that failed re-runs only its unfinished runs. Workers must be running (promptline worker).",
          "Temporal, MLflow and MinIO are checked first: nothing is submitted when one cannot be reached.",
          "Stopping this command (Ctrl-C) never affects the campaign: re-attach with campaign watch ID."})
  static final class Run implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Campaign YAML file.")
    Path file;

    @Option(names = "--detach", description = "Return after submitting (as campaign submit does).")
    boolean detach;

    @picocli.CommandLine.Mixin GridLimit limit = new GridLimit();

    @picocli.CommandLine.Mixin SubmitOptions submit = new SubmitOptions();

    @Override
    public Integer call() {
      return submitAndMaybeWait(load(file, limit.limits()), submit, !detach);
    }
  }

  @Command(name = "submit", mixinStandardHelpOptions = true,
      description = {"Submit a campaign and return at once with its id (campaign-<key>); follow it with campaign watch ID.",
          "Submitting a campaign that is running attaches to it; one that ended runs again, reusing its finished runs."})
  static final class Submit implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Campaign YAML file.")
    Path file;

    @picocli.CommandLine.Mixin GridLimit limit = new GridLimit();

    @picocli.CommandLine.Mixin SubmitOptions submit = new SubmitOptions();

    @Override
    public Integer call() {
      return submitAndMaybeWait(load(file, limit.limits()), submit, false);
    }
  }

  static int submitAndMaybeWait(CampaignSpec spec, SubmitOptions o, boolean await) {
    Settings settings = Settings.fromEnv();
    if (o.dryRun) {
      ObjectStore store = ServiceChecks.minio(settings, false) ? settings.store() : null;
      if (o.from != null && store == null)
        throw new IllegalArgumentException("--from needs the object store (to read campaign " + o.from + "'s results); start it with"
            + " ./promptline services up");
      CampaignSubmitter.Prepared p = o.prepare(spec, store);
      System.out.print(planText(p, store, o.all));
      System.out.println("dry run: nothing was submitted");
      return 0;
    }
    try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
      ServiceChecks.mlflow(settings);
      ServiceChecks.minio(settings, false);
      ObjectStore store = settings.store();
      CampaignSubmitter.Prepared p = o.prepare(spec, store);
      return submitPrepared(conn, store, p, await);
    }
  }

  /** Submits {@code p}, prints its id, and with {@code await} follows it to the end (exit 0 only when FINISHED). */
  static int submitPrepared(Connections conn, ObjectStore store, CampaignSubmitter.Prepared p, boolean await) {
    WorkflowStub stub = CampaignSubmitter.submit(conn.client(), store, p);
    int runs = p.toRun().runs().size();
    String extra = p.reusedFrom() > 0 ? ", " + p.reusedFrom() + " reused from " + p.from() : "";
    System.out.println("submitted " + p.workflowId() + " (" + runs + " runs" + extra + ")");
    if (!await) {
      System.out.println("follow it: ./promptline campaign watch " + p.workflowId());
      return 0;
    }
    try (WorkerWatch ignored = WorkerWatch.start(conn, System.err)) {
      CampaignResult r = CampaignSubmitter.withRuns(CampaignSubmitter.await(stub, 15, pr -> System.out.println(statusLine(pr))), store);
      if (r.runs().size() <= LIST_RUNS) System.out.print(Demo.table(r.runs()));
      System.out.println(resultLine(p.workflowId(), r));
      return Stages.FINISHED.equals(r.status()) ? 0 : 1;
    } catch (io.temporal.client.WorkflowFailedException e) {
      System.out.println("campaign " + p.workflowId() + " ended: " + CampaignControl.closedStatus(e));
      return 1;
    }
  }

  /** One line for a campaign's outcome: status, counts, why it did not finish, the MLflow parent run. */
  static String resultLine(String id, CampaignResult r) {
    StringBuilder sb = new StringBuilder("campaign " + id + " " + r.status());
    CampaignResult.Counts c = r.counts();
    if (c != null)
      sb.append(String.format(": %d runs: %d finished, %d reused, %d failed, %d killed, %d not started", c.total(), c.finished(),
          c.reused(), c.failed(), c.killed(), c.notStarted()));
    if (c != null && c.total() > 0 && c.finished() == 0 && c.reused() == c.total()) sb.append(" (nothing computed: every run was reused)");
    if (r.reason() != null) sb.append(" — ").append(r.reason());
    return sb.toString();
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = {"Where a campaign stands: runs finished / running / failed / pending with an ETA and, for each running run,",
          "its phase, epoch and loss (from its heartbeat); for a campaign that ended, its outcome."})
  static final class Status implements Callable<Integer> {
    @Parameters(paramLabel = "ID|FILE", description = "The campaign's id (campaign-<key>, as submit and plan print it) or its YAML file.")
    String campaign;

    @Override
    public Integer call() {
      Settings settings = Settings.fromEnv();
      CampaignControl.Target t = CampaignControl.resolve(campaign); // the argument first: bad input never waits for a service
      try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
        return CampaignControl.printStatus(conn, t, System.out);
      }
    }
  }

  static String statusLine(CampaignWorkflow.Progress p) {
    String s = String.format("%d/%d done (%d reused, %d failed), %d running, %d pending", p.done(), p.total(), p.reused(),
        p.failed() + p.killed(), p.running(), p.pending());
    return p.paused() ? s + " — paused" : s;
  }

  /** The published rows of {@code files} (default folder when none), restricted to {@code tables} when given. */
  static List<Published> publishedData(List<Path> files, Path campaignFile, List<String> tables) {
    List<Path> from = files == null || files.isEmpty() ? List.of(defaultPublished(campaignFile)) : files;
    List<Published> pub = new ArrayList<>();
    for (Path p : from) pub.addAll(Published.read(p));
    if (tables != null && !tables.isEmpty()) {
      List<String> known = pub.stream().map(Published::table).distinct().toList();
      for (String t : tables)
        if (!known.contains(t)) throw new IllegalArgumentException("--table " + t + ": no such published table; known: " + String.join(", ", known));
      pub.removeIf(p -> !tables.contains(p.table()));
    }
    return pub;
  }

  private static Path defaultPublished(Path campaignFile) {
    Path next = campaignFile.toAbsolutePath().getParent().resolve("published");
    if (Files.isDirectory(next)) return next;
    String root = System.getProperty("promptline.root", System.getenv().getOrDefault("PROMPTLINE_ROOT", "."));
    return Path.of(root).resolve("campaigns").resolve("published");
  }

  /**
   * What {@code campaign compare} prints: the comparison table, then where it was logged. Results
   * of the planned runs from the tracker and the store ({@link Comparison#results}).
   */
  static String compareText(CampaignSpec spec, List<Published> published, Tracker tracker, ObjectStore store, boolean log) {
    String exp = tracker.experimentId(spec.experiment());
    Comparison c = Comparison.of(Comparison.results(spec.expand(), tracker, exp, store), published);
    StringBuilder sb = new StringBuilder(String.format("campaign %s compared with %d published number(s)%n%n", spec.name(), published.size()));
    sb.append(c.markdown());
    if (!log) return sb.toString();
    String key = ContentKeys.campaignKey(spec);
    List<Tracker.RunInfo> parents = tracker.findRuns(exp, TrackingActivitiesImpl.TAG_CAMPAIGN_KEY, key);
    if (parents.isEmpty()) {
      sb.append(String.format("%nnot logged: experiment '%s' has no campaign run with %s=%s (run the campaign first)%n", spec.experiment(),
          TrackingActivitiesImpl.TAG_CAMPAIGN_KEY, key));
      return sb.toString();
    }
    String parent = parents.get(0).runId();
    tracker.uploadArtifact(parent, "compare.md", c.markdown().getBytes(StandardCharsets.UTF_8));
    tracker.uploadArtifact(parent, "compare.csv", c.csv().getBytes(StandardCharsets.UTF_8));
    tracker.log(parent, java.util.Map.of(), c.metrics(System.currentTimeMillis()), java.util.Map.of());
    sb.append(String.format("%nlogged to the campaign run: %s (compare.md, compare.csv, compare/* metrics)%n", tracker.runUrl(exp, parent)));
    return sb.toString();
  }
}
