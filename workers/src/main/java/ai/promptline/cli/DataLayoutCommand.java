package ai.promptline.cli;

import ai.promptline.ml.data.BenchmarkLayouts;
import ai.promptline.ml.data.Datasets;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code promptline data layout --out DIR [--dataset NAME ...]}: miniatures of the real benchmarks at
 * their real layout under a {@code $DATA} folder, for dry-running campaign files written for the real
 * data ({@code PROMPTLINE_DATA=DIR promptline campaign plan campaigns/...}).
 */
@Command(name = "layout", mixinStandardHelpOptions = true,
    description = {"Write miniatures of the real benchmarks (real folders, split files and class counts; tiny generated images,"
        + " made-up class names) under a $DATA folder, to dry-run campaign files without the real data.",
        "Not for results: every image is a solid colour."})
public final class DataLayoutCommand implements Runnable {
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, description = "the $DATA folder to write into")
  Path out;

  @Option(names = "--dataset", description = "benchmark to write (repeatable; default: all of them)")
  List<String> datasets;

  @Option(names = "--per-class", defaultValue = "16", description = "train images per class (val and test get 1; default: ${DEFAULT-VALUE},"
      + " the most shots a campaign may ask for: planning refuses shots above a class's image count)")
  int perClass;

  @Override
  public void run() {
    if (perClass < 1) throw new IllegalArgumentException("--per-class must be >= 1, got " + perClass + " (train images per class)");
    List<String> names = datasets == null || datasets.isEmpty() ? BenchmarkLayouts.names() : new ArrayList<>();
    if (datasets != null) for (String d : datasets) names.add(Datasets.spec(d).name());
    PrintWriter w = spec.commandLine().getOut();
    for (String n : names) {
      Path folder = BenchmarkLayouts.write(n, out, new BenchmarkLayouts.Counts(perClass, 1, 1));
      w.printf("%-20s %4d classes  %s%n", n, Datasets.spec(n).classes(), folder);
    }
    w.flush();
  }
}
