package ai.promptline.workers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs {@code deploy/local/services.sh <verb>} (install/up/down/status) with inherited stdio. */
public final class LocalServices {
  private LocalServices() {}

  /** The repository root: {@code -Dpromptline.root} (set by the launcher), else $PROMPTLINE_ROOT, else ".". */
  public static Path root() {
    String r = System.getProperty("promptline.root", System.getenv().getOrDefault("PROMPTLINE_ROOT", "."));
    return Path.of(r).toAbsolutePath().normalize();
  }

  public static int run(String... args) {
    Path script = root().resolve("deploy/local/services.sh");
    if (!Files.isRegularFile(script))
      throw new IllegalStateException("cannot find " + script + "; run promptline from its repository (./promptline)");
    String[] cmd = new String[args.length + 2];
    cmd[0] = "bash";
    cmd[1] = script.toString();
    System.arraycopy(args, 0, cmd, 2, args.length);
    try {
      return new ProcessBuilder(cmd).directory(root().toFile()).inheritIO().start().waitFor();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + script + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 130;
    }
  }
}
