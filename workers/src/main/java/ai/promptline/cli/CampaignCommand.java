package ai.promptline.cli;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workers.CampaignFile;
import ai.promptline.workers.CampaignSubmitter;
import ai.promptline.workers.Connections;
import ai.promptline.workers.Demo;
import ai.promptline.workers.Settings;
import ai.promptline.workflows.CampaignWorkflow;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.RunConfig;
import ai.promptline.workflows.model.Stages;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowStub;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "campaign", mixinStandardHelpOptions = true,
    description = "Plan, submit and follow benchmark campaigns (datasets x methods x shots x seeds).",
    subcommands = {CampaignCommand.Plan.class, CampaignCommand.Run.class, CampaignCommand.Status.class})
public final class CampaignCommand {
  static CampaignSpec load(Path file) {
    Path abs = file.toAbsolutePath();
    return CampaignFile.read(abs).plan(abs.getParent());
  }

  @Command(name = "plan", mixinStandardHelpOptions = true,
      description = "Validate a campaign file and list its runs: run key and whether a finished result will be reused.")
  static final class Plan implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Campaign YAML file.")
    Path file;

    @Override
    public Integer call() {
      System.out.print(planText(load(file), Settings.fromEnv().store()));
      return 0;
    }
  }

  /** What {@code campaign plan} prints: targets (cross-dataset), then one line per run and whether it is reused. */
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
    for (RunConfig c : spec.expand()) {
      String key = ContentKeys.runKey(c);
      boolean done = store.exists("runs/" + key + "/result.json");
      if (done) reuse++;
      sb.append(String.format("  %-40s %s  %s%n", c.displayName(), key.substring(0, 16), done ? "reuse (finished)" : "run"));
    }
    sb.append(String.format("%d runs: %d reused, %d to run%n", spec.expand().size(), reuse, spec.expand().size() - reuse));
    return sb.toString();
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = {"Submit a campaign (or attach to it when it is already running) and wait for it.",
          "Re-running a campaign that failed re-runs only its unfinished runs. Workers must be running (promptline worker)."})
  static final class Run implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Campaign YAML file.")
    Path file;

    @Option(names = "--detach", description = "Return after submitting.")
    boolean detach;

    @Override
    public Integer call() {
      CampaignSpec spec = load(file);
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      try (Connections conn = new Connections(Settings.fromEnv(), meters)) {
        WorkflowStub stub = CampaignSubmitter.start(conn.client(), spec);
        System.out.println("submitted " + CampaignSubmitter.workflowId(spec) + " (" + spec.expand().size() + " runs)");
        if (detach) return 0;
        CampaignResult r = CampaignSubmitter.await(stub, 15, p -> System.out.println(statusLine(p)));
        System.out.print(Demo.table(r.runs()));
        return Stages.FINISHED.equals(r.status()) ? 0 : 1;
      }
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Progress of a running campaign.")
  static final class Status implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Campaign YAML file.")
    Path file;

    @Override
    public Integer call() {
      CampaignSpec spec = load(file);
      try (Connections conn = new Connections(Settings.fromEnv(), new SimpleMeterRegistry())) {
        WorkflowStub stub = conn.client().newUntypedWorkflowStub(CampaignSubmitter.workflowId(spec));
        System.out.println(statusLine(stub.query("progress", CampaignWorkflow.Progress.class)));
      }
      return 0;
    }
  }

  static String statusLine(CampaignWorkflow.Progress p) {
    return String.format("%d/%d done (%d reused, %d failed), %d running, %d pending",
        p.finished() + p.reused() + p.failed(), p.total(), p.reused(), p.failed(), p.running(), p.pending());
  }
}
