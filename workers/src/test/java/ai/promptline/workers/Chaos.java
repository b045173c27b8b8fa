package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.ObjectStore;
import ai.promptline.workflows.RunWorkflow;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages.RunResult;
import com.fasterxml.jackson.databind.JsonNode;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.messages.Item;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/** The fault injectors and the checks of {@link ChaosIT}, each small and named for what it does. */
final class Chaos {
  static final Duration MINUTES_3 = Duration.ofMinutes(3);

  private Chaos() {}

  enum Fault { KILL, TEMPORAL_RESTART, TEMPORAL_RESTART_IN_TRAINING, MINIO_OUTAGE, MLFLOW_OUTAGE, CORRUPT_FEATURES, CORRUPT_CHECKPOINT }

  /**
   * The seeded fault order: {@code kills} SIGKILLs (one of them the checkpoint-corruption kill)
   * with the other faults spread between them; gaps of 2-8 s, restart delays of 0.5-4 s.
   */
  static final class Schedule {
    private final Random rnd;
    private final List<Fault> faults = new ArrayList<>();

    Schedule(Random rnd, int kills) {
      this.rnd = rnd;
      List<Fault> others = new ArrayList<>(List.of(Fault.CORRUPT_FEATURES, Fault.TEMPORAL_RESTART, Fault.CORRUPT_CHECKPOINT,
          Fault.MINIO_OUTAGE, Fault.MLFLOW_OUTAGE, Fault.TEMPORAL_RESTART_IN_TRAINING));
      int plainKills = Math.max(0, kills - 1);
      // the others at seeded positions among the kills, in their listed order (features first: they must still be read)
      int[] at = new int[others.size()];
      for (int i = 0; i < at.length; i++) at[i] = rnd.nextInt(plainKills + 1);
      Arrays.sort(at);
      at[0] = Math.min(at[0], 1);
      int o = 0;
      for (int k = 0; k <= plainKills; k++) {
        while (o < at.length && at[o] == k) faults.add(others.get(o++));
        if (k < plainKills) faults.add(Fault.KILL);
      }
    }

    List<Fault> faults() {
      return faults;
    }

    long gapMillis() {
      return 2000 + rnd.nextInt(6000);
    }

    long restartDelayMillis() {
      return 500 + rnd.nextInt(3500);
    }
  }

  /** {@code deploy/local/services.sh stop|start|restart NAME} on the default local services. */
  static final class Services {
    private final Path root;

    Services(Path root) {
      this.root = root;
    }

    void stop(String name) throws Exception {
      run("stop", name);
    }

    void start(String name) throws Exception {
      run("start", name);
    }

    void restart(String name) throws Exception {
      run("restart", name);
    }

    void ensureUp() throws Exception {
      run("up", null);
    }

    private void run(String verb, String name) throws Exception {
      List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("deploy/local/services.sh").toString(), verb));
      if (name != null) cmd.add(name);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertEquals(0, p.waitFor(), String.join(" ", cmd) + ":\n" + out);
    }
  }

  /** Worker processes (one at a time), killed with SIGKILL and restarted. */
  static final class Workers {
    private final Map<String, String> env;
    private final Path logDir;
    private final List<Path> logs = new ArrayList<>();
    private Process current;

    Workers(Map<String, String> env, Path logDir) throws Exception {
      this.env = env;
      this.logDir = Files.createDirectories(logDir);
    }

    void start() throws Exception {
      Path log = logDir.resolve("worker-" + (logs.size() + 1) + ".log");
      logs.add(log);
      current = WorkerCrashIT.startWorker(env, log);
    }

    void killAll() throws Exception {
      if (current != null) current.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no drain
      current = null;
    }

    void killAndRestart(long delayMillis) throws Exception {
      killAll();
      Thread.sleep(delayMillis);
      start();
    }

    void stopAll() throws Exception {
      killAll();
    }

    List<Path> logs() {
      return logs;
    }

    String logTails() throws Exception {
      StringBuilder sb = new StringBuilder();
      for (Path l : logs.subList(Math.max(0, logs.size() - 3), logs.size())) {
        List<String> lines = Files.readAllLines(l);
        sb.append("\n--- ").append(l.getFileName()).append('\n')
            .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
      }
      return sb.toString();
    }
  }

  /** A CLI process ({@code ai.promptline.cli.Main ARGS}) on the test class path. */
  static Process cli(Map<String, String> env, Path log, String... args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "-Dai.djl.offline=true",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"), "ai.promptline.cli.Main"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  /** A small tmpfs (needs root / CAP_SYS_ADMIN); {@link #mounted()} is false with the reason otherwise. */
  record Tmpfs(Path dir, boolean mounted, String why) {
    static Tmpfs mount(Path dir, String size) throws Exception {
      Files.createDirectories(dir);
      Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).strip();
      return p.waitFor() == 0 ? new Tmpfs(dir, true, null) : new Tmpfs(dir, false, "mount -t tmpfs failed: " + out);
    }

    void unmount() throws Exception {
      if (mounted) new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start().waitFor();
    }
  }

  /** Watches the campaign's checkpoints in the store to time faults "while a run trains". */
  static final class Training {
    private final ObjectStore store;
    private final List<String> runKeys;
    private final int epochs;

    Training(ObjectStore store, List<String> runKeys, int epochs) {
      this.store = store;
      this.runKeys = runKeys;
      this.epochs = epochs;
    }

    /** Waits until some run has written a new checkpoint and is not done; returns its run key. */
    String awaitTraining(Duration timeout) throws Exception {
      Map<String, Integer> before = new HashMap<>();
      for (String k : runKeys) before.put(k, checkpoints(k).size());
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        for (String k : runKeys) {
          int n = checkpoints(k).size();
          if (n > before.get(k) && n < epochs - 2) return k;
        }
        Thread.sleep(300);
      }
      throw new AssertionError("no run was training within " + timeout + "; checkpoints: " + before);
    }

    String newestCheckpoint(String runKey) {
      List<String> c = checkpoints(runKey);
      assertTrue(!c.isEmpty(), "run " + runKey + " has no checkpoint");
      return c.get(c.size() - 1);
    }

    /** A test-feature blob of the campaign once it exists (shared by every run of the dataset). */
    String awaitFeatureBlob(Duration timeout) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        for (String k : store.list("features/")) {
          // the test-transform blobs (base and novel test images) are read by every run's evaluation
          byte[] data = store.find(k).orElse(new byte[0]);
          if (data.length < 8) continue;
          long n = java.nio.ByteBuffer.wrap(data, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
          String header = new String(data, 8, (int) Math.min(n, data.length - 8), java.nio.charset.StandardCharsets.UTF_8);
          if (header.contains("\"transform\":\"test")) return k;
        }
        Thread.sleep(300);
      }
      throw new AssertionError("no feature blob appeared within " + timeout);
    }

    private List<String> checkpoints(String runKey) {
      return store.list("runs/" + runKey + "/ckpt/");
    }
  }

  enum Corruption { TRUNCATE, BIT_FLIP }

  /** A raw S3 client on the campaign's bucket, with the key the workers use. */
  static MinioClient raw(Settings s) {
    Settings.S3Key key = s.s3Key();
    return MinioClient.builder().endpoint(s.storeEndpoint()).credentials(key.access(), key.secret()).build();
  }

  /**
   * Damages an object in place as bit rot or a torn write would: same key, same recorded metadata
   * (its SHA-256 included), different bytes.
   */
  static void corrupt(Settings s, String key, Corruption how) throws Exception {
    MinioClient c = raw(s);
    StatObjectResponse stat = c.statObject(StatObjectArgs.builder().bucket(s.bucket()).object(key).build());
    byte[] data;
    try (InputStream in = c.getObject(GetObjectArgs.builder().bucket(s.bucket()).object(key).build())) {
      data = in.readAllBytes();
    }
    byte[] bad = how == Corruption.TRUNCATE ? Arrays.copyOf(data, data.length / 2) : data.clone();
    if (how == Corruption.BIT_FLIP) bad[bad.length - 5] ^= 0x10; // in the tensor data, past the header
    c.putObject(PutObjectArgs.builder().bucket(s.bucket()).object(key).stream(new ByteArrayInputStream(bad), bad.length, -1)
        .userMetadata(stat.userMetadata()).contentType(stat.contentType()).build());
  }

  /**
   * How many executions Temporal has of a workflow id started at or after {@code since} (1 = started
   * once). Run workflow ids are content keys, so the reference campaign's runs share them: they are
   * older than {@code since}.
   */
  static long executions(WorkflowClient client, String workflowId, java.time.Instant since) {
    return client.listExecutions("WorkflowId = '" + workflowId + "' AND StartTime >= '" + since + "'").count();
  }

  /**
   * Terminates running executions of these workflow ids: left by an earlier chaos run that was
   * aborted (a run workflow executes against the bucket of whichever worker takes it, so a stale one
   * would read the wrong bucket). Returns how many there were.
   */
  static int terminateStale(WorkflowClient client, List<String> workflowIds) {
    int n = 0;
    for (String id : workflowIds) {
      boolean running = client.listExecutions("WorkflowId = '" + id + "' AND ExecutionStatus = 'Running'").findAny().isPresent();
      if (running) {
        client.newUntypedWorkflowStub(id).terminate("stale run of an aborted chaos suite");
        n++;
      }
    }
    return n;
  }

  static boolean finished(WorkflowClient client, String workflowId) {
    return client.listExecutions("WorkflowId = '" + workflowId + "'")
        .anyMatch(e -> e.getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
  }

  /** Everything the chaos campaign left, compared with the undisturbed reference. */
  static final class Report {
    int runsFinished;
    int runs;
    int identicalResults;
    int duplicateMlflowRuns;
    int duplicateMetricPoints;
    int missingMetricPoints;
    int lossValuesDiffering;
    int runningLeft;
    int runsStartedTwice;
    int orphanedOrPartial;
    int objectsDiffering;
    int corruptObjects;
    int featureWarnings;
    int checkpointWarnings;
    int tempUploads;
    int scratchTemp;
    List<String> problems = new ArrayList<>();
    String scratch = "";
    Path scratchDir;

    static Report compare(CampaignResult reference, CampaignResult chaos, Settings refSettings, Settings settings,
        CampaignSpec refSpec, CampaignSpec spec, WorkflowClient client, Path scratchDir, java.time.Instant since) throws Exception {
      Report r = new Report();
      r.scratchDir = scratchDir;
      Map<String, RunResult> ref = new HashMap<>();
      for (RunResult x : reference.runs()) ref.put(x.runKey(), x);
      r.runs = chaos.runs().size();
      for (RunResult x : chaos.runs()) {
        if ("FINISHED".equals(x.status())) r.runsFinished++;
        RunResult y = ref.get(x.runKey());
        if (y != null && x.eval() != null && y.eval() != null && x.eval().accBase() == y.eval().accBase()
            && x.eval().accNovel() == y.eval().accNovel() && x.eval().hm() == y.eval().hm())
          r.identicalResults++;
        else r.problems.add("result of " + x.config().displayName() + " differs: " + x.eval() + " vs " + (y == null ? null : y.eval()));
        long n = executions(client, RunWorkflow.workflowId(x.runKey()), since);
        if (n != 1) { r.runsStartedTwice++; r.problems.add("run " + x.config().displayName() + " has " + n + " executions in Temporal"); }
      }
      r.objects(refSettings, settings);
      r.mlflow(refSettings, refSpec, settings, spec);
      r.scratch();
      return r;
    }

    /** Every object of the chaos bucket against the reference bucket's (raw listing: temp keys included). */
    private void objects(Settings refSettings, Settings settings) throws Exception {
      Map<String, String> a = digests(refSettings);
      Map<String, String> b = digests(settings);
      // temporary uploads of a worker killed mid-put: never listed or read as data, swept after an hour
      tempUploads = (int) b.keySet().stream().filter(k -> k.startsWith(".tmp/")).count();
      b.keySet().removeIf(k -> k.startsWith(".tmp/"));
      a.keySet().removeIf(k -> k.startsWith(".tmp/"));
      // campaign records (plan, results) live under the campaign key, which names the experiment and so
      // differs between the two campaigns; each bucket must hold its campaign's plan and results once
      for (Map<String, String> m : List.of(a, b)) {
        long plans = m.keySet().stream().filter(k -> k.startsWith("campaigns/") && k.endsWith("/plan.json")).count();
        long results = m.keySet().stream().filter(k -> k.startsWith("campaigns/") && k.endsWith("/results.json")).count();
        if (plans != 1 || results != 1) { orphanedOrPartial++; problems.add("campaign records: " + plans + " plans, " + results + " results"); }
        m.keySet().removeIf(k -> k.startsWith("campaigns/"));
      }
      for (String k : b.keySet()) if (!a.containsKey(k)) { orphanedOrPartial++; problems.add("object only under chaos: " + k); }
      for (String k : a.keySet()) if (!b.containsKey(k)) { orphanedOrPartial++; problems.add("object missing under chaos: " + k); }
      for (var e : b.entrySet()) {
        String k = e.getKey();
        // result and location records name the MLflow run ids, which differ between the two experiments
        if (!a.containsKey(k) || k.endsWith("/result.json") || k.endsWith("/mlflow.json")) continue;
        if (!e.getValue().equals(a.get(k))) { objectsDiffering++; problems.add("object differs from the reference: " + k); }
      }
      ObjectStore store = settings.store();
      for (String k : b.keySet()) {
        try {
          store.find(k);
        } catch (ObjectStore.StoreException ex) {
          corruptObjects++;
          problems.add("object fails verification: " + k + ": " + ex.getMessage());
        }
      }
    }

    private static Map<String, String> digests(Settings s) throws Exception {
      MinioClient c = raw(s);
      Map<String, String> out = new TreeMap<>();
      for (Result<Item> it : c.listObjects(ListObjectsArgs.builder().bucket(s.bucket()).recursive(true).build())) {
        String key = it.get().objectName();
        try (InputStream in = c.getObject(GetObjectArgs.builder().bucket(s.bucket()).object(key).build())) {
          byte[] data = in.readAllBytes();
          out.put(key, key.contains("/ckpt/") ? checkpointDigest(data) : ContentKeys.sha256Hex(data));
        }
      }
      return out;
    }

    /**
     * A checkpoint's digest without the wall-clock times in its metric history (when each epoch's
     * loss was first logged, which differs between any two runs): its tensors and the rest of its
     * metadata, step, loss and lr included, must be identical.
     */
    static String checkpointDigest(byte[] data) throws Exception {
      int n = (int) java.nio.ByteBuffer.wrap(data, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
      com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
      com.fasterxml.jackson.databind.node.ObjectNode header = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(
          new String(data, 8, n, java.nio.charset.StandardCharsets.UTF_8));
      JsonNode meta = header.path("__metadata__");
      if (meta.has("history")) {
        StringBuilder h = new StringBuilder();
        for (String row : meta.get("history").asText().split(";")) h.append(row, 0, row.lastIndexOf(',')).append(';');
        ((com.fasterxml.jackson.databind.node.ObjectNode) meta).put("history", h.toString());
      }
      byte[] rest = Arrays.copyOfRange(data, 8 + n, data.length);
      return ContentKeys.sha256Hex((header.toString() + ContentKeys.sha256Hex(rest)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private void mlflow(Settings refSettings, CampaignSpec refSpec, Settings settings, CampaignSpec spec) throws Exception {
      MlflowRest m = MlflowRest.of(settings);
      List<JsonNode> refRuns = m.runs(m.experimentId(refSpec.experiment()));
      List<JsonNode> runs = m.runs(m.experimentId(spec.experiment()));
      Map<String, List<JsonNode>> byKey = new TreeMap<>();
      int parents = 0;
      for (JsonNode run : runs) {
        if ("RUNNING".equals(run.path("info").path("status").asText())) {
          runningLeft++;
          problems.add("MLflow run left RUNNING: " + run.path("info").path("run_name").asText());
        }
        String key = MlflowRest.tag(run, "promptline.run_key");
        if (key == null) parents++;
        else byKey.computeIfAbsent(key, x -> new ArrayList<>()).add(run);
        String w = MlflowRest.tag(run, "promptline.warnings");
        if (w != null)
          for (String line : w.lines().filter(l -> !l.isBlank()).toList()) {
            if (line.contains("checkpoint")) checkpointWarnings++;
            else featureWarnings++;
          }
      }
      if (parents != 1) { duplicateMlflowRuns += Math.abs(parents - 1); problems.add(parents + " campaign parent runs"); }
      Map<String, JsonNode> refByKey = new HashMap<>();
      for (JsonNode run : refRuns) {
        String key = MlflowRest.tag(run, "promptline.run_key");
        if (key != null) refByKey.put(key, run);
      }
      for (var e : byKey.entrySet()) {
        if (e.getValue().size() != 1) {
          duplicateMlflowRuns += e.getValue().size() - 1;
          problems.add(e.getValue().size() + " MLflow runs for run key " + e.getKey());
        }
        JsonNode run = e.getValue().get(0);
        JsonNode refRun = refByKey.get(e.getKey());
        Map<Long, List<Double>> got = history(m, run, "loss");
        Map<Long, List<Double>> want = refRun == null ? Map.of() : history(m, refRun, "loss");
        for (var step : want.entrySet()) {
          List<Double> v = got.get(step.getKey());
          if (v == null) { missingMetricPoints++; problems.add("loss step " + step.getKey() + " missing in " + e.getKey()); continue; }
          if (v.size() > 1) { duplicateMetricPoints += v.size() - 1; problems.add("loss step " + step.getKey() + " logged " + v.size() + "x in " + e.getKey()); }
          if (!v.get(0).equals(step.getValue().get(0))) { lossValuesDiffering++; problems.add("loss step " + step.getKey() + " differs in " + e.getKey()); }
        }
        for (var step : got.entrySet())
          if (!want.containsKey(step.getKey())) { duplicateMetricPoints += step.getValue().size(); problems.add("extra loss step " + step.getKey()); }
      }
    }

    private static Map<Long, List<Double>> history(MlflowRest m, JsonNode run, String key) throws Exception {
      Map<Long, List<Double>> out = new TreeMap<>();
      m.get("/api/2.0/mlflow/metrics/get-history?run_id=" + run.path("info").path("run_id").asText() + "&metric_key=" + key)
          .path("metrics").forEach(x -> out.computeIfAbsent(x.path("step").asLong(), s -> new ArrayList<>()).add(x.path("value").asDouble()));
      return out;
    }

    /**
   * The worker scratch space after the campaign: every entry under {@code blobs/} is named by its
   * SHA-256 and must hash to it; {@code tmp/*.part} files are writes a SIGKILL interrupted (never read).
   */
    private void scratch() throws Exception {
      if (scratchDir == null) { scratch = "not mounted"; return; }
      int files = 0;
      int bad = 0;
      try (Stream<Path> s = Files.walk(scratchDir)) {
        for (Path p : s.filter(Files::isRegularFile).toList()) {
          String rel = scratchDir.relativize(p).toString();
          if (rel.startsWith("tmp/")) { scratchTemp++; continue; }
          files++;
          String name = p.getFileName().toString();
          if (!rel.startsWith("blobs/") || !ContentKeys.sha256Hex(Files.readAllBytes(p)).equals(name)) {
            bad++;
            problems.add("scratch file left partial or corrupt: " + p);
          }
        }
      }
      orphanedOrPartial += bad;
      scratch = files + " cached file(s) all verified, " + bad + " partial/corrupt, " + scratchTemp + " interrupted temp file(s) in tmp/";
    }

    int scratchFullEvents(List<Path> logs) throws Exception {
      int n = 0;
      for (Path l : logs) {
        for (String line : Files.readAllLines(l))
          if (line.contains("No space left on device") || line.toLowerCase(Locale.ROOT).contains("scratch") && line.toLowerCase(Locale.ROOT).contains("full"))
            n++;
      }
      return n;
    }

    String scratchState() {
      return scratch;
    }

    /** Integrity warnings recorded on the runs in MLflow ({@code promptline.warnings}), about feature blobs. */
    String featureWarnings() {
      return "detected: " + featureWarnings + " warning line(s) about feature blobs on the runs in MLflow; recomputed";
    }

    /** The same about checkpoints. */
    String checkpointWarnings() {
      return "detected: " + checkpointWarnings + " warning line(s) about checkpoints on the runs in MLflow; resumed from the one before";
    }

    String table(List<ChaosIT.Row> rows, int total) {
      StringBuilder sb = new StringBuilder();
      sb.append("\nChaos suite: every fault injected into ONE campaign of ").append(total)
          .append(" training runs; the run-level columns are measured on that campaign after all faults.\n\n");
      sb.append("| fault | injected | runs finished | identical to reference | duplicate MLflow runs | duplicate metric points | RUNNING left | orphaned/partial objects | notes |\n");
      sb.append("|---|---|---|---|---|---|---|---|---|\n");
      for (ChaosIT.Row row : rows)
        sb.append(String.format(Locale.ROOT, "| %s | %d | %d/%d | %d/%d | %d | %d | %d | %d | %s |%n", row.fault(), row.injected(),
            runsFinished, runs, identicalResults, runs, duplicateMlflowRuns, duplicateMetricPoints, runningLeft,
            orphanedOrPartial, row.detail()));
      sb.append(String.format(Locale.ROOT, "%nalso: runs started twice in Temporal %d; objects differing from the reference %d;"
          + " objects failing SHA-256 verification %d; loss points missing %d, differing from the reference %d;"
          + " temporary uploads under .tmp/ left by killed workers %d (never listed or read; swept after 1 h)%n", runsStartedTwice,
          objectsDiffering, corruptObjects, missingMetricPoints, lossValuesDiffering, tempUploads));
      if (!problems.isEmpty()) sb.append("problems:\n  ").append(String.join("\n  ", problems)).append('\n');
      return sb.toString();
    }

    void assertClean() {
      assertTrue(problems.isEmpty(), "chaos left problems:\n  " + String.join("\n  ", problems));
      assertEquals(runs, runsFinished);
      assertEquals(runs, identicalResults);
    }
  }
}
