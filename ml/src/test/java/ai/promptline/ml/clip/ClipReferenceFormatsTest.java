package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The reference stage of {@code ./promptline test} (tag {@code reference}): the reference packages
 * write ViT-B/32, ViT-B/16 and RN50 checkpoints in their real geometry (every width, head count,
 * resolution and the 49,408-token vocabulary real; depth reduced to 2 layers per tower, ResNet
 * stages 1-1-1-1) in every format ({@code tools/golden/clip_formats.py}), and each file must load,
 * infer its config and match the reference outputs as {@link ClipFormatsTest} requires. Needs the
 * reference venv ({@code tools/bench/ensure_venv.sh}); {@code PROMPTLINE_REFERENCE_PYTHON} names
 * its python. Writes a table of the measured errors to {@code target/reference-formats/report.md}.
 */
@Tag("reference")
class ClipReferenceFormatsTest {

  @Test
  void realGeometryCheckpointsWrittenByTheReferencePackagesLoadAndMatch() throws Exception {
    Path root = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    Path repo = root.getFileName().toString().equals("ml") ? root.getParent() : root;
    String py = System.getenv().getOrDefault("PROMPTLINE_REFERENCE_PYTHON", repo.resolve(".venv/bin/python").toString());
    assertTrue(Files.isExecutable(Path.of(py)), "reference python " + py + " missing: run tools/bench/ensure_venv.sh");
    Path out = repo.resolve("ml/target/reference-formats");
    Process p = new ProcessBuilder(py, repo.resolve("tools/golden/clip_formats.py").toString(), "--out", out.toString(),
        "--arch", "ViT-B/32,ViT-B/16,RN50", "--layers", "2").redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(20, TimeUnit.MINUTES), "clip_formats.py timed out");
    assertEquals(0, p.exitValue(), "clip_formats.py failed:\n" + log);
    List<ClipFormatsTest.Measured> all = new ArrayList<>();
    for (String arch : List.of("ViT-B-32", "ViT-B-16", "RN50")) {
      List<ClipFormatsTest.Measured> m = ClipFormatsTest.checkArchitecture(out.resolve(arch));
      assertEquals(arch.startsWith("ViT") ? 15 : 12, m.size(), arch);
      all.addAll(m);
    }
    StringBuilder md = new StringBuilder("| file | output | error | bound |\n|---|---|---|---|\n");
    for (ClipFormatsTest.Measured m : all) {
      md.append(String.format("| %s | %s | %.3g | %.3g |%n", m.file(), m.what(), m.error(), m.bound()));
    }
    Files.writeString(out.resolve("report.md"), md);
  }
}
