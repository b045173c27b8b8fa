package ai.promptline.workflows;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.WorkflowReplayer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays the histories recorded by earlier releases (src/test/resources/histories/<release>/,
 * written by {@link HistoryRecorder}) on this code: a change to workflow code that would break a
 * campaign running while its workers are upgraded fails the build here. The workflow type in each
 * history's first event picks the implementation: release 0.1's {@code CampaignWorkflow} replays on
 * {@link LegacyCampaignWorkflowImpl}, {@code Campaign} on {@link CampaignWorkflowImpl}, {@code
 * RunWorkflow} (both releases) on {@link RunWorkflowImpl}.
 */
class CommittedHistoryReplayTest {
  static final Map<String, Class<?>> IMPLEMENTATIONS = Map.of(
      "CampaignWorkflow", LegacyCampaignWorkflowImpl.class,
      "Campaign", CampaignWorkflowImpl.class,
      "RunWorkflow", RunWorkflowImpl.class);

  @TestFactory
  Stream<DynamicTest> everyCommittedHistory_replaysOnThisCode() throws Exception {
    Path root = Path.of("src/test/resources/histories");
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.filter(p -> p.toString().endsWith(".json")).sorted().forEach(files::add);
    }
    assertTrue(files.size() >= 10, "the histories of two releases are committed: " + files);
    assertTrue(files.stream().anyMatch(p -> p.toString().contains("v0.1")), "release 0.1's histories are committed");
    return files.stream().map(p -> DynamicTest.dynamicTest(root.relativize(p).toString(), () -> {
      WorkflowExecutionHistory h = WorkflowExecutionHistory.fromJson(Files.readString(p));
      String type = h.getEvents().get(0).getWorkflowExecutionStartedEventAttributes().getWorkflowType().getName();
      Class<?> impl = IMPLEMENTATIONS.get(type);
      if (impl == null) fail("no implementation registered for workflow type " + type + " (" + p + ")");
      WorkflowReplayer.replayWorkflowExecution(h, impl);
    }));
  }
}
