package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.Backends;
import ai.promptline.activities.TrackingActivitiesImpl;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.workflows.model.Stages;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitoring files of {@code deploy/compose/} checked by Prometheus' own tool, {@code promtool}
 * (Debian's prometheus package, installed by {@code deploy/local/services.sh install} into
 * {@code $PROMPTLINE_HOME/bin}): the scrape config, a rules file made of every query of the Grafana
 * dashboard (so each panel's PromQL parses), and a live scrape of a worker's metrics endpoint fed by
 * the real metrics facade and activities.
 */
@Tag("integration")
class MonitoringConfigIT {
  @TempDir Path dir;

  static Path promtool() {
    String env = System.getenv("PROMPTLINE_PROMTOOL");
    Path p = env != null && !env.isBlank() ? Path.of(env) : LocalServices.home().resolve("bin/promtool");
    if (!Files.isExecutable(p))
      throw new AssertionError("no promtool at " + p + ": run deploy/local/services.sh install (it fetches Debian's prometheus"
          + " package), or set PROMPTLINE_PROMTOOL");
    return p;
  }

  record Result(int code, String output) {}

  static Result promtool(byte[] stdin, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(promtool().toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try (var in = p.getOutputStream()) {
      if (stdin != null) in.write(stdin);
    }
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("promtool " + String.join(" ", args) + " did not finish in 60 s");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void theScrapeConfigIsValid() throws Exception {
    Result r = promtool(null, "check", "config", Monitoring.compose().resolve("prometheus.yml").toString());
    System.out.println("[MonitoringConfigIT] " + r.output().strip());
    assertEquals(0, r.code(), r.output());
    assertTrue(r.output().contains("SUCCESS"), r.output());
  }

  @Test
  void everyDashboardQueryParses() throws Exception {
    Path rules = dir.resolve("dashboard-rules.yml");
    Files.writeString(rules, Monitoring.rulesFile(Monitoring.dashboard()));
    Result r = promtool(null, "check", "rules", rules.toString());
    System.out.println("[MonitoringConfigIT] " + r.output().strip());
    assertEquals(0, r.code(), r.output() + "\n" + Files.readString(rules));
    int queries = Monitoring.expressions(Monitoring.dashboard()).size();
    assertTrue(r.output().contains("SUCCESS: " + queries + " rules found"), r.output());

    // the check is real: a broken query fails it
    Path broken = dir.resolve("broken.yml");
    Files.writeString(broken, "groups:\n  - name: x\n    rules:\n      - record: x:y\n        expr: 'sum by (status (promptline_runs_total)'\n");
    assertTrue(promtool(null, "check", "rules", broken.toString()).code() != 0, "promtool rejects a query that does not parse");
  }

  @Test
  void aLiveScrapeOfTheWorkerEndpoint_passesPromtoolsMetricsCheck() throws Exception {
    PrometheusMeterRegistry reg = Monitoring.fedRegistry(dir.resolve("scratch"));
    FileTracker tracker = new FileTracker(dir.resolve("mlruns"));
    TrackingActivitiesImpl tracking = new TrackingActivitiesImpl(new Backends(new LocalObjectStore(dir.resolve("store")), tracker, reg));
    tracking.finishRun(tracker.createRun(tracker.experimentId("e"), "r", Map.of()), Stages.FAILED, "a failure for the metric");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String body;
    try (MetricsServer server = MetricsServer.start("127.0.0.1", port, reg)) {
      HttpResponse<String> res = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, res.statusCode());
      body = res.body();
    }
    assertTrue(body.contains("promptline_runs_total{status=\"failed\"} 1.0"), body);
    assertTrue(body.contains("promptline_train_epoch_seconds_bucket{method=\"coop\",le=\"2.5\"} 1"), body);
    Result r = promtool(body.getBytes(StandardCharsets.UTF_8), "check", "metrics");
    System.out.println("[MonitoringConfigIT] promtool check metrics on " + body.lines().count() + " lines: exit " + r.code()
        + (r.output().isBlank() ? ", no findings" : ":\n" + r.output()));
    assertEquals(0, r.code(), r.output());
    assertTrue(r.output().isBlank(), "no lint findings: " + r.output());
  }
}
