package ai.promptline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.ml.clip.ClipCheckpoints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code clip pretrain}: a two-step run writes the model and its report; an existing --out is refused. */
class ClipPretrainCommandTest {
  @TempDir Path dir;

  @Test
  void writesTheCheckpointAndItsReport_andRefusesToOverwriteWithoutTheFlag() throws Exception {
    Path out = dir.resolve("tiny.safetensors");
    CliRun r = CliRun.of("clip", "pretrain", "--out", out.toString(), "--steps", "2", "--batch", "4");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("zero-shot 24-way accuracy, shifted rendering"), r.out());
    JsonNode report = new ObjectMapper().readTree(dir.resolve("tiny.safetensors.json").toFile());
    assertEquals(ClipCheckpoints.sha256(out), report.get("sha256").asText());
    assertEquals(2, report.get("curve[step,loss,logitScale,lr]").size());
    assertTrue(report.get("command").asText().contains("--steps 2 --batch 4"), report.toString());
    assertFalse(Files.exists(dir.resolve("tiny.safetensors.resume.safetensors")), "the resume checkpoint is removed at the end");
    CliRun inspect = CliRun.of("clip", "inspect", "--weights", out.toString());
    assertEquals(0, inspect.code(), inspect.err());

    byte[] before = Files.readAllBytes(out);
    CliRun again = CliRun.of("clip", "pretrain", "--out", out.toString(), "--steps", "2", "--batch", "4");
    assertEquals(2, again.code());
    assertTrue(again.err().contains("already exists; pass --overwrite to replace it"), again.err());
    assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(out)), "the existing file is untouched");
  }

  @Test
  void badOptionsAreNamed() {
    CliRun r = CliRun.of("clip", "pretrain", "--out", dir.resolve("x.safetensors").toString(), "--batch", "1");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--batch must be at least 2"), r.err());
  }
}
