package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The structural weights check: sound files pass, each kind of broken download is named. */
class WeightsCheckTest {
  @TempDir Path dir;

  private Path resource(String name) throws Exception {
    Path p = dir.resolve(name.replace('/', '_'));
    try (InputStream in = WeightsCheckTest.class.getResourceAsStream("/golden/clip/formats/" + name)) {
      Files.copy(in, p);
    }
    return p;
  }

  @Test
  void soundFilesPass() throws Exception {
    assertNull(WeightsCheck.problem(resource("micro-rn/openai_torchscript.pt")));
    assertNull(WeightsCheck.problem(resource("micro-rn/openclip.pt")));
    assertNull(WeightsCheck.problem(resource("micro-vit/openai.safetensors")));
    assertNull(WeightsCheck.problem(ai.promptline.ml.pretrain.TinyClip.path()));
  }

  @Test
  void truncatedZip_missesItsCentralDirectory() throws Exception {
    Path pt = resource("micro-rn/openai_torchscript.pt");
    byte[] all = Files.readAllBytes(pt);
    Files.write(pt, Arrays.copyOf(all, all.length / 2));
    String p = WeightsCheck.problem(pt);
    assertTrue(p != null && p.startsWith(pt + " is truncated: the zip's central directory is missing"), p);
  }

  @Test
  void zipWithoutOneStorage_isIncomplete() throws Exception {
    Path pt = resource("micro-rn/openai_torchscript.pt");
    Path out = dir.resolve("incomplete.pt");
    String dropped = null;
    try (ZipFile in = new ZipFile(pt.toFile()); ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(out))) {
      for (var e = in.entries(); e.hasMoreElements(); ) {
        ZipEntry x = e.nextElement();
        if (dropped == null && x.getName().contains("/data/") && !x.getName().endsWith("/")) {
          dropped = x.getName();
          continue;
        }
        z.putNextEntry(new ZipEntry(x.getName()));
        try (InputStream s = in.getInputStream(x)) {
          s.transferTo(z);
        }
        z.closeEntry();
      }
    }
    String p = WeightsCheck.problem(out);
    assertTrue(p != null && p.contains("is incomplete: storage " + dropped + " of '") && p.contains("is missing"), p);
  }

  @Test
  void safetensors_truncatedOrWithTrailingBytes() throws Exception {
    Path st = resource("micro-vit/openai.safetensors");
    byte[] all = Files.readAllBytes(st);
    Files.write(st, Arrays.copyOf(all, all.length - 100));
    String p = WeightsCheck.problem(st);
    assertTrue(p != null && p.contains("is truncated: its header describes"), p);
    Files.write(st, Arrays.copyOf(all, all.length + 7));
    p = WeightsCheck.problem(st);
    assertTrue(p != null && p.contains("has 7 bytes after its last tensor"), p);
    Files.write(st, Arrays.copyOf(all, 40)); // cut inside the header
    p = WeightsCheck.problem(st);
    assertTrue(p != null && p.contains("is truncated: its safetensors header says"), p);
  }

  @Test
  void htmlPage_lfsPointer_andEmptyFile_areNamed() throws Exception {
    Path html = dir.resolve("ViT-B-16.pt");
    Files.writeString(html, "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head></html>\n");
    String p = WeightsCheck.problem(html);
    assertTrue(p != null && p.contains("looks like an HTML page (starts with '<!DOCTYPE html>'"), p);
    Path st = dir.resolve("model.safetensors");
    Files.writeString(st, "  <html><body>Sign in</body></html>");
    assertTrue(WeightsCheck.problem(st).contains("looks like an HTML page"), WeightsCheck.problem(st));
    Path lfs = dir.resolve("lfs.pt");
    Files.writeString(lfs, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1234\n", StandardCharsets.US_ASCII);
    assertTrue(WeightsCheck.problem(lfs).contains("Git LFS pointer"), WeightsCheck.problem(lfs));
    Path empty = Files.createFile(dir.resolve("empty.pt"));
    assertTrue(WeightsCheck.problem(empty).contains("is empty (0 bytes)"), WeightsCheck.problem(empty));
  }

  @Test
  void huggingFaceFolder_needsItsWeightsAndShards() throws Exception {
    Path hf = Files.createDirectories(dir.resolve("hf"));
    String p = WeightsCheck.problem(hf);
    assertTrue(p != null && p.contains("none of model.safetensors"), p);
    Files.writeString(hf.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\"}}");
    p = WeightsCheck.problem(hf);
    assertTrue(p != null && p.contains("names shard 'model-00001-of-00002.safetensors', which is not a file"), p);
    Files.writeString(hf.resolve("config.json"), "{\"text_config\": ");
    p = WeightsCheck.problem(hf);
    assertTrue(p != null && p.contains("config.json is not valid JSON"), p);
  }
}
