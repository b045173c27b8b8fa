package ai.promptline.cli;

import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code promptline data synth --out DIR [--classes N ...]}: writes the synthetic demo dataset. */
@Command(name = "synth", mixinStandardHelpOptions = true, description = "Generate a synthetic shapes/colours dataset.")
public final class DataSynthCommand implements Runnable {
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, description = "output folder")
  Path out;

  @Option(names = "--name", defaultValue = "Synthetic", description = "dataset name (default: ${DEFAULT-VALUE})")
  String name;

  @Option(names = "--classes", defaultValue = "10", description = "number of classes (default: ${DEFAULT-VALUE})")
  int classes;

  @Option(names = "--train", defaultValue = "16", description = "train images per class (default: ${DEFAULT-VALUE})")
  int train;

  @Option(names = "--val", defaultValue = "4", description = "val images per class (default: ${DEFAULT-VALUE})")
  int val;

  @Option(names = "--test", defaultValue = "8", description = "test images per class (default: ${DEFAULT-VALUE})")
  int test;

  @Option(names = "--size", defaultValue = "64", description = "image size in pixels (default: ${DEFAULT-VALUE})")
  int size;

  @Option(names = "--seed", defaultValue = "0", description = "generation seed (default: ${DEFAULT-VALUE})")
  long seed;

  @Override
  public void run() {
    SyntheticSpec s = new SyntheticSpec(name, classes, train, val, test, size, seed);
    SyntheticDataset.Generated g = SyntheticDataset.generate(out, s);
    PrintWriter w = spec.commandLine().getOut();
    w.printf("wrote %d classes, %d/%d/%d train/val/test images under %s%n", classes,
        g.splits().train().size(), g.splits().val().size(), g.splits().test().size(), g.imageRoot());
    w.println("split file: " + g.splitFile());
    w.flush();
  }
}
