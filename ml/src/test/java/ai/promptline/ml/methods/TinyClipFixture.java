package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tiny CLIP of the method goldens ({@code golden/methods/tiny_clip_compact.safetensors}) is
 * stored with its token embedding as the non-zero rows only ({@code token_embedding.ids} and
 * {@code .rows}); every other row of the 49,408 × 64 table is zero. This writes the full
 * OpenAI-layout checkpoint the reference code was run on, bit for bit.
 */
public final class TinyClipFixture {
  private TinyClipFixture() {}

  /** The method goldens' folder ({@code golden/methods} on the test classpath). */
  public static Path goldenDir() {
    try {
      return Path.of(TinyClipFixture.class.getResource("/golden/methods").toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The goldens' tiny CLIP, expanded under {@code target/golden-methods} and loaded. */
  public static ai.promptline.ml.clip.ClipModel goldenClip(NDManager manager) throws IOException {
    return ai.promptline.ml.clip.ClipModel.load(expand(goldenDir().resolve("tiny_clip_compact.safetensors"),
        Path.of("target", "golden-methods", "tiny_clip.safetensors").toAbsolutePath()), manager);
  }

  /** The goldens' images ({@code inputs.json} "images") through the test transform, {@code [N, 3, R, R]}. */
  public static NDArray goldenPixels(com.fasterxml.jackson.databind.JsonNode inputs, int size, NDManager manager) throws IOException {
    ai.promptline.ml.data.image.Transforms.ImageTransform t = ai.promptline.ml.data.image.Transforms.test(size);
    int n = inputs.get("images").size();
    float[] px = new float[n * 3 * size * size];
    for (int i = 0; i < n; i++) {
      t.apply(ai.promptline.ml.data.image.Images.readRgb(goldenDir().resolve(inputs.get("images").get(i).asText())), 0, i, px,
          i * 3 * size * size);
    }
    return manager.create(px, new Shape(n, 3, size, size));
  }

  public static Path expand(Path compact, Path out) throws IOException {
    if (Files.isRegularFile(out)) return out;
    try (NDManager m = NDManager.newBaseManager()) {
      Safetensors.Contents c = Safetensors.readContents(compact, m);
      Map<String, NDArray> sd = new LinkedHashMap<>(c.tensors());
      long[] ids = sd.remove("token_embedding.ids").toLongArray();
      NDArray rows = sd.remove("token_embedding.rows");
      int vocab = Integer.parseInt(c.metadata().get("token_embedding.vocab"));
      int width = (int) rows.getShape().get(1);
      float[] r = rows.toFloatArray();
      float[] table = new float[vocab * width];
      for (int i = 0; i < ids.length; i++) System.arraycopy(r, i * width, table, (int) ids[i] * width, width);
      sd.put("token_embedding.weight", m.create(table, new Shape(vocab, width)));
      Files.createDirectories(out.getParent());
      Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
      Safetensors.write(tmp, sd);
      Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return out;
    }
  }
}
