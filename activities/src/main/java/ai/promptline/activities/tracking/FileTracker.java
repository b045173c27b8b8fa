package ai.promptline.activities.tracking;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A tracker that keeps MLflow's records as JSON files ({@code file:} tracking URIs): one folder per
 * run with {@code run.json} and {@code artifacts/}. For machines without an MLflow server and for
 * tests; the semantics (immutable params, appended metrics, identical metric rows stored once,
 * terminal statuses) follow MLflow.
 */
public final class FileTracker implements Tracker {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final java.util.concurrent.atomic.AtomicLong LAST_ID_TIME = new java.util.concurrent.atomic.AtomicLong();
  private final Path root;

  /** The persisted form of a run. */
  public record RunRecord(
      String runId, String experimentId, String runName, String status,
      Map<String, String> params, Map<String, String> tags, List<Metric> metrics) {}

  public FileTracker(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  @Override
  public synchronized String experimentId(String name) {
    Map<String, String> exps = readMap(root.resolve("experiments.json"));
    return exps.computeIfAbsent(name, n -> {
      String id = Integer.toString(exps.size() + 1);
      return id;
    }).transform(id -> {
      writeJson(root.resolve("experiments.json"), exps);
      return id;
    });
  }

  @Override
  public synchronized List<RunInfo> findRuns(String experimentId, String tag, String value) {
    List<RunInfo> out = new ArrayList<>();
    Path dir = root.resolve("runs");
    if (!Files.isDirectory(dir)) return out;
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.sorted().toList()) {
        // a run folder without run.json is a createRun cut short (or under way in another process)
        if (!Files.isRegularFile(p.resolve("run.json"))) continue;
        RunRecord r = read(p.getFileName().toString());
        if (r.experimentId().equals(experimentId) && value.equals(r.tags().get(tag))) out.add(info(r));
      }
    } catch (IOException e) {
      throw new TrackerException("cannot list runs under " + dir + ": " + e.getMessage(), e);
    }
    return out;
  }

  @Override
  public synchronized String createRun(String experimentId, String runName, Map<String, String> tags) {
    String id = newRunId();
    Map<String, String> t = new LinkedHashMap<>(tags);
    t.put("mlflow.runName", runName);
    write(new RunRecord(id, experimentId, runName, "RUNNING", new LinkedHashMap<>(), t, new ArrayList<>()));
    return id;
  }

  @Override
  public synchronized RunInfo getRun(String runId) {
    return info(read(runId));
  }

  /** The whole record, for tests and the CLI. */
  public synchronized RunRecord record(String runId) {
    return read(runId);
  }

  @Override
  public synchronized void setStatus(String runId, String status) {
    RunRecord r = read(runId);
    write(new RunRecord(r.runId(), r.experimentId(), r.runName(), status, r.params(), r.tags(), r.metrics()));
  }

  @Override
  public synchronized void log(String runId, Map<String, String> params, List<Metric> metrics, Map<String, String> tags) {
    RunRecord r = read(runId);
    params.forEach((k, v) -> {
      String old = r.params().putIfAbsent(k, v);
      if (old != null && !old.equals(v))
        throw new TrackerException("param '" + k + "' of run " + runId + " is '" + old + "'; params are immutable");
    });
    r.tags().putAll(tags);
    // as MLflow (measured with 3.17.2): a row identical to one stored (key, step, timestamp, value) is kept once
    for (Metric m : metrics) if (!r.metrics().contains(m)) r.metrics().add(m);
    write(r);
  }

  @Override
  public synchronized void deleteTag(String runId, String key) {
    RunRecord r = read(runId);
    if (r.tags().remove(key) != null) write(r);
  }

  @Override
  public synchronized List<Metric> metricHistory(String runId, String key) {
    return read(runId).metrics().stream().filter(m -> m.key().equals(key)).toList();
  }

  @Override
  public synchronized void uploadArtifact(String runId, String path, byte[] data) {
    Path target = runDir(runId).resolve("artifacts").resolve(path).normalize();
    if (!target.startsWith(runDir(runId))) throw new TrackerException("invalid artifact path '" + path + "'");
    try {
      Files.createDirectories(target.getParent());
      Files.write(target, data);
    } catch (IOException e) {
      throw new TrackerException("cannot write artifact " + target + ": " + e.getMessage(), e);
    }
  }

  /** Artifact bytes, for tests. */
  public byte[] artifact(String runId, String path) throws IOException {
    return Files.readAllBytes(runDir(runId).resolve("artifacts").resolve(path));
  }

  @Override
  public String runUrl(String experimentId, String runId) {
    return runDir(runId).toUri().toString();
  }

  /**
   * 32 hex digits like MLflow's, starting with a creation time that strictly increases within this
   * JVM, so that sorting run folders by name lists runs oldest first (as {@link #findRuns} promises).
   */
  static String newRunId() {
    long now = System.currentTimeMillis();
    long t = LAST_ID_TIME.updateAndGet(prev -> Math.max(prev + 1, now));
    return String.format("%016x", t) + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
  }

  private static RunInfo info(RunRecord r) {
    return new RunInfo(r.runId(), r.experimentId(), r.status(), Map.copyOf(r.tags()));
  }

  private Path runDir(String runId) {
    return root.resolve("runs").resolve(runId);
  }

  private RunRecord read(String runId) {
    Path p = runDir(runId).resolve("run.json");
    try {
      return JSON.readValue(p.toFile(), RunRecord.class);
    } catch (IOException e) {
      throw new TrackerException("no run " + runId + " under " + root + ": " + e.getMessage(), e);
    }
  }

  private void write(RunRecord r) {
    writeJson(runDir(r.runId()).resolve("run.json"), r);
  }

  private static Map<String, String> readMap(Path p) {
    try {
      return Files.exists(p) ? JSON.readValue(p.toFile(), new TypeReference<LinkedHashMap<String, String>>() {}) : new LinkedHashMap<>();
    } catch (IOException e) {
      throw new TrackerException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  private static void writeJson(Path p, Object value) {
    try {
      Files.createDirectories(p.getParent());
      Path tmp = Files.createTempFile(p.getParent(), ".w-", ".tmp");
      JSON.writeValue(tmp.toFile(), value);
      Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new TrackerException("cannot write " + p + ": " + e.getMessage(), e);
    }
  }
}
