package ai.promptline.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code promptline services up|down|status|install|env|stop|start|restart}: local Temporal,
 * MLflow and MinIO, managed by {@code deploy/local/services.sh} (see deploy/README.md). The exit
 * code is the script's.
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
      ServicesCommand.Env.class,
      ServicesCommand.Stop.class,
      ServicesCommand.Start.class,
      ServicesCommand.Restart.class
    })
public final class ServicesCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The services one verb can act on (the names services.sh knows). */
  enum Service {
    temporal,
    mlflow,
    minio
  }

  /** Shared body of the verbs: run the script with {@link #args()} and return its exit code. */
  abstract static class Verb implements Callable<Integer> {
    private final String verb;

    Verb(String verb) {
      this.verb = verb;
    }

    /** The script's arguments: the verb, then what the subclass adds. */
    List<String> args() {
      List<String> a = new ArrayList<>();
      a.add(verb);
      return a;
    }

    @Override
    public Integer call() {
      return ServicesScript.locate().run(args());
    }
  }

  /** {@code --auth} / {@code --no-auth}: MLflow with its basic-auth app, remembered until changed. */
  static final class AuthMode {
    @Option(names = "--auth", description = {
        "Run MLflow with its basic-auth app (users in data/mlflow/basic_auth.db, passwords in credentials.env);",
        "remembered for later starts until --no-auth."})
    boolean auth;

    @Option(names = "--no-auth", description = "Run MLflow without authentication (the default), remembered for later starts.")
    boolean noAuth;

    void addTo(List<String> args) {
      if (auth) args.add("--auth");
      if (noAuth) args.add("--no-auth");
    }
  }

  @Command(
      name = "up",
      mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "Install if needed, start all services and wait until they are healthy (no-op if already up).")
  static final class Up extends Verb {
    @CommandLine.ArgGroup(exclusive = true, multiplicity = "0..1")
    AuthMode mode;

    Up() {
      super("up");
    }

    @Override
    List<String> args() {
      List<String> a = super.args();
      if (mode != null) mode.addTo(a);
      return a;
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

  /** A verb on one service: {@code stop|start|restart NAME}. */
  abstract static class OneService extends Verb {
    @Parameters(index = "0", paramLabel = "NAME", description = "One of: ${COMPLETION-CANDIDATES}.")
    Service service;

    OneService(String verb) {
      super(verb);
    }

    @Override
    List<String> args() {
      List<String> a = super.args();
      a.add(service.name());
      return a;
    }
  }

  /** {@code start|restart NAME}, which may also switch MLflow's auth mode. */
  abstract static class StartingService extends OneService {
    @CommandLine.ArgGroup(exclusive = true, multiplicity = "0..1")
    AuthMode mode;

    StartingService(String verb) {
      super(verb);
    }

    @Override
    List<String> args() {
      List<String> a = super.args();
      if (mode != null) mode.addTo(a);
      return a;
    }
  }

  @Command(
      name = "stop",
      mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "Stop one service (SIGTERM, then SIGKILL after a grace period); its data stays on disk.")
  static final class Stop extends OneService {
    Stop() {
      super("stop");
    }
  }

  @Command(
      name = "start",
      mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = {
        "Start one service and wait until it is healthy (no-op if it already runs).",
        "mlflow needs minio running (its artifact store)."})
  static final class Start extends StartingService {
    Start() {
      super("start");
    }
  }

  @Command(
      name = "restart",
      mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "Stop, then start one service and wait until it is healthy; its data stays on disk.")
  static final class Restart extends StartingService {
    Restart() {
      super("restart");
    }
  }
}
