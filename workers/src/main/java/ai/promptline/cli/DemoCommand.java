package ai.promptline.cli;

import ai.promptline.workers.Demo;
import ai.promptline.workers.Settings;
import ai.promptline.workflows.model.Stages;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Run the demo campaign on local defaults: starts the local services (Temporal, MLflow, MinIO)"
        + " if needed and a worker, trains zero-shot CLIP and CoOp on a generated dataset with a tiny random CLIP"
        + " (base-to-novel, 4 shots, seeds 1 and 2), and prints the results and the UI links."})
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--epochs", defaultValue = "20", description = "CoOp epochs (default ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--shots", defaultValue = "4", description = "Shots per class (default ${DEFAULT-VALUE}).")
  int shots;

  @Option(names = "--seeds", split = ",", defaultValue = "1,2", description = "Seeds (default ${DEFAULT-VALUE}).")
  List<Integer> seeds;

  @Option(names = "--no-services", description = "Do not start the local services (use the configured endpoints).")
  boolean noServices;

  @Override
  public Integer call() {
    if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
    if (shots < 1) throw new IllegalArgumentException("--shots must be >= 1, got " + shots);
    if (!noServices) {
      int rc = ServicesScript.locate().run("up");
      if (rc != 0) throw new IllegalStateException("the local services did not start (exit " + rc + "); see the messages above");
    }
    var result = Demo.run(Settings.fromEnv(), new Demo.Options(epochs, seeds, shots), System.out);
    return Stages.FINISHED.equals(result.status()) ? 0 : 1;
  }
}
