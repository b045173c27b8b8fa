package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The {@code services} verbs turn into the right services.sh arguments, and a wrong service name
 * or flag is refused by the parser (one line, exit 2) before the script runs.
 */
class ServicesCommandTest {
  /** Parses a command line and returns the services.sh arguments its verb would run. */
  static List<String> scriptArgs(String... args) {
    CommandLine.ParseResult pr = Main.newCommandLine().parseArgs(args);
    while (pr.hasSubcommand()) pr = pr.subcommand();
    Object verb = pr.commandSpec().userObject();
    return assertInstanceOf(ServicesCommand.Verb.class, verb).args();
  }

  @Test
  void oneServiceVerbs_passTheVerbAndTheName() {
    assertEquals(List.of("stop", "mlflow"), scriptArgs("services", "stop", "mlflow"));
    assertEquals(List.of("start", "minio"), scriptArgs("services", "start", "minio"));
    assertEquals(List.of("restart", "temporal"), scriptArgs("services", "restart", "temporal"));
    assertEquals(List.of("restart", "mlflow", "--auth"), scriptArgs("services", "restart", "mlflow", "--auth"));
    assertEquals(List.of("start", "mlflow", "--no-auth"), scriptArgs("services", "start", "mlflow", "--no-auth"));
  }

  @Test
  void up_passesTheAuthMode_onlyWhenGiven() {
    assertEquals(List.of("up"), scriptArgs("services", "up"));
    assertEquals(List.of("up", "--auth"), scriptArgs("services", "up", "--auth"));
    assertEquals(List.of("up", "--no-auth"), scriptArgs("services", "up", "--no-auth"));
    assertEquals(List.of("status"), scriptArgs("services", "status"));
    assertEquals(List.of("down"), scriptArgs("services", "down"));
  }

  @Test
  void unknownOrMissingName_isOneLineListingTheValidNames_exit2() {
    CliRun bad = CliRun.of("services", "stop", "postgres");
    assertEquals(2, bad.code(), bad.err());
    assertEquals(1, bad.err().strip().lines().count(), bad.err());
    assertTrue(bad.err().contains("postgres") && bad.err().contains("temporal, mlflow, minio"), bad.err());

    CliRun missing = CliRun.of("services", "restart");
    assertEquals(2, missing.code(), missing.err());
    assertEquals(1, missing.err().strip().lines().count(), missing.err());
    assertTrue(missing.err().contains("NAME"), missing.err());

    CliRun both = CliRun.of("services", "up", "--auth", "--no-auth");
    assertEquals(2, both.code(), both.err());
    assertTrue(both.err().contains("mutually exclusive"), both.err());
  }

  @Test
  void help_namesTheVerbsAndTheServices() {
    CliRun top = CliRun.of("services", "--help");
    assertEquals(0, top.code());
    for (String verb : List.of("up", "down", "status", "install", "env", "stop", "start", "restart"))
      assertTrue(top.out().contains("  " + verb + " "), verb + " missing from:\n" + top.out());
    CliRun restart = CliRun.of("services", "restart", "--help");
    assertEquals(0, restart.code());
    assertTrue(restart.out().contains("One of: temporal, mlflow, minio."), restart.out());
    assertTrue(CliRun.of("services", "up", "-h").out().contains("--auth"));
  }

  @Test
  void scriptCommandLine_isBashTheScriptAndTheArguments() {
    ServicesScript s = new ServicesScript(Path.of("/repo"));
    assertEquals(List.of("bash", "/repo/deploy/local/services.sh", "restart", "minio"), s.command(List.of("restart", "minio")));
  }
}
