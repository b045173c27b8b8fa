package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.promptline.activities.Backends;
import ai.promptline.activities.ModelCache;
import ai.promptline.activities.store.LocalObjectStore;
import ai.promptline.activities.tracking.FileTracker;
import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.testing.TestWorkflowEnvironment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Measures instance-wise prompts against zero-shot and CoOp on the demo dataset with the pretrained tiny CLIP. */
class InstanceLearningTest {
  @TempDir static Path dir;

  @Test
  void instanceAgainstZeroShot() {
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    String seeds = System.getProperty("instance.seeds", "1");
    List<Integer> seedList = java.util.Arrays.stream(seeds.split(",")).map(Integer::parseInt).toList();
    Map<String, Object> train = Map.of("epochs", 100, "batchSize", 32, "lr", 0.002, "augViews", 4);
    List<CampaignFile.Method> methods = List.of(new CampaignFile.Method("zsclip", null), new CampaignFile.Method("coop", train),
        new CampaignFile.Method("instance", train));
    CampaignSpec spec = new CampaignFile("instance", "instance",
        new CampaignFile.Model("tiny-clip-scenes", assets.weights().toString(), null),
        List.of(new CampaignFile.Dataset(DemoAssets.DATASET, assets.datasetRoot().toString())),
        methods, List.of(4, 16), seedList, "base2novel", 2, 60).plan(Path.of("."));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(); ModelCache models = new ModelCache()) {
      PromptlineWorker.register((q, o) -> env.newWorker(q, io.temporal.worker.WorkerOptions.newBuilder(o).build()),
          new Backends(new LocalObjectStore(dir.resolve("store")), new FileTracker(dir.resolve("mlflow")), new SimpleMeterRegistry()),
          new PromptlineWorker.Options(java.util.Set.of("cpu", "gpu"), 1, 2), models);
      env.start();
      long t0 = System.nanoTime();
      CampaignResult result = CampaignSubmitter.start(env.getWorkflowClient(), spec).getResult(CampaignResult.class);
      for (RunResult r : result.runs()) {
        assertEquals(Stages.FINISHED, r.status(), r.config().method() + ": " + r.error());
        System.out.printf("LEARN %s shots %d seed %d base %.1f novel %.1f hm %.1f%n", r.config().method(), r.config().shots(),
            r.config().seed(), r.eval().accBase(), r.eval().accNovel(), r.eval().hm());
      }
      System.out.printf("LEARN wall %.0f s%n", (System.nanoTime() - t0) / 1e9);
    }
  }
}
