package ai.promptline.cli;

import picocli.CommandLine.Command;

/** {@code promptline data ...}: placeholder, subcommands are added by the data work. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "data commands.")
public final class DataCommand {}
