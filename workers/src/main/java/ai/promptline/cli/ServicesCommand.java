package ai.promptline.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code promptline services up|down|status|install|env}: local Temporal, MLflow and MinIO,
 * managed by {@code deploy/local/services.sh} (see deploy/README.md). The exit code is the
 * script's.
 */
@Command(
    name = "services",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Manage the local services: Temporal dev server, MLflow tracking server, MinIO.",
      "Runs deploy/local/services.sh; state lives in <repo>/.promptline (PROMPTLINE_HOME)."
    },
    subcommands = {
      ServicesCommand.Up.class,
      ServicesCommand.Down.class,
      ServicesCommand.Status.class,
      ServicesCommand.Install.class,
      ServicesCommand.Env.class
    })
public final class ServicesCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Shared body of the verbs: run the script and return its exit code. */
  abstract static class Verb implements Callable<Integer> {
    private final String verb;

    Verb(String verb) {
      this.verb = verb;
    }

    @Override
    public Integer call() {
      return ServicesScript.locate().run(verb);
    }
  }

  @Command(
      name = "up",
      mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "Install if needed, start all services and wait until they are healthy (no-op if already up).")
  static final class Up extends Verb {
    Up() {
      super("up");
    }
  }

  @Command(
      name = "down",
      mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "Stop the services gracefully (SIGTERM, then SIGKILL after a grace period).")
  static final class Down extends Verb {
    Down() {
      super("down");
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "One line per service: name, URL, healthy/down. Exit code 1 if any is not healthy.")
  static final class Status extends Verb {
    Status() {
      super("status");
    }
  }

  @Command(
      name = "install",
      mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "Install the pinned service binaries into .promptline/ (done once; 'up' does it too).")
  static final class Install extends Verb {
    Install() {
      super("install");
    }
  }

  @Command(
      name = "env",
      mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "Print shell export lines with the service endpoints (no secrets).")
  static final class Env extends Verb {
    Env() {
      super("env");
    }
  }
}
