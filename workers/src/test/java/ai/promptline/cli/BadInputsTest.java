package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rows of the bad-input table ({@link BadInputs}) that need no services, with every endpoint at
 * a closed local port: one clear error line naming the thing and the fix, and a non-zero exit, for
 * each. ({@code BadInputsIT} runs every row against real services and checks nothing was created.)
 */
class BadInputsTest {
  @TempDir Path dir;

  /** Endpoints nothing listens on, and credentials that are not real: no row can reach a service. */
  static Map<String, String> offline(BadInputs.Fixture f) {
    Map<String, String> env = new HashMap<>();
    env.put("PROMPTLINE_TEMPORAL_TARGET", "127.0.0.1:" + f.closedPort());
    env.put("PROMPTLINE_MLFLOW_URI", "http://127.0.0.1:" + f.closedPort());
    env.put("PROMPTLINE_MINIO_ENDPOINT", "http://127.0.0.1:" + f.closedPort());
    env.put("PROMPTLINE_MINIO_ACCESS_KEY", "offline-test");
    env.put("PROMPTLINE_MINIO_SECRET_KEY", "offline-test-secret");
    env.put("PROMPTLINE_HOME", f.dir.resolve("home").toString());
    return env;
  }

  @Test
  void everyRowWithoutServices_givesOneClearLineAndANonZeroExit() {
    BadInputs.Fixture f = new BadInputs.Fixture(dir);
    Map<String, String> env = offline(f);
    List<BadInputs.Outcome> outcomes = new ArrayList<>();
    for (BadInputs.Case c : BadInputs.cases())
      if (c.needs() == BadInputs.Needs.NOTHING) outcomes.add(BadInputs.run(c, f, env));
    String table = BadInputs.table(outcomes);
    System.out.println(table);
    assertTrue(outcomes.size() >= 50, "rows without services: " + outcomes.size());
    assertEquals(List.of(), outcomes.stream().filter(o -> !o.passed()).map(o -> o.c().id() + ": " + o.failure()).toList(), table);
  }

  @Test
  void tableCoversEveryBulletOfTheIssue() {
    java.util.Set<String> areas = new java.util.TreeSet<>();
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (BadInputs.Case c : BadInputs.cases()) {
      areas.add(c.area());
      assertTrue(ids.add(c.id()), "duplicate id " + c.id());
      assertTrue(!c.expect().isEmpty(), c.id());
    }
    assertEquals(java.util.Set.of("yaml", "dataset", "weights", "cli", "env", "campaign-id"), areas);
    assertTrue(BadInputs.cases().size() >= 50, "cases: " + BadInputs.cases().size());
    for (String id : List.of("yaml-syntax-bracket", "yaml-unknown-key", "yaml-type-shots-item", "yaml-negative-shots", "yaml-zero-shots",
        "yaml-negative-seed", "yaml-negative-epochs", "yaml-empty-datasets", "yaml-absurd-grid", "data-missing-root", "data-missing-image",
        "data-unreadable-image", "data-truncated-png", "data-wrong-label", "data-duplicate-entry", "data-unknown-class",
        "data-traversal-dotdot", "data-traversal-absolute", "data-traversal-symlink", "data-non-utf8-split", "weights-wrong-sha256",
        "weights-truncated-pt", "weights-html-pt", "cli-worker-slots-zero", "env-temporal-closed-run", "env-minio-bad-secret-run",
        "id-unknown-workflow"))
      assertTrue(ids.contains(id), "the table lacks " + id);
  }
}
