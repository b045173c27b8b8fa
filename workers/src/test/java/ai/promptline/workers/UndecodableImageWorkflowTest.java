package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.Backends;
import ai.promptline.activities.ModelCache;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import ai.promptline.ml.pretrain.TinyClip;
import ai.promptline.workflows.RunWorkflow;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.testing.TestWorkflowEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image that passes the plan-time checks (signature and end marker intact) but does not decode
 * fails its run at the first attempt as a non-retryable DatasetError whose message names the file
 * (it was retried 5 times as if transient, and the message was the decoder's, without the file).
 */
class UndecodableImageWorkflowTest {
  @TempDir Path dir;

  @Test
  void undecodableImage_failsTheRunOnce_namingTheFile() throws Exception {
    SyntheticDataset.Generated g = SyntheticDataset.generate(dir.resolve("data"),
        SyntheticSpec.defaults().withClasses(2).withPerClass(2, 1, 2).withImageSize(16));
    String rel = g.splits().test().stream().filter(i -> i.relPath().endsWith(".jpg")).findFirst().orElseThrow().relPath();
    Path victim = g.imageRoot().resolve(rel);
    byte[] b = Files.readAllBytes(victim);
    byte[] gutted = Arrays.copyOf(b, 22); // the JPEG's first bytes and its end marker, nothing between
    gutted[20] = (byte) 0xFF;
    gutted[21] = (byte) 0xD9;
    Files.write(victim, gutted);
    CampaignSpec spec = new CampaignFile("undecodable", "promptline-test", new CampaignFile.Model("tiny", TinyClip.path().toString(), null),
        List.of(new CampaignFile.Dataset("Synthetic", g.root().toString())), List.of(new CampaignFile.Method("zsclip", null)),
        List.of(1), List.of(1), "base2novel", 1, 0).plan(Path.of("."));

    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(); ModelCache models = new ModelCache()) {
      PromptlineWorker.register((q, o) -> env.newWorker(q, io.temporal.worker.WorkerOptions.newBuilder(o).build()),
          new Backends(new LocalObjectStore(dir.resolve("store")), new FileTracker(dir.resolve("mlflow")), new SimpleMeterRegistry()),
          new PromptlineWorker.Options(java.util.Set.of("cpu", "gpu"), 1, 2), models);
      env.start();
      CampaignResult r = CampaignSubmitter.start(env.getWorkflowClient(), new LocalObjectStore(dir.resolve("store")), spec).getResult(CampaignResult.class);
      assertEquals(Stages.FAILED, r.status());
      String error = r.runs().get(0).error();
      assertTrue(error.contains(victim.toString()) && error.startsWith("dataset Synthetic: unreadable image")
          && error.contains("./promptline data verify Synthetic"), error);

      List<HistoryEvent> events = env.getWorkflowClient().fetchHistory(RunWorkflow.workflowId(r.runs().get(0).runKey())).getEvents();
      HistoryEvent failed = events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED).findFirst()
          .orElseThrow(() -> new AssertionError("no failed activity in " + events));
      var info = failed.getActivityTaskFailedEventAttributes().getFailure().getApplicationFailureInfo();
      assertEquals("DatasetError", info.getType());
      assertTrue(info.getNonRetryable());
      long startedAttempts = events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
          .filter(e -> e.getActivityTaskStartedEventAttributes().getScheduledEventId()
              == failed.getActivityTaskFailedEventAttributes().getScheduledEventId())
          .mapToInt(e -> e.getActivityTaskStartedEventAttributes().getAttempt()).max().orElse(0);
      assertEquals(1, startedAttempts, "the failing activity ran once, not retried");
    }
  }
}
