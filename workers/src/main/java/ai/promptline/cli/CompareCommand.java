package ai.promptline.cli;

import ai.promptline.activities.CampaignComparison;
import ai.promptline.activities.Published;
import ai.promptline.activities.store.ObjectStore;
import ai.promptline.activities.tracking.Tracker;
import ai.promptline.workers.ServiceChecks;
import ai.promptline.workers.Settings;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignSpec;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code campaign compare ID|FILE [ID|FILE...]}: the paper-style table of one or more campaigns
 * side by side ({@link CampaignComparison}). Each argument is a campaign id ({@code campaign-<hex
 * key>}, as submit and plan print it; its plan is read from the object store) or a campaign file
 * (planned here). With exactly one campaign and {@code --published}, it compares that campaign with
 * published numbers instead, as {@code campaign compare FILE} always has.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Compare campaigns side by side: per dataset (and method, shots) Base / Novel / HM as mean ± std over seeds with n,",
        "the average over datasets with both HM conventions, and each campaign minus the first.",
        "Results come from the object store (runs/<key>/result.json), else MLflow; runs without a result are missing, never 0.",
        "With one campaign and --published: that campaign next to published numbers (logged to its MLflow parent run)."})
public final class CompareCommand implements Callable<Integer> {
  @Parameters(paramLabel = "ID|FILE", arity = "1..*",
      description = "Campaign id (campaign-<key>, as submit and plan print it) or campaign YAML file; the first is the baseline of the differences.")
  List<String> campaigns;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
      description = "text (aligned terminal table, default), markdown or csv.")
  String format;

  @Option(names = "--published", paramLabel = "FILE",
      description = "Compare one campaign with published numbers: a published-data CSV file or folder (repeatable).")
  List<Path> published;

  @Option(names = "--table", paramLabel = "ID", description = "With --published: only these published tables (repeatable), e.g. b2n-vitb16.")
  List<String> tables;

  @Option(names = "--no-log", description = "With --published: print only; do not log to the MLflow parent run.")
  boolean noLog;

  @Option(names = "--store-only", description = "Read results from the object store only (no MLflow look-ups for runs it lacks).")
  boolean storeOnly;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "16", description = "Parallel object-store reads (default 16).")
  int threads;

  @Spec picocli.CommandLine.Model.CommandSpec cmd;

  private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** A resolved argument: its plan, and the campaign file it came from (null for an id). */
  record Resolved(CampaignPlan plan, Path file) {}

  @Override
  public Integer call() {
    check(format, published, tables, campaigns.size(), threads);
    // published files and tables are read before any service is contacted: a typo fails at once
    if (published != null && !published.isEmpty()) CampaignCommand.publishedData(published, Path.of("."), tables);
    Settings s = Settings.fromEnv();
    ServiceChecks.minio(s, false); // one clear line when the store cannot be reached
    ObjectStore store = s.store();
    List<Resolved> resolved = new ArrayList<>();
    for (String arg : campaigns) resolved.add(resolve(arg, store, CampaignCommand::load));
    Tracker tracker = storeOnly ? null : s.tracker();
    if (published != null && !published.isEmpty()) {
      Resolved r = resolved.get(0);
      List<Published> pub = CampaignCommand.publishedData(published, r.file() == null ? Path.of(".") : r.file(), tables);
      cmd.commandLine().getOut().print(CampaignCommand.compareText(r.plan().spec(), pub, s.tracker(), store, !noLog));
    } else {
      cmd.commandLine().getOut().print(text(resolved, store, tracker, threads, format));
    }
    cmd.commandLine().getOut().flush();
    return 0;
  }

  /** The argument rules, before anything is read. */
  static void check(String format, List<Path> published, List<String> tables, int campaigns, int threads) {
    if (!List.of("text", "markdown", "md", "csv").contains(format.toLowerCase(java.util.Locale.ROOT)))
      throw new IllegalArgumentException("--format " + format + ": unknown format; use text, markdown or csv");
    boolean pub = published != null && !published.isEmpty();
    if (pub && campaigns != 1)
      throw new IllegalArgumentException("--published compares one campaign with published numbers, got " + campaigns
          + " campaigns; give one, or drop --published to compare the campaigns with each other");
    if (!pub && tables != null && !tables.isEmpty())
      throw new IllegalArgumentException("--table selects published tables: give --published FILE with it");
    if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
  }

  /** The comparison of the resolved campaigns in {@code format}. */
  static String text(List<Resolved> resolved, ObjectStore store, Tracker tracker, int threads, String format) {
    List<CampaignComparison.Input> inputs = new ArrayList<>();
    for (Resolved r : resolved) {
      CampaignPlan plan = r.plan();
      String exp = tracker == null ? null : tracker.experimentId(plan.spec().experiment());
      inputs.add(new CampaignComparison.Input(plan.spec().name(), plan.campaignKey(),
          CampaignComparison.results(plan, store, tracker, exp, threads)));
    }
    return CampaignComparison.of(inputs).format(format);
  }

  /**
   * A campaign id ({@code campaign-<hex>} that is not an existing file): its full plan from the store;
   * otherwise a campaign file, planned with {@code load}.
   */
  static Resolved resolve(String arg, ObjectStore store, Function<Path, CampaignSpec> load) {
    Path file = Path.of(arg);
    if (arg.startsWith("campaign-") && !Files.exists(file)) {
      if (!arg.matches("campaign-[0-9a-f]{8,64}"))
        throw new IllegalArgumentException("'" + arg + "' is not a campaign id (campaign-<hex key>, as campaign submit and plan print it)"
            + " nor a campaign file");
      String key = arg.substring("campaign-".length());
      Optional<byte[]> plan = store.find(CampaignPlan.fullPlanKey(key));
      if (plan.isEmpty())
        throw new IllegalArgumentException("no campaign " + arg + ": " + store.describe() + " has no plan at " + CampaignPlan.fullPlanKey(key)
            + "; check the id (./promptline campaign plan FILE prints it) or give the campaign file");
      try {
        return new Resolved(JSON.readValue(plan.get(), CampaignPlan.class), null);
      } catch (IOException e) {
        throw new IllegalArgumentException("the plan of " + arg + " at " + CampaignPlan.fullPlanKey(key) + " does not parse ("
            + e.getMessage().lines().findFirst().orElse("") + "); give the campaign file instead", e);
      }
    }
    if (!Files.isRegularFile(file))
      throw new IllegalArgumentException("'" + arg + "' is neither a campaign id (campaign-<hex key>) nor a campaign file");
    return new Resolved(CampaignPlan.of(load.apply(file)), file);
  }
}
