package ai.promptline.cli;

import picocli.CommandLine.Command;

/** {@code promptline clip ...}: placeholder, subcommands are added by the clip work. */
@Command(name = "clip", mixinStandardHelpOptions = true, description = "clip commands.")
public final class ClipCommand {}
