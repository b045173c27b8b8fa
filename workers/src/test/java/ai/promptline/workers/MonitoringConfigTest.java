package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitoring files of {@code deploy/compose/} agree with the code: the dashboard queries only
 * metrics the facade registers and shows every one of them, its datasource is the provisioned one,
 * Prometheus scrapes the port the workers serve, and the images are pinned. ({@code MonitoringConfigIT}
 * has promtool parse the files and a live scrape.)
 */
class MonitoringConfigTest {
  @TempDir Path dir;

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void everyMetricTheDashboardQueries_isOneTheFacadeRegisters_andEachFacadeMetricHasAPanel() throws Exception {
    JsonNode dashboard = Monitoring.dashboard();
    Set<String> used = Monitoring.metricNames(Monitoring.expressions(dashboard));
    Set<String> served = Monitoring.sampleNames(Monitoring.fedRegistry(dir.resolve("scratch")).scrape());
    Set<String> unknown = new TreeSet<>(used);
    unknown.removeAll(served);
    assertEquals(Set.of(), unknown, "dashboard metrics the workers do not serve; served: " + served);
    for (String family : List.of("promptline_runs_total", "promptline_train_epoch_seconds_bucket",
        "promptline_activity_queue_wait_seconds_bucket", "promptline_cache_requests_total", "promptline_slots_busy", "promptline_slots"))
      assertTrue(used.contains(family), "no panel shows " + family + "; the dashboard uses " + used);
  }

  @Test
  void thePanelsCoverEachMetric_andUseTheProvisionedDatasource() throws Exception {
    JsonNode dashboard = Monitoring.dashboard();
    JsonNode ds = YAML.readTree(Files.readString(Monitoring.compose().resolve("grafana/provisioning/datasources/prometheus.yml")));
    String uid = ds.path("datasources").get(0).path("uid").asText();
    assertFalse(uid.isBlank());
    List<String> titles = new ArrayList<>();
    for (JsonNode p : Monitoring.panels(dashboard)) {
      titles.add(p.path("title").asText());
      assertEquals(uid, p.path("datasource").path("uid").asText(), p.path("title").asText());
      for (JsonNode t : p.path("targets")) assertEquals(uid, t.path("datasource").path("uid").asText(), p.path("title").asText());
    }
    String all = String.join(" | ", titles).toLowerCase();
    for (String want : List.of("runs by terminal status", "epoch time p50 / p95", "queue wait", "cache hit ratio", "busy compute slots"))
      assertTrue(all.contains(want), "no panel '" + want + "' in " + titles);
    // the rules file the IT hands to promtool: one rule per query, no Grafana variable left
    String rules = Monitoring.rulesFile(dashboard);
    assertEquals(Monitoring.expressions(dashboard).size(), rules.split("record: ").length - 1);
    assertFalse(rules.contains("$"), rules);
    JsonNode provider = YAML.readTree(Files.readString(Monitoring.compose().resolve("grafana/provisioning/dashboards/promptline.yml")));
    String path = provider.path("providers").get(0).path("options").path("path").asText();
    JsonNode compose = YAML.readTree(Files.readString(Monitoring.compose().resolve("docker-compose.yml")));
    boolean mounted = false;
    for (JsonNode v : compose.path("services").path("grafana").path("volumes"))
      mounted |= v.asText().equals("./grafana/dashboards:" + path + ":ro");
    assertTrue(mounted, "grafana mounts the dashboards where the provider reads them (" + path + ")");
  }

  @Test
  void prometheusScrapesThePortTheWorkersServe_andTheImagesArePinned() throws Exception {
    JsonNode compose = YAML.readTree(Files.readString(Monitoring.compose().resolve("docker-compose.yml")));
    JsonNode prom = YAML.readTree(Files.readString(Monitoring.compose().resolve("prometheus.yml")));
    JsonNode workers = null;
    for (JsonNode job : prom.path("scrape_configs")) if (job.path("job_name").asText().equals("promptline-workers")) workers = job;
    assertTrue(workers != null, "a promptline-workers job");
    JsonNode sd = workers.path("dns_sd_configs").get(0);
    String service = sd.path("names").get(0).asText();
    assertTrue(compose.path("services").has(service), "the scraped name " + service + " is a compose service");
    List<String> cmd = new ArrayList<>();
    compose.path("services").path(service).path("command").forEach(c -> cmd.add(c.asText()));
    assertEquals(sd.path("port").asText(), cmd.get(cmd.indexOf("--metrics-port") + 1), "worker command " + cmd);
    assertEquals("0.0.0.0", cmd.get(cmd.indexOf("--metrics-host") + 1), "reachable from the prometheus container");
    assertTrue(cmd.get(cmd.indexOf("--queues") + 1).contains("cpu,gpu"), "the CPU-only image polls both queues: " + cmd);
    for (String svc : List.of("prometheus", "grafana")) {
      String image = compose.path("services").path(svc).path("image").asText();
      assertTrue(image.matches("[a-z/]+:\\$\\{[A-Z_]+:-v?\\d+\\.\\d+\\.\\d+}"), svc + " image pinned by version: " + image);
    }
  }

  @Test
  void temporalInit_registersEverySearchAttributeOfTheCampaignWorkflows() throws Exception {
    JsonNode compose = YAML.readTree(Files.readString(Monitoring.compose().resolve("docker-compose.yml")));
    String script = compose.path("services").path("temporal-init").path("command").get(0).asText();
    assertTrue(script.contains("for sa in PromptlineCampaign PromptlineRunKey Campaign Dataset Method Model Protocol Phase RunStatus; do"),
        script);
    assertTrue(script.contains("create_sa \"$$sa\" Keyword"), script);
    assertTrue(script.contains("for sa in Shots Seed; do create_sa \"$$sa\" Int; done"), script);
    String local = Files.readString(LocalServices.root().resolve("deploy/local/services.sh"));
    for (String sa : List.of("Campaign=Keyword", "Dataset=Keyword", "Method=Keyword", "Model=Keyword", "Protocol=Keyword", "Phase=Keyword",
        "RunStatus=Keyword", "Shots=Int", "Seed=Int"))
      assertTrue(local.contains("--search-attribute " + sa), "services up registers " + sa + " on the dev server too");
  }
}
