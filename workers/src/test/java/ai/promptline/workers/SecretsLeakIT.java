package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.store.MinioObjectStore;
import ai.promptline.activities.store.ObjectStore.StoreException;
import ai.promptline.cli.Main;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * No secret leaves the credentials file: the values of every key and password in it (MinIO root,
 * worker and MLflow keys, the MLflow admin and worker passwords, the CSRF key) appear nowhere in
 * the services' logs, the services' command lines, the output of {@code services status|env|--help}
 * and of every CLI command's {@code --help}, nor in any MLflow record the suite produced (every
 * experiment's name and tags, every run's name, params, tags, metric keys and provenance.json).
 * Runs after the other integration tests ({@link Order} with the class orderer of
 * junit-platform.properties), so it sees what they logged.
 */
@Tag("integration")
@Order(Integer.MAX_VALUE)
class SecretsLeakIT {
  static final ObjectMapper JSON = new ObjectMapper();

  /** credentials.env key -> value, for every secret in it (not the user names and bucket scope). */
  static Map<String, String> secrets() {
    Map<String, String> out = new LinkedHashMap<>();
    LocalServices.credentials().forEach((k, v) -> {
      if ((k.endsWith("_KEY") || k.endsWith("_PASSWORD")) && v.length() >= 8) out.put(k, v);
    });
    for (String must : List.of("PROMPTLINE_MINIO_SECRET_KEY", "PROMPTLINE_MINIO_WORKER_SECRET_KEY",
        "PROMPTLINE_MLFLOW_ADMIN_PASSWORD", "PROMPTLINE_MLFLOW_PASSWORD"))
      assertTrue(out.containsKey(must), must + " missing from " + LocalServices.settings().credentialsFile());
    return out;
  }

  /** Where each secret was found: "KEY in WHERE" lines. */
  static final class Findings {
    final Map<String, String> secrets;
    final List<String> hits = new ArrayList<>();
    int scanned;

    Findings(Map<String, String> secrets) {
      this.secrets = secrets;
    }

    void scan(String where, String text) {
      scanned++;
      if (text == null) return;
      secrets.forEach((k, v) -> {
        if (text.contains(v)) hits.add(k + " in " + where);
      });
    }

    void assertNone(String what) {
      assertTrue(hits.isEmpty(), what + ": secrets found (values not shown): " + hits);
    }
  }

  @Test
  void credentialsFile_isMode600() throws Exception {
    Path f = LocalServices.settings().credentialsFile();
    assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(f));
  }

  @Test
  void noSecretInLogsOrServiceCommandLines() throws Exception {
    Findings f = new Findings(secrets());
    Path home = LocalServices.home();
    try (Stream<Path> files = Files.walk(home.resolve("logs"))) {
      for (Path p : files.filter(Files::isRegularFile).toList())
        f.scan(home.relativize(p).toString(), new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1));
    }
    assertTrue(f.scanned >= 3, "expected the services' logs under " + home.resolve("logs") + ", scanned " + f.scanned);
    for (String config : List.of("data/mlflow/basic_auth.ini"))
      if (Files.exists(home.resolve(config))) f.scan(config, Files.readString(home.resolve(config)));
    for (String svc : LocalServices.NAMES)
      for (long pid : LocalServices.processGroup(svc)) {
        Path cmdline = Path.of("/proc/" + pid + "/cmdline");
        if (Files.exists(cmdline)) f.scan(svc + " pid " + pid + " argv", Files.readString(cmdline, StandardCharsets.ISO_8859_1));
      }
    f.assertNone("logs and command lines");
  }

  /** Every command path of the CLI, e.g. [], [services], [services, restart]. */
  static void commandPaths(CommandLine cl, List<String> prefix, List<List<String>> out) {
    out.add(prefix);
    cl.getSubcommands().forEach((name, sub) -> {
      if (!sub.getCommandName().equals(name)) return; // an alias
      List<String> p = new ArrayList<>(prefix);
      p.add(name);
      commandPaths(sub, p, out);
    });
  }

  @Test
  void noSecretInHelpOrStatusOutput() throws Exception {
    Findings f = new Findings(secrets());
    for (String[] args : List.of(new String[] {"status"}, new String[] {"env"}, new String[] {"--help"})) {
      LocalServices.Run r = LocalServices.script(args);
      f.scan("services.sh " + String.join(" ", args), r.output());
      assertFalse(r.output().isBlank(), String.join(" ", args));
    }
    List<List<String>> paths = new ArrayList<>();
    commandPaths(Main.newCommandLine(), List.of(), paths);
    assertTrue(paths.size() > 20, "CLI command tree: " + paths);
    for (List<String> path : paths) {
      for (String flag : List.of("--help", "--version")) {
        CommandLine cl = Main.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> args = new ArrayList<>(path);
        args.add(flag);
        int code = cl.execute(args.toArray(String[]::new));
        String where = "promptline " + String.join(" ", args);
        if (flag.equals("--help")) assertTrue(code == 0 && !out.toString().isBlank(), where + " -> " + code + " " + err);
        f.scan(where, out + "\n" + err);
      }
    }
    f.assertNone("help and status output");
  }

  @Test
  void noSecretInAnyMlflowRecord() throws Exception {
    Map<String, String> creds = LocalServices.credentials();
    Settings settings = LocalServices.settings();
    // as the admin, who sees every experiment (the credentials are ignored by a server without auth)
    MlflowRest rest = new MlflowRest(settings.mlflowUri(),
        new Settings.Login(creds.get("PROMPTLINE_MLFLOW_ADMIN_USERNAME"), creds.get("PROMPTLINE_MLFLOW_ADMIN_PASSWORD")));
    Findings f = new Findings(secrets());
    int experiments = 0;
    int runs = 0;
    int provenance = 0;
    for (JsonNode exp : pages(rest, "/api/2.0/mlflow/experiments/search", JSON.createObjectNode().put("view_type", "ALL"), "experiments")) {
      experiments++;
      String id = exp.path("experiment_id").asText();
      f.scan("experiment " + id + " name", exp.path("name").asText());
      for (JsonNode t : exp.path("tags")) f.scan("experiment " + id + " tag " + t.path("key").asText(), t.path("key").asText() + "=" + t.path("value").asText());
      ObjectNode q = JSON.createObjectNode().put("run_view_type", "ALL");
      q.putArray("experiment_ids").add(id);
      for (JsonNode run : pages(rest, "/api/2.0/mlflow/runs/search", q, "runs")) {
        runs++;
        String rid = run.path("info").path("run_id").asText();
        f.scan("run " + rid + " name", run.path("info").path("run_name").asText());
        for (String kind : List.of("params", "tags", "metrics"))
          for (JsonNode kv : run.path("data").path(kind))
            f.scan("run " + rid + " " + kind + " " + kv.path("key").asText(), kv.path("key").asText() + "=" + kv.path("value").asText());
        if (MlflowRest.tag(run, "promptline.run_key") != null && rest.artifacts(rid, null).contains("provenance.json")) {
          provenance++;
          f.scan("run " + rid + " provenance.json", new String(rest.artifact(rid, "provenance.json"), StandardCharsets.UTF_8));
        }
      }
    }
    System.out.printf("SecretsLeakIT: %d secrets checked in %d experiments, %d runs, %d provenance files%n",
        f.secrets.size(), experiments, runs, provenance);
    assertTrue(experiments >= 1, "no MLflow experiment to scan");
    f.assertNone("MLflow records");
  }

  /** All items of a paginated MLflow search (POST with page_token). */
  static List<JsonNode> pages(MlflowRest rest, String path, ObjectNode query, String field) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    String token = null;
    do {
      ObjectNode q = query.deepCopy().put("max_results", 500);
      if (token != null) q.put("page_token", token);
      JsonNode page = rest.post(path, JSON.writeValueAsString(q));
      page.path(field).forEach(out::add);
      token = page.path("next_page_token").asText(null);
    } while (token != null && !token.isEmpty());
    return out;
  }

  @Test
  void storeErrors_nameTheBucketButNoSecret() {
    Map<String, String> creds = LocalServices.credentials();
    String secret = creds.get("PROMPTLINE_MINIO_WORKER_SECRET_KEY");
    Settings settings = LocalServices.settings();
    // a wrong secret (the real one plus a character): MinIO refuses, the message has neither
    StoreException e = assertThrows(StoreException.class, () -> new MinioObjectStore(settings.storeEndpoint(),
        creds.get("PROMPTLINE_MINIO_WORKER_ACCESS_KEY"), secret + "x", settings.bucket()).put("k", new byte[] {1}));
    assertTrue(e.getMessage().contains(settings.bucket()), e.getMessage());
    Findings f = new Findings(secrets());
    f.scan("StoreException", e.getMessage() + " " + e.getCause());
    f.assertNone("store error messages");
  }
}
