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
    subcommands = {CampaignCommand.Plan.class, CampaignCommand.Run.class, CampaignCommand.Status.class,
        CampaignCommand.Compare.class})
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

    @Override
    public Integer call() {
      CampaignSpec spec = load(file, limit.limits());
      Settings s = Settings.fromEnv();
      // which runs are reused: read-only (a bucket that does not exist yet holds no results)
      ObjectStore store = ServiceChecks.minio(s, false) ? s.store() : null;
      System.out.print(planText(spec, store));
      return 0;
    }
  }

  /** What {@code campaign plan} prints: targets (cross-dataset), then one line per run and whether it is reused ({@code store} null: none is). */
  static String planText(CampaignSpec spec, ObjectStore store) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("campaign %s -> workflow %s%n", spec.name(), CampaignSubmitter.workflowId(spec)));
    if (!spec.targets().isEmpty()) {
      sb.append(String.format("protocol %s: every run is evaluated on %d target(s) after training%n", spec.protocol(),
          spec.targets().size()));
      for (var t : spec.targets())
        sb.append(String.format("  target %-24s %s  fingerprint %s%n", t.name(), t.root(),
            t.fingerprint() == null ? "-" : t.fingerprint().substring(0, Math.min(16, t.fingerprint().length()))));
    }
    int reuse = 0;
    List<RunConfig> runs = spec.expand();
    for (RunConfig c : runs) {
      String key = ContentKeys.runKey(c);
      boolean done = store != null && store.exists("runs/" + key + "/result.json");
      if (done) reuse++;
      sb.append(String.format("  %-40s %s  %s%n", c.displayName(), key.substring(0, 16), done ? "reuse (finished)" : "run"));
    }
    sb.append(String.format("%d runs: %d reused, %d to run%n", runs.size(), reuse, runs.size() - reuse));
    return sb.toString();
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = {"Submit a campaign (or attach to it when it is already running) and wait for it.",
          "Re-running a campaign that failed re-runs only its unfinished runs. Workers must be running (promptline worker).",
          "Temporal, MLflow and MinIO are checked first: nothing is submitted when one cannot be reached."})
  static final class Run implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Campaign YAML file.")
    Path file;

    @Option(names = "--detach", description = "Return after submitting.")
    boolean detach;

    @picocli.CommandLine.Mixin GridLimit limit = new GridLimit();

    @Override
    public Integer call() {
      CampaignSpec spec = load(file, limit.limits());
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      Settings settings = Settings.fromEnv();
      try (Connections conn = new Connections(settings, meters)) {
        ServiceChecks.mlflow(settings);
        ServiceChecks.minio(settings, false);
        WorkflowStub stub = CampaignSubmitter.start(conn.client(), settings.store(), spec);
        System.out.println("submitted " + CampaignSubmitter.workflowId(spec) + " (" + spec.expand().size() + " runs)");
        if (detach) return 0;
        try (WorkerWatch ignored = WorkerWatch.start(conn, System.err)) {
          CampaignResult r = CampaignSubmitter.withRuns(CampaignSubmitter.await(stub, 15, p -> System.out.println(statusLine(p))),
              settings.store());
          System.out.print(Demo.table(r.runs()));
          return Stages.FINISHED.equals(r.status()) ? 0 : 1;
        }
      }
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Progress of a running campaign.")
  static final class Status implements Callable<Integer> {
    @Parameters(paramLabel = "FILE|ID", description = "Campaign YAML file, or the campaign's workflow id (campaign-<key>, as run and plan print it).")
    String campaign;

    @Override
    public Integer call() {
      String id;
      String name;
      Path file = Path.of(campaign);
      if (campaign.startsWith("campaign-") && !Files.exists(file)) {
        if (!campaign.matches("campaign-[0-9a-f]{8,64}"))
          throw new IllegalArgumentException("'" + campaign + "' is not a campaign workflow id (campaign-<hex key>, as campaign plan"
              + " prints it); give the id or the campaign file");
        id = campaign;
        name = null;
      } else {
        CampaignSpec spec = load(file);
        id = CampaignSubmitter.workflowId(spec);
        name = spec.name();
      }
      Settings settings = Settings.fromEnv();
      try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
        io.temporal.api.workflow.v1.WorkflowExecutionInfo info;
        try {
          info = conn.service().blockingStub().describeWorkflowExecution(
              io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest.newBuilder().setNamespace(settings.namespace())
                  .setExecution(io.temporal.api.common.v1.WorkflowExecution.newBuilder().setWorkflowId(id)).build())
              .getWorkflowExecutionInfo();
        } catch (io.grpc.StatusRuntimeException e) {
          if (e.getStatus().getCode() != io.grpc.Status.Code.NOT_FOUND) throw e;
          throw new IllegalArgumentException("no campaign " + (name == null ? "" : "'" + name + "' ") + "(workflow " + id + ") in namespace "
              + settings.namespace() + " at " + settings.temporalTarget() + "; submit it with ./promptline campaign run FILE", e);
        }
        var st = info.getStatus();
        if (st != io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
          System.out.println("campaign " + (name == null ? id : name + " (" + id + ")") + ": "
              + st.name().replace("WORKFLOW_EXECUTION_STATUS_", "").toLowerCase(java.util.Locale.ROOT));
          return st == io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED ? 0 : 1;
        }
        WorkflowStub stub = conn.client().newUntypedWorkflowStub(id);
        System.out.println(statusLine(stub.query("progress", CampaignWorkflow.Progress.class)));
      }
      return 0;
    }
  }

  static String statusLine(CampaignWorkflow.Progress p) {
    return String.format("%d/%d done (%d reused, %d failed), %d running, %d pending",
        p.finished() + p.reused() + p.failed(), p.total(), p.reused(), p.failed(), p.running(), p.pending());
  }

  @Command(name = "compare", mixinStandardHelpOptions = true,
      description = {"Compare a campaign's results with published numbers: per (dataset, method, shots) our mean ± std over seeds,",
          "the published value and the difference, plus the 11-dataset base-to-novel average computed both ways.",
          "Results come from MLflow (finished runs by run-key tag) or the object store, so this works after the campaign,",
          "without Temporal. The comparison is logged to the campaign's MLflow parent run (compare.md, compare.csv, metrics)."})
  static final class Compare implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Campaign YAML file.")
    Path file;

    @Option(names = "--published", paramLabel = "FILE",
        description = "Published-data CSV file or folder (repeatable). Default: published/ next to the campaign file, else campaigns/published.")
    List<Path> published;

    @Option(names = "--table", paramLabel = "ID", description = "Only these published tables (repeatable), e.g. b2n-vitb16.")
    List<String> tables;

    @Option(names = "--no-log", description = "Print only; do not log to the MLflow parent run.")
    boolean noLog;

    @Spec picocli.CommandLine.Model.CommandSpec cmd;

    @Override
    public Integer call() {
      CampaignSpec spec = load(file);
      List<Published> pub = publishedData(published, file, tables);
      Settings s = Settings.fromEnv();
      cmd.commandLine().getOut().print(compareText(spec, pub, s.tracker(), s.store(), !noLog));
      cmd.commandLine().getOut().flush();
      return 0;
    }
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
