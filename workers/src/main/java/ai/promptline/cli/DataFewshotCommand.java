package ai.promptline.cli;

import ai.promptline.ml.data.FewShot;
import ai.promptline.ml.data.SplitFile;
import ai.promptline.ml.data.SplitItem;
import ai.promptline.ml.data.Splits;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code promptline data fewshot --split FILE --shots K --seed S}: prints the few-shot train
 * relPaths in sampling order, a line {@code --}, then the val relPaths; identical to what CoOp's
 * {@code generate_fewshot_dataset} picks for that seed. Needs only the split JSON.
 */
@Command(name = "fewshot", mixinStandardHelpOptions = true,
    description = "Print the few-shot train (then '--', then val) paths CoOp would sample.")
public final class DataFewshotCommand implements Runnable {
  @Spec CommandSpec spec;

  @Option(names = "--split", required = true, description = "split_zhou_<Name>.json file")
  Path split;

  @Option(names = "--shots", required = true, description = "shots per class K (val uses min(K, 4))")
  int shots;

  @Option(names = "--seed", required = true, description = "seed (CoOp's --seed / cfg.SEED)")
  long seed;

  @Override
  public void run() {
    if (!Files.isRegularFile(split)) throw new IllegalArgumentException("split file not found: " + split);
    if (shots < 1) throw new IllegalArgumentException("--shots must be >= 1, got " + shots);
    Splits fs = FewShot.trainVal(SplitFile.read(split), shots, seed);
    PrintWriter out = spec.commandLine().getOut();
    for (SplitItem it : fs.train()) out.println(it.relPath());
    out.println("--");
    for (SplitItem it : fs.val()) out.println(it.relPath());
    out.flush();
  }
}
