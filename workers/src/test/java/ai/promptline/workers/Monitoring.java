package ai.promptline.workers;

import ai.promptline.activities.DevicePool;
import ai.promptline.activities.PromptlineMetrics;
import ai.promptline.activities.store.ScratchCache;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The monitoring files of {@code deploy/compose/} as the tests read them: the Grafana dashboard's
 * PromQL, turned into a Prometheus rules file (so {@code promtool check rules} parses every panel
 * query), and a registry fed through the real metrics facade.
 */
final class Monitoring {
  /** Grafana's variables in the dashboard's queries, and what stands in for them in the rules file. */
  static final Map<String, String> GRAFANA_VARIABLES = Map.of("$__rate_interval", "5m", "$__range", "1h", "$__interval", "1m",
      "$instance", ".*");

  private static final Pattern METRIC = Pattern.compile("\\bpromptline_[a-z0-9_]+");

  private Monitoring() {}

  static Path compose() {
    return LocalServices.root().resolve("deploy/compose");
  }

  static JsonNode dashboard() throws IOException {
    return new ObjectMapper().readTree(Files.readString(compose().resolve("grafana/dashboards/promptline.json")));
  }

  /** Every panel of the dashboard (rows' nested panels included) that has queries. */
  static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode p : dashboard.path("panels")) {
      if (p.has("targets")) out.add(p);
      for (JsonNode nested : p.path("panels")) if (nested.has("targets")) out.add(nested);
    }
    return out;
  }

  /** Every PromQL expression of the dashboard, in panel order. */
  static List<String> expressions(JsonNode dashboard) {
    List<String> out = new ArrayList<>();
    for (JsonNode p : panels(dashboard)) for (JsonNode t : p.path("targets")) out.add(t.path("expr").asText());
    return out;
  }

  /** The Promptline metric names (Prometheus sample names) that {@code exprs} refer to. */
  static Set<String> metricNames(List<String> exprs) {
    Set<String> names = new TreeSet<>();
    for (String e : exprs) {
      Matcher m = METRIC.matcher(e);
      while (m.find()) names.add(m.group());
    }
    return names;
  }

  /** The expression as Prometheus sees it once Grafana has filled in its variables. */
  static String substituted(String expr) {
    String out = expr;
    // longest first: $__rate_interval before $__range / $__interval
    List<String> keys = new ArrayList<>(GRAFANA_VARIABLES.keySet());
    keys.sort((a, b) -> b.length() - a.length());
    for (String k : keys) out = out.replace(k, GRAFANA_VARIABLES.get(k));
    return out;
  }

  /** A Prometheus recording-rules file with one rule per dashboard query. */
  static String rulesFile(JsonNode dashboard) {
    StringBuilder sb = new StringBuilder("# generated from deploy/compose/grafana/dashboards/promptline.json: one rule per panel query\n"
        + "groups:\n  - name: promptline-dashboard\n    rules:\n");
    int i = 0;
    for (String e : expressions(dashboard)) {
      i++;
      sb.append("      - record: promptline_dashboard:query").append(i).append('\n');
      sb.append("        expr: '").append(substituted(e).replace("'", "''")).append("'\n");
    }
    return sb.toString();
  }

  /**
   * A Prometheus registry with every Promptline metric present: the facade's fixed series plus one
   * sample of each series whose tags come from the work (a method's epoch, an activity's queue wait),
   * the scratch cache bound, and a compute slot taken and freed.
   */
  static PrometheusMeterRegistry fedRegistry(Path scratchDir) {
    PrometheusMeterRegistry reg = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PromptlineMetrics m = PromptlineMetrics.of(reg);
    m.epoch("coop", Duration.ofMillis(1200));
    m.queueWait("Train", "promptline-gpu", Duration.ofMillis(40));
    m.cache(PromptlineMetrics.FEATURES, true);
    m.bindScratch(ScratchCache.open(scratchDir, 1 << 20));
    DevicePool pool = new DevicePool(DevicePool.devices(2, 0), m);
    pool.acquire().close();
    return reg;
  }

  /** Sample names of a text-format scrape ({@code name{labels} value} lines). */
  static Set<String> sampleNames(String scrape) {
    Set<String> names = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) continue;
      int end = line.length();
      int brace = line.indexOf('{');
      int space = line.indexOf(' ');
      if (brace >= 0) end = brace;
      else if (space >= 0) end = space;
      names.add(line.substring(0, end));
    }
    return names;
  }
}
