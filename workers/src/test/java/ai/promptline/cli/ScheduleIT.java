package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workers.CampaignSubmitter;
import ai.promptline.workers.Connections;
import ai.promptline.workers.DemoAssets;
import ai.promptline.workers.PromptlineWorker;
import ai.promptline.workers.ServiceChecks;
import ai.promptline.workers.Settings;
import ai.promptline.workflows.model.CampaignPlan;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleDescription;
import io.temporal.client.schedules.ScheduleOptions;
import io.temporal.client.schedules.ScheduleSpec;
import io.temporal.client.schedules.Schedule;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schedules against the real services ({@code PROMPTLINE_IT=1}, endpoints from the {@code
 * PROMPTLINE_*} variables), with an in-process worker and a bucket of its own: an invalid cron
 * creates nothing; {@code campaign schedule} creates the schedule; a trigger runs the tiny
 * campaign (2 zero-shot runs) to the end; a second trigger computes nothing (every run reused) and
 * {@code schedule list} says so; pause shows in the list, delete removes it. Also: every cron form
 * the local check accepts, the server accepts too.
 */
@Tag("integration")
class ScheduleIT {
  @TempDir Path dir;

  static final String SUFFIX = Long.toString(System.currentTimeMillis(), 36);

  @Test
  void schedule_trigger_reuse_pause_delete() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PROMPTLINE_BUCKET", "promptline-it-sched-" + SUFFIX);
    Settings settings = Settings.withEnvironment(env, Settings::fromEnv);
    ServiceChecks.minio(settings, true);
    ObjectStore store = settings.store();
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("assets"));
    Path file = dir.resolve("nightly.yaml");
    String name = "sched-it-" + SUFFIX;
    Files.writeString(file, "name: " + name + "\nexperiment: " + name + "\nmodel: {name: tiny, weights: " + assets.weights() + "}\n"
        + "datasets: [{name: Scenes, root: " + assets.datasetRoot() + "}]\nmethods: [{name: zsclip}]\nshots: [1, 2]\nseeds: [1]\n",
        StandardCharsets.UTF_8);
    CampaignSpec spec = Settings.withEnvironment(env, () -> CampaignCommand.load(file));
    String planKey = CampaignPlan.fullPlanKey(CampaignSubmitter.prepare(spec).campaignKey());
    String id = "nightly-" + name;

    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (Connections conn = new Connections(settings, meters);
        PromptlineWorker worker = new PromptlineWorker(conn.client(), conn.backends(meters), PromptlineWorker.Options.local())) {
      worker.start();
      ScheduleClient schedules = ScheduleCommand.scheduleClient(conn);
      try {
        // an invalid cron: refused, and nothing exists afterwards (no schedule, no plan)
        CliRun bad = ScheduleCommandTest.cli(env, "campaign", "schedule", file.toString(), "--cron", "0 2 31 2 *");
        ScheduleCommandTest.refused(bad, "field 3 (day-of-month) '31' never occurs", "would never run");
        assertTrue(ScheduleCommand.find(schedules, id).isEmpty(), "a schedule was created for an invalid cron");
        assertFalse(store.exists(planKey), "a plan was written for an invalid cron");
        assertEquals(List.of(), store.list("campaigns/"), "objects were written for an invalid cron");

        // create
        CliRun created = ScheduleCommandTest.cli(env, "campaign", "schedule", file.toString(), "--cron", "0 2 * * *");
        assertEquals(0, created.code(), created.toString());
        System.out.print("$ promptline campaign schedule nightly.yaml --cron \"0 2 * * *\"\n" + created.out());
        assertTrue(created.out().contains("created schedule " + id + ": campaign " + name + " (2 runs) at \"0 2 * * *\" (UTC),"
            + " overlap policy skip"), created.out());
        assertTrue(store.exists(planKey), "the plan is in the store");
        ScheduleDescription d = ScheduleCommand.find(schedules, id).orElseThrow();
        assertEquals(io.temporal.api.enums.v1.ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_SKIP, d.getSchedule().getPolicy().getOverlap());
        ScheduleActionStartWorkflow action = (ScheduleActionStartWorkflow) d.getSchedule().getAction();
        assertEquals("Campaign", action.getWorkflowType());
        assertEquals(ai.promptline.workflows.api.TaskQueues.CPU, action.getOptions().getTaskQueue());
        assertEquals(CampaignSubmitter.workflowId(spec), action.getOptions().getWorkflowId());
        String listed = list(env);
        assertTrue(listed.contains(id + "  cron \"0 2 * * *\" UTC  active  next "), listed);
        assertTrue(listed.contains("02:00:00 UTC") && listed.contains("last: none yet") && listed.contains("campaign " + name + " (2 runs) from "),
            listed);
        assertFalse(listed.contains("note:"), "the creation note repeats the campaign line: " + listed);

        // the same id again: refused with the fix
        ScheduleCommandTest.refused(ScheduleCommandTest.cli(env, "campaign", "schedule", file.toString(), "--cron", "@daily"),
            "schedule '" + id + "' already exists", "schedule delete " + id, "--name");

        // first scheduled campaign: computes both runs
        CampaignResult first = triggerAndWait(conn, schedules, id, 1);
        assertEquals(Stages.FINISHED, first.status());
        assertEquals(new CampaignResult.Counts(2, 2, 0, 0, 0), first.counts());
        // second: nothing changed, so every run is reused and nothing is computed
        CampaignResult second = triggerAndWait(conn, schedules, id, 2);
        assertEquals(Stages.FINISHED, second.status());
        assertEquals(new CampaignResult.Counts(2, 0, 2, 0, 0), second.counts());
        String last = ScheduleCommand.lastWorkflowId(schedules.getHandle(id).describe());
        listed = list(env);
        assertTrue(listed.contains("last: " + last + " finished: 2 runs: 2 reused, 0 computed — nothing changed, nothing was recomputed"),
            listed);
        assertTrue(listed.contains("started 2 campaign(s)"), listed);

        // pause: the list shows it, with the note; resume
        CliRun paused = ScheduleCommandTest.cli(env, "schedule", "pause", id, "--note", "quiet week");
        assertEquals(0, paused.code(), paused.toString());
        assertTrue(paused.out().contains("paused schedule " + id), paused.out());
        listed = list(env);
        assertTrue(listed.contains(id + "  cron") && listed.contains("  PAUSED  next - (paused)") && listed.contains("note: quiet week"),
            listed);
        assertTrue(ScheduleCommandTest.cli(env, "schedule", "pause", id).out().contains("already paused"));
        CliRun resumed = ScheduleCommandTest.cli(env, "schedule", "resume", id);
        assertEquals(0, resumed.code(), resumed.toString());
        assertTrue(list(env).contains("  active  next "), "resumed");

        // delete: gone from the list; a later pause names the unknown id
        CliRun deleted = ScheduleCommandTest.cli(env, "schedule", "delete", id);
        assertEquals(0, deleted.code(), deleted.toString());
        assertTrue(deleted.out().contains("deleted schedule " + id + "; the campaigns it started are not affected (the last: " + last + ")"),
            deleted.out());
        assertFalse(list(env).contains(id), "the deleted schedule is still listed");
        ScheduleCommandTest.refused(ScheduleCommandTest.cli(env, "schedule", "pause", id), "no schedule '" + id + "' in namespace",
            "schedule list shows the schedules");
      } finally {
        try {
          schedules.getHandle(id).delete();
        } catch (RuntimeException alreadyGone) {
          // deleted by the test
        }
      }
    }
  }

  /** Every form {@link Cron} accepts, Temporal's schedule spec accepts too (it is a strict subset). */
  @Test
  void everyAcceptedForm_theServerAcceptsToo() {
    Settings settings = Settings.fromEnv();
    try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
      ScheduleClient schedules = ScheduleCommand.scheduleClient(conn);
      int i = 0;
      for (String expr : List.of("0 2 * * *", "*/15 * * * *", "0 2 * * MON-FRI", "30 1 1,15 * *", "0 0 * * 7", "0 9-17/2 * JAN-MAR sun",
          "59 23 31 12 6", "0 0 29 2 *", "0-30/10 1,2,3 1-7 */3 1-5", "@weekly", "@yearly")) {
        String cron = Cron.validate(expr);
        String id = "cron-probe-" + SUFFIX + "-" + (i++);
        schedules.createSchedule(id, Schedule.newBuilder()
            .setAction(ScheduleActionStartWorkflow.newBuilder().setWorkflowType("Campaign").setOptions(io.temporal.client.WorkflowOptions
                .newBuilder().setWorkflowId("cron-probe").setTaskQueue("cron-probe-nobody").build()).build())
            .setSpec(ScheduleSpec.newBuilder().setCronExpressions(List.of(cron)).setTimeZoneName("Europe/Berlin").build())
            .setState(io.temporal.client.schedules.ScheduleState.newBuilder().setPaused(true).build()).build(),
            ScheduleOptions.newBuilder().build());
        try {
          assertFalse(schedules.getHandle(id).describe().getInfo().getNextActionTimes().isEmpty() && !expr.equals("0 0 29 2 *"),
              expr + ": the server computes no next time");
        } finally {
          schedules.getHandle(id).delete();
        }
      }
    }
  }

  static String list(Map<String, String> env) {
    CliRun r = ScheduleCommandTest.cli(env, "schedule", "list");
    assertEquals(0, r.code(), r.toString());
    System.out.print("$ promptline schedule list\n" + r.out());
    return r.out();
  }

  /** Triggers schedule {@code id} now, waits until its {@code n}th action is recorded and its campaign has ended. */
  static CampaignResult triggerAndWait(Connections conn, ScheduleClient schedules, String id, int n) throws Exception {
    schedules.getHandle(id).trigger();
    long deadline = System.currentTimeMillis() + 60_000;
    ScheduleDescription d = schedules.getHandle(id).describe();
    while (d.getInfo().getNumActions() < n) {
      assertTrue(System.currentTimeMillis() < deadline, "the trigger started no campaign: " + d.getInfo().getNumActions() + " actions");
      Thread.sleep(200);
      d = schedules.getHandle(id).describe();
    }
    String wf = ScheduleCommand.lastWorkflowId(d);
    assertTrue(wf != null && wf.startsWith(d.getSchedule().getAction() instanceof ScheduleActionStartWorkflow a
        ? a.getOptions().getWorkflowId() + "-" : "?"), "campaign workflow id " + wf);
    return conn.client().newUntypedWorkflowStub(wf).getResult(180, TimeUnit.SECONDS, CampaignResult.class);
  }
}
