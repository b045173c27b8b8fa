package ai.promptline.workers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the service-level integration tests need from {@code deploy/local/services.sh} and the
 * processes it manages: running a verb, the status lines, the credentials file, and the process
 * group of each service (each runs in its own session, {@code setsid}).
 */
final class LocalServices {
  static final List<String> NAMES = List.of("temporal", "mlflow", "minio");

  private LocalServices() {}

  record Run(int code, String output) {}

  /** The repository root: {@code PROMPTLINE_ROOT}, else the nearest parent of the working directory with the script. */
  static Path root() {
    String env = System.getenv("PROMPTLINE_ROOT");
    if (env != null && !env.isBlank()) return Path.of(env).toAbsolutePath();
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent())
      if (Files.isRegularFile(d.resolve("deploy/local/services.sh"))) return d;
    throw new IllegalStateException("cannot find deploy/local/services.sh; set PROMPTLINE_ROOT");
  }

  /** Runs {@code services.sh args...} with this JVM's environment; stdout and stderr together. */
  static Run script(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("bash", root().resolve("deploy/local/services.sh").toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(root().toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("services.sh " + String.join(" ", args) + " did not finish in 10 min");
    }
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** {@code services.sh status}: service name -> its line. */
  static Map<String, String> status() throws IOException, InterruptedException {
    Map<String, String> lines = new LinkedHashMap<>();
    for (String line : script("status").output().split("\n")) {
      String[] f = line.strip().split("\\s+", 2);
      if (f.length == 2 && NAMES.contains(f[0])) lines.put(f[0], line);
    }
    return lines;
  }

  static boolean healthy(Map<String, String> status, String svc) {
    String line = status.get(svc);
    return line != null && line.contains(" healthy");
  }

  static Settings settings() {
    return Settings.fromEnv();
  }

  static Map<String, String> credentials() {
    return Settings.readEnvFile(settings().credentialsFile());
  }

  static Path home() {
    return settings().home();
  }

  /** The pids of a managed service: the process group led by the pid in run/NAME.pid. */
  static List<Long> processGroup(String svc) throws IOException {
    Path pidFile = home().resolve("run/" + svc + ".pid");
    if (!Files.exists(pidFile)) throw new AssertionError(svc + " is not managed by " + home() + " (no " + pidFile + ")");
    long leader = Long.parseLong(Files.readString(pidFile).strip());
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) continue;
        try {
          String stat = Files.readString(p.resolve("stat"));
          // pid (comm) state ppid pgrp ...: comm may contain spaces, so split after the last ')'
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          if (Long.parseLong(f[2]) == leader) pids.add(Long.parseLong(name));
        } catch (IOException | RuntimeException gone) {
          // the process exited while we looked
        }
      }
    }
    if (pids.isEmpty()) throw new AssertionError(svc + ": no process in group " + leader);
    return pids;
  }
}
