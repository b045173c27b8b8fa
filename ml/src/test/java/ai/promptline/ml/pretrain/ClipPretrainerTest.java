package ai.promptline.ml.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints, resume and the refusals of {@link ClipPretrainer}, on a micro model (seconds). */
class ClipPretrainerTest {
  @TempDir Path dir;

  static final ClipConfig MICRO = new ClipConfig(ClipConfig.VisionKind.VIT, 32, 16, 64, 1, List.of(), 8, 1, 32, 49408, 64, 1, 1);
  static final PretrainConfig CFG = new PretrainConfig(MICRO, 6, 8, 1e-3, 1, 0.2, 5L, 2);

  static final ClipPretrainer.Listener QUIET = (step, steps, loss, scale, lr, sps) -> {};

  /** Stops the run at {@code step}, as a kill would (the checkpoint before it stays). */
  record Interrupt(int at) implements ClipPretrainer.Listener {
    @Override
    public void step(int step, int steps, float loss, float logitScale, double lr, double secondsPerStep) {
      if (step == at) throw new IllegalStateException("interrupted at step " + at);
    }
  }

  @Test
  void anInterruptedRunResumesAtItsLastCheckpointAndEndsWhereAnUninterruptedOneDoes() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      ClipPretrainer.Result straight = new ClipPretrainer(CFG).run(dir.resolve("a.ckpt"), m, QUIET);
      Path ckpt = dir.resolve("b.ckpt");
      assertThrows(IllegalStateException.class, () -> new ClipPretrainer(CFG).run(ckpt, m, new Interrupt(5)));
      assertTrue(Files.isRegularFile(ckpt) && Files.isRegularFile(PretrainCheckpoint.digestFile(ckpt)));
      int[] resumedAt = {-1};
      ClipPretrainer.Result resumed = new ClipPretrainer(CFG).run(ckpt, m, new ClipPretrainer.Listener() {
        @Override
        public void step(int step, int steps, float loss, float logitScale, double lr, double secondsPerStep) {}

        @Override
        public void resumed(int step) {
          resumedAt[0] = step;
        }
      });
      assertEquals(4, resumedAt[0], "checkpoints every 2 steps: the kill at step 5 loses step 5 only");
      assertEquals(4, resumed.resumedFrom());
      assertEquals(straight.curve().size(), resumed.curve().size());
      for (int i = 0; i < straight.curve().size(); i++) {
        assertEquals(straight.curve().get(i).loss(), resumed.curve().get(i).loss(), 1e-5f, "loss of step " + (i + 1));
      }
      for (Map.Entry<String, NDArray> e : straight.stateDict().entrySet()) {
        float d = e.getValue().sub(resumed.stateDict().get(e.getKey())).abs().max().getFloat();
        assertTrue(d <= 1e-6f, e.getKey() + " differs by " + d + " after resuming");
      }
    }
  }

  @Test
  void tokenRowsTheCorpusNeverUsesStayExactlyZero() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      ClipPretrainer p = new ClipPretrainer(CFG.withSteps(2));
      ClipPretrainer.Result r = p.run(dir.resolve("z.ckpt"), m, QUIET);
      BitSet used = p.usedTokens();
      float[] table = r.stateDict().get("token_embedding.weight").toFloatArray();
      int w = MICRO.textWidth();
      int nonZeroRows = 0;
      for (int row = 0; row < MICRO.vocabSize(); row++) {
        boolean zero = true;
        for (int j = 0; j < w && zero; j++) zero = table[row * w + j] == 0f;
        if (!zero) nonZeroRows++;
        if (!used.get(row)) assertTrue(zero, "row " + row + " is not in the corpus but changed");
      }
      assertEquals(used.cardinality(), nonZeroRows);
      assertTrue(nonZeroRows > 40 && nonZeroRows < 200, "the corpus uses " + nonZeroRows + " token ids");
    }
  }

  @Test
  void aCorruptedCheckpointIsRefusedByItsDigest() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Path ckpt = dir.resolve("c.ckpt");
      assertThrows(IllegalStateException.class, () -> new ClipPretrainer(CFG).run(ckpt, m, new Interrupt(3)));
      byte[] b = Files.readAllBytes(ckpt);
      b[b.length - 100] ^= 0x40;
      Files.write(ckpt, b);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ClipPretrainer(CFG).run(ckpt, m, QUIET));
      assertTrue(e.getMessage().contains("is corrupted: its SHA-256 is") && e.getMessage().contains("delete both files"), e.getMessage());
      Files.delete(PretrainCheckpoint.digestFile(ckpt));
      e = assertThrows(IllegalArgumentException.class, () -> new ClipPretrainer(CFG).run(ckpt, m, QUIET));
      assertTrue(e.getMessage().contains("has no c.ckpt.sha256 digest"), e.getMessage());
    }
  }

  @Test
  void aCheckpointOfAnotherRecipeIsNotResumed() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Path ckpt = dir.resolve("d.ckpt");
      assertThrows(IllegalStateException.class, () -> new ClipPretrainer(CFG).run(ckpt, m, new Interrupt(3)));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new ClipPretrainer(CFG.withLr(5e-4)).run(ckpt, m, QUIET));
      assertTrue(e.getMessage().contains("was made by a different recipe") && e.getMessage().contains("\"lr\":0.001"), e.getMessage());
    }
  }

  @Test
  void scheduleWarmsUpLinearlyThenDecaysByCosineToZero() {
    PretrainConfig c = PretrainConfig.defaults();
    assertEquals(c.lr() / c.warmupSteps(), c.lrAt(0), 1e-12);
    assertEquals(c.lr(), c.lrAt(c.warmupSteps() - 1), 1e-12);
    assertEquals(c.lr(), c.lrAt(c.warmupSteps()), 1e-12);
    assertEquals(c.lr() / 2, c.lrAt(c.warmupSteps() + (c.steps() - c.warmupSteps()) / 2), 1e-9);
    assertTrue(c.lrAt(c.steps() - 1) < c.lr() * 1e-4);
    assertTrue(PretrainConfig.decays("visual.proj", 2) && PretrainConfig.decays("token_embedding.rows", 2));
    assertTrue(!PretrainConfig.decays("ln_final.weight", 1) && !PretrainConfig.decays("logit_scale", 0)
        && !PretrainConfig.decays("visual.class_embedding", 1) && !PretrainConfig.decays("transformer.resblocks.0.attn.in_proj_bias", 1));
  }
}
