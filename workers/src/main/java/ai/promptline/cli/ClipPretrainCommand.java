package ai.promptline.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipCheckpoints;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.Safetensors;
import ai.promptline.ml.pretrain.ClipPretrainer;
import ai.promptline.ml.pretrain.PretrainCheckpoint;
import ai.promptline.ml.pretrain.PretrainConfig;
import ai.promptline.ml.pretrain.SceneZeroShot;
import ai.promptline.ml.scenes.SceneRenderer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code promptline clip pretrain --out FILE}: contrastive pretraining of the tiny CLIP on the
 * generated scene corpus. Writes FILE (fp16 safetensors, config in its metadata) and FILE.json
 * (SHA-256, command, recipe, training curve, time, zero-shot read-out). Resumes from
 * FILE.resume.safetensors when a previous run with the same options was interrupted.
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
    description = "Pretrain a tiny CLIP from scratch on the generated image-caption corpus (symmetric InfoNCE, AdamW,"
        + " warm-up + cosine). Checkpoints every --checkpoint-every steps and resumes after an interruption.")
final class ClipPretrainCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--out", required = true, description = "output safetensors file")
  Path out;

  @Option(names = "--steps", description = "optimiser steps (default: 1500)")
  Integer steps;

  @Option(names = "--batch", description = "image-caption pairs per step (default: 256)")
  Integer batch;

  @Option(names = "--lr", description = "peak learning rate (default: 1e-3)")
  Double lr;

  @Option(names = "--seed", description = "initialisation and corpus seed (default: 2026)")
  Long seed;

  @Option(names = "--checkpoint-every", description = "steps between resume checkpoints (default: 100)")
  Integer checkpointEvery;

  @Option(names = "--overwrite", description = "replace an existing --out file")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    if (Files.exists(out) && !overwrite) {
      throw new IllegalArgumentException(out + " already exists; pass --overwrite to replace it, or choose another --out");
    }
    PretrainConfig cfg = PretrainConfig.defaults();
    if (steps != null) cfg = cfg.withSteps(steps);
    if (batch != null) cfg = cfg.withBatch(batch);
    if (lr != null) cfg = cfg.withLr(lr);
    if (seed != null) cfg = cfg.withSeed(seed);
    if (checkpointEvery != null) cfg = cfg.withCheckpointEvery(checkpointEvery);
    Path ckpt = out.resolveSibling(out.getFileName() + ".resume.safetensors");
    ClipPretrainer trainer = new ClipPretrainer(cfg);
    Progress progress = new Progress(System.console() != null);
    o.printf(Locale.ROOT, "pretraining %s for %d steps, batch %d (checkpoint: %s)%n",
        ai.promptline.ml.clip.ClipArchitectures.describe(cfg.model()), cfg.steps(), cfg.batchSize(), ckpt);
    o.flush();
    try (NDManager manager = NDManager.newBaseManager()) {
      ClipPretrainer.Result r = trainer.run(ckpt, manager, progress);
      progress.done();
      Map<String, NDArray> half = ClipPretrainer.toHalf(r.stateDict());
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("promptline.pretrain.recipe", recipeLine(cfg));
      Path tmp = out.resolveSibling(".tmp-" + out.getFileName());
      Safetensors.write(tmp, half, ClipPretrainer.metadata(cfg.model(), meta));
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      String sha = ClipCheckpoints.sha256(out);
      Map<String, Object> report = new LinkedHashMap<>();
      report.put("file", out.getFileName().toString());
      report.put("sha256", sha);
      report.put("bytes", Files.size(out));
      report.put("command", "./promptline clip pretrain --out " + out.getFileName() + " --steps " + cfg.steps()
          + " --batch " + cfg.batchSize() + " --lr " + cfg.lr() + " --seed " + cfg.seed());
      report.put("recipe", recipeLine(cfg));
      report.put("trainSeconds", Math.round(r.trainSeconds()));
      report.put("threads", Runtime.getRuntime().availableProcessors());
      try (ClipModel model = ClipModel.load(out, manager)) {
        Map<String, Object> zs = new LinkedHashMap<>();
        for (SceneRenderer.Style style : SceneRenderer.Style.values()) {
          SceneZeroShot.Accuracy a = SceneZeroShot.evaluate(model, style, 25, 99, manager);
          zs.put(style.name(), Map.of("base", round(a.base()), "novel", round(a.novel())));
          o.printf(Locale.ROOT, "zero-shot 24-way accuracy, %s rendering: base %.1f%%, novel (held-out pairs) %.1f%%%n",
              style.name(), 100 * a.base(), 100 * a.novel());
        }
        report.put("zeroShot24Way", zs);
        report.put("parameters", model.parameterCount());
      }
      List<double[]> curve = new ArrayList<>();
      for (ClipPretrainer.Point p : r.curve()) curve.add(new double[] {p.step(), round(p.loss()), round(p.logitScale()), p.lr()});
      report.put("curve[step,loss,logitScale,lr]", curve);
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(out.resolveSibling(out.getFileName() + ".json").toFile(), report);
      PretrainCheckpoint.delete(ckpt);
      o.printf(Locale.ROOT, "wrote %s (%d bytes, sha256 %s) in %.1f min%s%n", out, Files.size(out), sha, r.trainSeconds() / 60,
          r.resumedFrom() > 0 ? " (resumed at step " + r.resumedFrom() + ")" : "");
      o.flush();
    }
    return 0;
  }

  private static double round(double v) {
    return Math.round(v * 1e4) / 1e4;
  }

  private static String recipeLine(PretrainConfig c) {
    return String.format(Locale.ROOT, "steps=%d batch=%d lr=%s warmup=%d wd=%s seed=%d adamw(0.9,0.98,1e-6) cosine", c.steps(),
        c.batchSize(), c.lr(), c.warmupSteps(), c.weightDecay(), c.seed());
  }

  /** A progress bar on a terminal, a line every 25 steps otherwise (logs, CI). */
  static final class Progress implements ClipPretrainer.Listener {
    private final boolean tty;

    Progress(boolean tty) {
      this.tty = tty;
    }

    @Override
    public void step(int step, int steps, float loss, float logitScale, double lr, double secondsPerStep) {
      if (!tty && step % 25 != 0 && step != steps) return;
      int width = 30;
      int filled = (int) ((long) width * step / steps);
      String bar = "#".repeat(filled) + ".".repeat(width - filled);
      long eta = Math.round(secondsPerStep * (steps - step));
      String line = String.format(Locale.ROOT, "[%s] %d/%d loss %.3f scale %.1f lr %.2e %.2f s/step eta %dm%02ds", bar, step, steps,
          loss, logitScale, lr, secondsPerStep, eta / 60, eta % 60);
      if (tty) System.err.print("\r" + line);
      else System.err.println(line);
      System.err.flush();
    }

    @Override
    public void resumed(int step) {
      System.err.println("resuming from the checkpoint at step " + step);
    }

    void done() {
      if (tty) System.err.println();
    }
  }
}
