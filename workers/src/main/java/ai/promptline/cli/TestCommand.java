package ai.promptline.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ./promptline test}: the whole suite. The launcher script runs it without starting Java;
 * this command exists so that {@code --help} lists it and so that {@code java -jar promptline.jar
 * test} does the same thing.
 */
@Command(name = "test", mixinStandardHelpOptions = true,
    description = {"Run the whole test suite: unit, activity and workflow tests (Temporal's test environment, replay of committed",
        "histories), reference tests, integration tests against real Temporal, MLflow and MinIO (installed and started",
        "by the suite), then the chaos campaign. --chaos runs only the chaos group; --no-chaos skips it; other arguments go to",
        "Maven (e.g. -Dtest=CampaignControlTest)."})
public final class TestCommand implements Callable<Integer> {
  @Parameters(paramLabel = "ARG", arity = "0..*", description = "--chaos, --no-chaos, or Maven arguments.")
  List<String> args = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Path root = Path.of(System.getProperty("promptline.root", System.getenv().getOrDefault("PROMPTLINE_ROOT", ".")));
    Path script = root.resolve("deploy/local/test-suite.sh");
    if (!Files.isRegularFile(script))
      throw new IllegalArgumentException("no test suite at " + script + ": run ./promptline test from a clone of the repository");
    List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
    cmd.addAll(args);
    return new ProcessBuilder(cmd).directory(root.toFile()).inheritIO().start().waitFor();
  }
}
