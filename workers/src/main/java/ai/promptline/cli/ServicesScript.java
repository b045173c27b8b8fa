package ai.promptline.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code deploy/local/services.sh <verb>} from the repository root, inheriting stdio.
 *
 * <p>The repository root is taken from the system property {@code promptline.home}, else the
 * environment variable {@code PROMPTLINE_ROOT} (both set by the launcher script), else the current
 * directory or the nearest parent that contains the script.
 */
final class ServicesScript {
  static final String SCRIPT = "deploy/local/services.sh";

  private final Path root;

  ServicesScript(Path root) {
    this.root = root;
  }

  /** The script for the running JVM's configuration (system property, environment, cwd). */
  static ServicesScript locate() {
    return new ServicesScript(
        locateRoot(
            System.getProperty("promptline.home"),
            System.getenv("PROMPTLINE_ROOT"),
            Path.of("").toAbsolutePath()));
  }

  /**
   * Finds the repository root. An explicitly configured root (property, then env) must contain
   * the script; otherwise {@code cwd} and its parents are searched.
   */
  static Path locateRoot(String property, String env, Path cwd) {
    for (String configured : new String[] {property, env}) {
      if (configured != null && !configured.isBlank()) {
        Path root = Path.of(configured).toAbsolutePath().normalize();
        if (!Files.isRegularFile(root.resolve(SCRIPT))) {
          throw new IllegalStateException(
              "no " + SCRIPT + " under the Promptline root " + root
                  + " (set by -Dpromptline.home or PROMPTLINE_ROOT)");
        }
        return root;
      }
    }
    for (Path dir = cwd.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(SCRIPT))) return dir;
    }
    throw new IllegalStateException(
        "cannot find " + SCRIPT + " in " + cwd
            + " or its parents; run from the repository or set PROMPTLINE_ROOT");
  }

  Path root() {
    return root;
  }

  Path script() {
    return root.resolve(SCRIPT);
  }

  /** The command line that runs the script with its arguments (bash, so the executable bit is not needed). */
  List<String> command(List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("bash");
    cmd.add(script().toString());
    cmd.addAll(args);
    return cmd;
  }

  /** Runs {@code services.sh args...} with inherited stdio; returns its exit code. */
  int run(String... args) {
    return run(List.of(args));
  }

  /** Runs {@code services.sh args...} with inherited stdio; returns its exit code. */
  int run(List<String> args) {
    ProcessBuilder pb = new ProcessBuilder(command(args)).directory(root.toFile()).inheritIO();
    Map<String, String> env = pb.environment();
    env.putIfAbsent("PROMPTLINE_ROOT", root.toString());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + script() + ": " + e.getMessage(), e);
    }
    try {
      return p.waitFor();
    } catch (InterruptedException e) {
      p.destroy();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + SCRIPT + " " + String.join(" ", args), e);
    }
  }
}
