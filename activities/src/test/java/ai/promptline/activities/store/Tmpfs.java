package ai.promptline.activities.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A small tmpfs mounted for a test (a full disk without filling the machine's); the test is skipped,
 * saying why, where mounting is not permitted (not root, or no CAP_SYS_ADMIN in a container).
 */
public final class Tmpfs implements AutoCloseable {
  private final Path dir;

  private Tmpfs(Path dir) {
    this.dir = dir;
  }

  /** Mounts a tmpfs of {@code size} (e.g. "1m") on {@code dir} (created), or aborts the test. */
  public static Tmpfs mount(Path dir, String size) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    String out = run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()));
    Assumptions.assumeTrue(out == null, "skipped: cannot mount a " + size + " tmpfs on " + dir
        + " to simulate a full disk (needs root / CAP_SYS_ADMIN): " + out);
    return new Tmpfs(dir);
  }

  public Path dir() {
    return dir;
  }

  @Override
  public void close() throws IOException {
    String out;
    try {
      out = run(List.of("umount", dir.toString()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted unmounting " + dir, e);
    }
    if (out != null) throw new IOException("cannot unmount " + dir + ": " + out);
  }

  /** Null on success, else what the command said. */
  private static String run(List<String> cmd) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      return e.getMessage();
    }
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return String.join(" ", cmd) + " timed out";
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    return p.exitValue() == 0 ? null : String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out;
  }
}
