package ai.promptline.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code ./promptline} launcher: one picocli command tree for every user command. */
@Command(
    name = "promptline",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Prompt-learning benchmarks on frozen CLIP models, orchestrated by Temporal.",
    subcommands = {
      DemoCommand.class,
      CampaignCommand.class,
      ScheduleCommand.class,
      WorkerCommand.class,
      ServicesCommand.class,
      DataCommand.class,
      ClipCommand.class,
      MethodCommand.class,
      TestCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /** The command line with Promptline's error handling: one clear line on stderr, non-zero exit. */
  public static CommandLine newCommandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine cmd = ex.getCommandLine();
          cmd.getErr().println("error: " + ex.getMessage().replace('\n', ' ')
              + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
          return 2;
        });
    cl.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          cmd.getErr().println("error: " + Errors.describe(ex));
          if (System.getenv("PROMPTLINE_DEBUG") != null) ex.printStackTrace(cmd.getErr());
          return 2;
        });
    return cl;
  }
}
