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
        + " if needed and a worker, then runs zero-shot CLIP and the prompt-learning methods on the generated Scenes"
        + " benchmark with the shipped pretrained tiny CLIP (base-to-novel, 4 and 16 shots, seeds 1-3), and prints"
        + " every run, the mean ± std over seeds and the UI links."})
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--epochs", description = "Epochs of every trained method (default: each method's demo recipe).")
  Integer epochs;

  @Option(names = "--shots", split = ",", defaultValue = "4,16", description = "Shots per class (default ${DEFAULT-VALUE}).")
  List<Integer> shots;

  @Option(names = "--seeds", split = ",", defaultValue = "1,2,3", description = "Seeds (default ${DEFAULT-VALUE}).")
  List<Integer> seeds;

  @Option(names = "--methods", split = ",", description = "Methods (default: all demo methods: zsclip, coop, ...; see 'method list').")
  List<String> methods;

  @Option(names = "--no-services", description = "Do not start the local services (use the configured endpoints).")
  boolean noServices;

  @Override
  public Integer call() {
    if (epochs != null && epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
    int perClass = ai.promptline.ml.scenes.SceneBenchmark.Spec.defaults().train();
    for (int k : shots) {
      if (k < 1) throw new IllegalArgumentException("--shots must be >= 1, got " + k);
      if (k > perClass)
        throw new IllegalArgumentException("--shots " + k + ": the demo's Scenes benchmark has " + perClass + " train images per class;"
            + " give at most " + perClass);
    }
    for (int s : seeds) if (s < 0) throw new IllegalArgumentException("--seeds must be >= 0, got " + s);
    List<String> ms = methods == null ? Demo.Options.defaults().methods() : methods;
    for (String m : ms) {
      if (!Demo.METHODS.containsKey(m)) {
        throw new IllegalArgumentException("--methods: the demo has no recipe for '" + m + "'; choose from " + String.join(", ", Demo.METHODS.keySet()));
      }
    }
    if (!noServices) {
      int rc = ServicesScript.locate().run("up");
      if (rc != 0) throw new IllegalStateException("the local services did not start (exit " + rc + "); see the messages above");
    }
    var result = Demo.run(Settings.fromEnv(), new Demo.Options(epochs, seeds, shots, ms), System.out);
    return Stages.FINISHED.equals(result.status()) ? 0 : 1;
  }
}
