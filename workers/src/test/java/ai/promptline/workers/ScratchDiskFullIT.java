package ai.promptline.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.workflows.model.CampaignResult;
import ai.promptline.workflows.model.CampaignSpec;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.Stages;
import ai.promptline.workflows.model.Stages.RunResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker process whose scratch folder ({@code PROMPTLINE_SCRATCH}) is a nearly full 512 KB tmpfs,
 * against the real services: its campaign finishes with the same results as a worker without a
 * scratch cache, the worker log says the cache could not keep a blob, and no partial or temporary
 * file is left in the scratch folder. Skipped, saying why, where a tmpfs cannot be mounted. Tag
 * {@code chaos}: {@code ./promptline test --chaos} runs it; the default suite's {@link ChaosIT}
 * runs its workers on a full tmpfs scratch as well.
 */
@Tag("chaos")
class ScratchDiskFullIT {
  @TempDir Path dir;

  @Test
  void aFullScratchDisk_costsOnlyReReads_andLeavesNoPartialFile() throws Exception {
    Path mount = dir.resolve("scratch");
    Files.createDirectories(mount);
    Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mount.toString())
        .redirectErrorStream(true).start();
    String why = new String(m.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    Assumptions.assumeTrue(m.waitFor() == 0, "skipped: cannot mount a tmpfs to simulate a full disk (needs root): " + why);
    try {
      try (OutputStream out = Files.newOutputStream(mount.resolve("filler"))) {
        out.write(new byte[400 << 10]); // leaves ~100 KB: the train features fit, the test features do not
      }
      CampaignResult full = campaign("full", Map.of("PROMPTLINE_SCRATCH", mount.resolve("cache").toString()));
      String log = Files.readString(dir.resolve("worker-full.log"));
      assertTrue(log.contains("cannot keep a") && log.contains("No space left on device"),
          "the worker warned that the scratch disk is full:\n" + log);
      CampaignResult none = campaign("none", Map.of("PROMPTLINE_SCRATCH_MAX", "0"));
      assertEquals(Stages.FINISHED, full.status());
      assertEquals(none.runs().size(), full.runs().size());
      for (int i = 0; i < full.runs().size(); i++) {
        RunResult a = full.runs().get(i);
        RunResult b = none.runs().get(i);
        assertEquals(Stages.FINISHED, a.status(), a.error());
        assertEquals(b.eval(), a.eval(), "same results with and without a full scratch disk: " + a.config().displayName());
      }
      List<String> left;
      try (Stream<Path> s = Files.walk(mount.resolve("cache"))) {
        left = s.filter(Files::isRegularFile).map(p -> mount.resolve("cache").relativize(p).toString()).toList();
      }
      assertTrue(left.stream().noneMatch(p -> p.startsWith("tmp")), "no temporary file left: " + left);
      for (String p : left)
        assertEquals(p.substring(p.lastIndexOf('/') + 1), ContentKeys.sha256Hex(Files.readAllBytes(mount.resolve("cache").resolve(p))),
            "every entry whole: " + p);
    } finally {
      new ProcessBuilder("umount", mount.toString()).start().waitFor();
    }
  }

  /** A one-run CoOp campaign (5 epochs) in a bucket and experiment of its own, run by a worker process with {@code extra} env. */
  private CampaignResult campaign(String name, Map<String, String> extra) throws Exception {
    String suffix = name + "-" + Long.toString(System.currentTimeMillis(), 36);
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("PROMPTLINE_BUCKET", "scratch-" + suffix);
    env.putAll(extra);
    Settings settings = Settings.from(env);
    DemoAssets.Assets assets = DemoAssets.ensure(dir.resolve("assets"));
    CampaignFile demo = Demo.campaignFile(assets, new Demo.Options(5, List.of(1), 4));
    CampaignSpec spec = new CampaignFile("scratch-" + suffix, "promptline-scratch-" + suffix, demo.model(), demo.datasets(),
        List.of(new CampaignFile.Method("coop", Map.of("epochs", 5, "batchSize", 8, "lr", 0.002, "augViews", 1))),
        List.of(4), List.of(1), "base2novel", 1, 5).plan(Path.of("."));
    settings.store(); // creates the bucket
    Process worker = WorkerCrashIT.startWorker(env, dir.resolve("worker-" + name + ".log"));
    try (Connections conn = new Connections(settings, new SimpleMeterRegistry())) {
      return CampaignSubmitter.await(CampaignSubmitter.start(conn, spec), 2, null);
    } finally {
      worker.destroy();
      if (!worker.waitFor(20, TimeUnit.SECONDS)) worker.destroyForcibly().waitFor();
    }
  }
}
