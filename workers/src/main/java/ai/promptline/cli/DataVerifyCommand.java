package ai.promptline.cli;

import ai.promptline.ml.data.BenchmarkDataset;
import ai.promptline.ml.data.DatasetValidator;
import ai.promptline.ml.data.Datasets;
import ai.promptline.ml.data.SplitItem;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code promptline data verify <dataset> --root DIR [--deep]}: validates a whole dataset (every
 * image exists and looks like an image, labels in range, class names consistent) and prints a
 * summary with the fingerprint; on any problem the error lists the count and first entries and the
 * exit code is non-zero.
 */
@Command(name = "verify", mixinStandardHelpOptions = true, description = "Validate a dataset folder and print a summary.")
public final class DataVerifyCommand implements Runnable {
  @Spec CommandSpec spec;

  @Parameters(index = "0", description = "dataset name, e.g. EuroSAT, OxfordPets, ImageNet, imagefolder, csv, Synthetic")
  String dataset;

  @Option(names = "--root", required = true, description = "dataset folder or the $DATA folder containing it")
  Path root;

  @Option(names = "--deep", description = "decode every image and hash file bytes (slow)")
  boolean deep;

  @Override
  public void run() {
    BenchmarkDataset ds = Datasets.open(dataset, root, deep ? DatasetValidator.Mode.DEEP : DatasetValidator.Mode.STANDARD);
    PrintWriter out = spec.commandLine().getOut();
    out.println("dataset:     " + ds.name());
    out.println("root:        " + ds.root());
    out.println("image root:  " + ds.imageRoot());
    out.println("classes:     " + ds.classNames().size());
    out.println("template:    " + ds.template());
    for (String s : List.of("train", "val", "test")) {
      List<SplitItem> items = ds.splits().get(s);
      long classes = items.stream().mapToInt(SplitItem::label).distinct().count();
      out.printf("%-12s %d images, %d classes%n", s + ":", items.size(), classes);
    }
    out.println("fingerprint: " + ds.fingerprint() + (deep ? " (deep)" : ""));
    out.println("status:      OK");
    out.flush();
  }
}
