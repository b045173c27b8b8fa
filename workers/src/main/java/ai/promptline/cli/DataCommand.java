package ai.promptline.cli;

import picocli.CommandLine.Command;

/**
 * {@code promptline data ...}: inspect and prepare datasets without training anything.
 * Subcommands: {@code fewshot} (which images a (shots, seed) run uses), {@code verify} (validate a
 * dataset folder and print its fingerprint) and {@code synth} (write the synthetic demo dataset).
 */
@Command(
    name = "data",
    mixinStandardHelpOptions = true,
    description = "Dataset tools: few-shot subsets, verification, synthetic data.",
    subcommands = {DataFewshotCommand.class, DataVerifyCommand.class, DataSynthCommand.class, DataLayoutCommand.class})
public final class DataCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
