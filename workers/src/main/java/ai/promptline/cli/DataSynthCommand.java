package ai.promptline.cli;

import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import ai.promptline.ml.scenes.SceneBenchmark;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code promptline data synth --out DIR [--kind scenes|shapes ...]}: writes a generated dataset in
 * the CoOp split-file layout. {@code scenes} (default) is the tiny CLIP's downstream benchmark;
 * {@code shapes} the older 10-class colour/pattern set.
 */
@Command(name = "synth", mixinStandardHelpOptions = true,
    description = "Generate a dataset: 'scenes' (default), the 24-class base-to-novel benchmark of the pretrained tiny CLIP"
        + " (novel class names are colour-shape pairs held out of its pretraining), or 'shapes', a small colour/pattern set.")
public final class DataSynthCommand implements Runnable {
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, description = "output folder")
  Path out;

  @Option(names = "--kind", defaultValue = "scenes", description = "scenes or shapes (default: ${DEFAULT-VALUE})")
  String kind;

  @Option(names = "--name", description = "dataset name (shapes only; default: Synthetic)")
  String name;

  @Option(names = "--classes", description = "number of classes (shapes only; default: 10)")
  Integer classes;

  @Option(names = "--train", description = "train images per class (default: scenes 20, shapes 16)")
  Integer train;

  @Option(names = "--val", description = "val images per class (default: 4)")
  Integer val;

  @Option(names = "--test", description = "test images per class (default: scenes 25, shapes 8)")
  Integer test;

  @Option(names = "--size", description = "image size in pixels (shapes only; default: 64)")
  Integer size;

  @Option(names = "--seed", description = "generation seed (default: scenes 7, shapes 0)")
  Long seed;

  @Override
  public void run() {
    SyntheticDataset.Generated g;
    switch (kind) {
      case "scenes" -> {
        for (Object[] o : new Object[][] {{"--name", name}, {"--classes", classes}, {"--size", size}}) {
          if (o[1] != null) throw new IllegalArgumentException(o[0] + " applies to --kind shapes only (the Scenes benchmark has fixed classes)");
        }
        SceneBenchmark.Spec d = SceneBenchmark.Spec.defaults();
        g = SceneBenchmark.generate(out, new SceneBenchmark.Spec(or(train, d.train()), or(val, d.val()), or(test, d.test()),
            seed != null ? seed : d.seed()));
      }
      case "shapes" -> g = SyntheticDataset.generate(out, new SyntheticSpec(name != null ? name : "Synthetic", or(classes, 10),
          or(train, 16), or(val, 4), or(test, 8), or(size, 64), seed != null ? seed : 0));
      default -> throw new IllegalArgumentException("unknown --kind '" + kind + "'; use scenes or shapes");
    }
    PrintWriter w = spec.commandLine().getOut();
    w.printf("wrote %d classes, %d/%d/%d train/val/test images under %s%n", g.classNames().size(),
        g.splits().train().size(), g.splits().val().size(), g.splits().test().size(), g.imageRoot());
    w.println("split file: " + g.splitFile());
    w.flush();
  }

  private static int or(Integer v, int d) {
    return v != null ? v : d;
  }
}
