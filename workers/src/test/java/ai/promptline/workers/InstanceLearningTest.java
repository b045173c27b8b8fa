package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Learning, not plumbing: instance-wise prompts ({@code instance}, seed 002) against zero-shot on the
 * demo dataset (Scenes, base-to-novel) with the shipped pretrained tiny CLIP, CoOp's recipe at 4
 * shots (100 epochs, batch 32, lr 0.002, 4 cached augmented views), in a real campaign.
 *
 * <p>Measured 2026-12-01 with this recipe ({@code -Dinstance.seeds=1,2,3 -Dinstance.shots=4,16
 * -Dinstance.coop=true} repeats it): at 4 shots, instance base 88.7, 90.7, 84.7 for seeds 1-3
 * against zero-shot 79.0 (+9.7, +11.7, +5.7; mean 88.0 ± 3.1), novel 68.3, 71.3, 67.7 against 69.0
 * (novel classes get the global context alone); CoOp at 4 shots, seed 1: 86.3 base, 68.7 novel
 * (README: 86.2 ± 1.8 over seeds 1-3). At 16 shots, seed 1: instance 88.7 base / 74.3 novel, CoOp
 * 87.0 / 75.0. This test runs seed 1 at 4 shots (a fresh run is bit-identical); the margin (5
 * points) is below the smallest measured gain (+5.7, seed 3).
 */
class InstanceLearningTest {
  @TempDir static Path dir;

  private static List<Integer> ints(String property, String def) {
    return Arrays.stream(System.getProperty(property, def).split(",")).map(String::trim).map(Integer::parseInt).toList();
  }

  @Test
  void instance_beatsZeroShotOnTheBaseClasses() {
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("demo"));
    Map<String, Object> train = Map.of("epochs", 100, "batchSize", 32, "lr", 0.002, "augViews", 4);
    List<CampaignFile.Method> methods = new ArrayList<>(List.of(new CampaignFile.Method("zsclip", null),
        new CampaignFile.Method("instance", train)));
    if (Boolean.getBoolean("instance.coop")) methods.add(new CampaignFile.Method("coop", train));
    CampaignSpec spec = new CampaignFile("instance", "instance",
        new CampaignFile.Model("tiny-clip-scenes", assets.weights().toString(), null),
        List.of(new CampaignFile.Dataset(DemoAssets.DATASET, assets.datasetRoot().toString())),
        methods, ints("instance.shots", "4"), ints("instance.seeds", "1"), "base2novel", 2, 60).plan(Path.of("."));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(); ModelCache models = new ModelCache()) {
      PromptlineWorker.register((q, o) -> env.newWorker(q, io.temporal.worker.WorkerOptions.newBuilder(o).build()),
          new Backends(new LocalObjectStore(dir.resolve("store")), new FileTracker(dir.resolve("mlflow")), new SimpleMeterRegistry()),
          new PromptlineWorker.Options(java.util.Set.of("cpu", "gpu"), 1, 2), models);
      env.start();
      CampaignResult result = CampaignSubmitter.start(env.getWorkflowClient(), new LocalObjectStore(dir.resolve("store")), spec).getResult(CampaignResult.class);
      for (RunResult r : result.runs()) {
        assertEquals(Stages.FINISHED, r.status(), r.config().method() + ": " + r.error());
        System.out.printf("instance learning: %s shots %d seed %d base %.1f novel %.1f hm %.1f%n", r.config().method(),
            r.config().shots(), r.config().seed(), r.eval().accBase(), r.eval().accNovel(), r.eval().hm());
      }
      for (RunResult r : result.runs()) {
        if (!r.config().method().equals("instance")) continue;
        double zs = result.runs().stream().filter(z -> z.config().method().equals("zsclip") && z.config().shots() == r.config().shots()
            && z.config().seed() == r.config().seed()).findFirst().orElseThrow().eval().accBase();
        assertTrue(r.eval().accBase() - zs >= MARGIN, "instance base " + r.eval().accBase() + " vs zero-shot " + zs
            + " at " + r.config().shots() + " shots, seed " + r.config().seed());
      }
    }
  }

  /** Percentage points on the base classes; set below the smallest measured gain. */
  static final double MARGIN = 5;
}
