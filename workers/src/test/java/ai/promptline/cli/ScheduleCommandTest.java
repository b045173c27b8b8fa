package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workers.Settings;
import ai.promptline.workflows.model.CampaignResult;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code campaign schedule} and {@code schedule list|pause|resume|delete} without services (every
 * endpoint at a closed port): bad arguments give one clear line and a non-zero exit, and the local
 * checks (cron, time zone, id, the campaign file) come before any service is contacted.
 */
class ScheduleCommandTest {
  @TempDir static Path dir;
  static BadInputs.Fixture fixture;
  static Map<String, String> offline;
  static Path good;

  @BeforeAll
  static void files() {
    fixture = new BadInputs.Fixture(dir);
    offline = BadInputsTest.offline(fixture);
    good = fixture.file(BadInputs.GOOD);
  }

  /**
   * The CLI with {@code campaign schedule} in place: CampaignCommand lists {@link
   * ScheduleCommand.Create} among its subcommands; until it does, it is added here.
   */
  static CliRun cli(String... args) {
    return cli(offline, args);
  }

  /** {@link #cli(String...)} with {@code env} over the process environment. */
  static CliRun cli(Map<String, String> env, String... args) {
    return Settings.withEnvironment(env, () -> {
      CommandLine cl = Main.newCommandLine();
      CommandLine campaign = cl.getSubcommands().get("campaign");
      if (!campaign.getSubcommands().containsKey("schedule")) campaign.addSubcommand(new ScheduleCommand.Create());
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      cl.setOut(new PrintWriter(out, true));
      cl.setErr(new PrintWriter(err, true));
      int code = cl.execute(args);
      return new CliRun(code, out.toString(), err.toString());
    });
  }

  /** One {@code error:} line with every fragment, a non-zero exit, nothing on stdout. */
  static void refused(CliRun r, String... fragments) {
    List<String> lines = r.err().strip().lines().toList();
    assertTrue(r.code() != 0, "exit 0: " + r);
    assertEquals(1, lines.size(), r.err());
    assertTrue(lines.get(0).startsWith("error: "), r.err());
    for (String f : fragments) assertTrue(lines.get(0).contains(f), "missing '" + f + "' in: " + lines.get(0));
    assertEquals("", r.out().strip(), "stdout: " + r.out());
  }

  @Test
  void badCron_isRefusedBeforeAnyServiceIsContacted() {
    CliRun r = cli("campaign", "schedule", good.toString(), "--cron", "0 25 * * *");
    refused(r, "--cron \"0 25 * * *\" is not a valid cron expression", "field 2 (hour) '25'", "must be 0-23", "e.g. \"0 2 * * *\"");
    assertTrue(!r.err().contains("Temporal") && !r.err().contains("MinIO"), r.err());
  }

  @Test
  void badCron_comesBeforeTheCampaignFile() {
    refused(cli("campaign", "schedule", dir.resolve("none.yaml").toString(), "--cron", "0 2 * *"), "it has 4 fields",
        "give exactly 5");
  }

  @Test
  void goodCron_getsAsFarAsTemporal() {
    // every local check passes: the first thing that fails is the (closed) Temporal endpoint
    refused(cli("campaign", "schedule", good.toString(), "--cron", "0 2 * * *"), "cannot reach Temporal at 127.0.0.1:",
        "./promptline services up");
  }

  @Test
  void missingCron_badName_badZone_badFile() {
    refused(cli("campaign", "schedule", good.toString()), "Missing required option: '--cron=EXPR'", "campaign schedule --help");
    refused(cli("campaign", "schedule", good.toString(), "--cron", "@daily", "--name", "my schedule!"),
        "--name 'my schedule!' is not a schedule id", "e.g. nightly-b2n");
    refused(cli("campaign", "schedule", good.toString(), "--cron", "@daily", "--time-zone", "Mars/Olympus"),
        "--time-zone 'Mars/Olympus' is not a time zone", "Europe/Berlin");
    refused(cli("campaign", "schedule", dir.resolve("none.yaml").toString(), "--cron", "@daily"), "none.yaml does not exist");
    refused(cli("campaign", "schedule", good.toString(), "--cron", "@daily", "--max-runs", "1"), "over the limit of 1 (--max-runs)",
        "--yes");
  }

  @Test
  void scheduleSubcommands_badArguments() {
    refused(cli("schedule", "pause", "no such id"), "schedule 'no such id' is not a schedule id");
    refused(cli("schedule", "delete", ""), "schedule '' is not a schedule id");
    refused(cli("schedule", "pause"), "Missing required parameter: 'ID'", "promptline schedule pause --help");
    refused(cli("schedule", "resume", "x", "--bogus"), "--bogus", "promptline schedule resume --help");
    refused(cli("schedule", "frobnicate"), "frobnicate", "promptline schedule --help");
    refused(cli("schedule", "list"), "cannot reach Temporal at 127.0.0.1:");
    refused(cli("schedule", "pause", "nightly-x", "--note", "quiet week"), "cannot reach Temporal at 127.0.0.1:");
  }

  @Test
  void help_listsTheCommands() {
    CliRun top = cli("--help");
    assertTrue(top.out().contains("schedule"), top.out());
    CliRun s = cli("schedule", "--help");
    for (String sub : List.of("list", "pause", "resume", "delete")) assertTrue(s.out().contains("  " + sub), s.out());
    CliRun c = cli("campaign", "schedule", "--help");
    assertTrue(c.out().contains("--cron=EXPR") && c.out().contains("overlap policy SKIP") && c.out().contains("--name=ID"), c.out());
  }

  @Test
  void outcome_saysWhenNothingWasRecomputed() {
    CampaignResult allReused = new CampaignResult("k", "r", "FINISHED", List.of(), new CampaignResult.Counts(12, 0, 12, 0, 0), null, null);
    assertEquals("finished: 12 runs: 12 reused, 0 computed — nothing changed, nothing was recomputed", ScheduleCommand.outcome(allReused));
    CampaignResult mixed = new CampaignResult("k", "r", "FAILED", List.of(), new CampaignResult.Counts(10, 3, 4, 2, 1),
        "3 of 10 runs did not finish (failure policy: none)", null);
    assertEquals("failed: 10 runs: 4 reused, 3 computed, 2 failed, 1 killed (3 of 10 runs did not finish (failure policy: none))",
        ScheduleCommand.outcome(mixed));
    CampaignResult one = new CampaignResult("k", "r", "FINISHED", List.of(), new CampaignResult.Counts(1, 1, 0, 0, 0), null, null);
    assertEquals("finished: 1 run: 0 reused, 1 computed", ScheduleCommand.outcome(one));
  }

  @Test
  void defaultId_isNightlyPlusTheCampaignName() {
    assertEquals("nightly-bad-inputs-good", ScheduleCommand.defaultId("bad-inputs-good"));
    assertEquals("nightly-b2n", ScheduleCommand.checkId("nightly-b2n", "--name"));
  }
}
