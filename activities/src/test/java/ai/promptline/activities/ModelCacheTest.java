package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipWeights;
import ai.promptline.ml.clip.Safetensors;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.ModelRef;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker's model cache: verified against the campaign's SHA-256, reused while the key is unchanged. */
class ModelCacheTest {
  @TempDir Path dir;

  private Path writeTiny(String name, long seed) throws Exception {
    Path f = dir.resolve(name);
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> w = ClipWeights.random(ClipConfig.tinyVit(), seed, m);
      Safetensors.write(f, w, ClipWeights.metadataFor(ClipConfig.tinyVit()));
    }
    return f;
  }

  @Test
  void get_verifiesTheHash_cachesByKey_andRejectsMismatchesAsNonRetryable() throws Exception {
    Path a = writeTiny("a.safetensors", 1);
    Path b = writeTiny("b.safetensors", 2);
    String shaA = ModelCache.sha256(a);
    assertEquals(ContentKeys.sha256Hex(Files.readAllBytes(a)), shaA);
    try (ModelCache cache = new ModelCache()) {
      ClipModel m1 = cache.get(new ModelRef("tiny", a.toString(), shaA));
      assertEquals(ClipConfig.tinyVit().embedDim(), m1.config().embedDim());
      assertSame(m1, cache.get(new ModelRef("other name", a.toString(), shaA)), "same weights and hash: reused");
      ClipModel m2 = cache.get(new ModelRef("tiny", b.toString(), ModelCache.sha256(b)));
      assertNotSame(m1, m2);

      ApplicationFailure wrong = assertThrows(ApplicationFailure.class,
          () -> cache.get(new ModelRef("tiny", a.toString(), ModelCache.sha256(b))));
      assertEquals("InvalidInput", wrong.getType());
      assertTrue(wrong.isNonRetryable());
      assertTrue(wrong.getOriginalMessage().contains(shaA), wrong.getOriginalMessage());

      ApplicationFailure missing = assertThrows(ApplicationFailure.class,
          () -> cache.get(new ModelRef("tiny", dir.resolve("absent.pt").toString(), "abc")));
      assertEquals("InvalidInput", missing.getType());
      assertTrue(missing.getOriginalMessage().contains("does not exist"), missing.getOriginalMessage());
    }
  }

  @Test
  void key_isAStableHashOfTheParts() {
    assertEquals(ModelCache.key("a", "b"), ModelCache.key("a", "b"));
    assertEquals(ContentKeys.sha256Hex("a\nb"), ModelCache.key("a", "b"));
    assertTrue(!ModelCache.key("ab", "c").equals(ModelCache.key("a", "bc")));
  }
}
