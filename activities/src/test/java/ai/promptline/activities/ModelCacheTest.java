package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
      ClipModel m1;
      try (ModelCache.Lease l1 = cache.acquire(new ModelRef("tiny", a.toString(), shaA))) {
        m1 = l1.model();
        assertEquals(ClipConfig.tinyVit().embedDim(), m1.config().embedDim());
      }
      try (ModelCache.Lease again = cache.acquire(new ModelRef("other name", a.toString(), shaA))) {
        assertSame(m1, again.model(), "same weights and hash: reused");
      }
      try (ModelCache.Lease l2 = cache.acquire(new ModelRef("tiny", b.toString(), ModelCache.sha256(b)))) {
        assertNotSame(m1, l2.model());
        assertEquals(1, cache.loaded(), "the unused model was closed before loading another");
      }

      ApplicationFailure wrong = assertThrows(ApplicationFailure.class,
          () -> cache.acquire(new ModelRef("tiny", a.toString(), ModelCache.sha256(b))));
      assertEquals("InvalidInput", wrong.getType());
      assertTrue(wrong.isNonRetryable());
      assertTrue(wrong.getOriginalMessage().contains(shaA), wrong.getOriginalMessage());

      ApplicationFailure missing = assertThrows(ApplicationFailure.class,
          () -> cache.acquire(new ModelRef("tiny", dir.resolve("absent.pt").toString(), "abc")));
      assertEquals("InvalidInput", missing.getType());
      assertTrue(missing.getOriginalMessage().contains("does not exist"), missing.getOriginalMessage());
    }
  }

  /** Two activity slots with different models: neither model is closed under the other slot. */
  @Test
  void leasedModels_areNeverEvicted_andUnusedOnesBeyondTheLimitAre() throws Exception {
    Path a = writeTiny("a.safetensors", 1);
    Path b = writeTiny("b.safetensors", 2);
    ModelRef refA = new ModelRef("tiny", a.toString(), ModelCache.sha256(a));
    ModelRef refB = new ModelRef("tiny", b.toString(), ModelCache.sha256(b));
    ModelRef refA16 = new ModelRef("tiny", a.toString(), refA.sha256(), "fp16");
    try (ModelCache cache = new ModelCache(1);
        NDManager m = NDManager.newBaseManager()) {
      ModelCache.Lease slot1 = cache.acquire(refA);
      ModelCache.Lease slot2 = cache.acquire(refB);
      ModelCache.Lease slot3 = cache.acquire(refA16);
      assertEquals(3, cache.loaded());
      assertNotSame(slot1.model(), slot3.model(), "precision is part of the key");
      ClipModel fp16 = slot3.model();
      NDArray ids = m.create(new long[] {49406, 320, 49407}, new ai.djl.ndarray.types.Shape(1, 3));
      slot2.close();
      slot3.close();
      assertEquals(2, cache.loaded(), "one unused model kept, the least recently used one closed");
      assertEquals(1, slot1.model().encodeText(ids).getShape().get(0), "slot 1's model still works");
      try (ModelCache.Lease again = cache.acquire(refA16)) {
        assertSame(fp16, again.model(), "the kept model is the most recently used");
      }
      slot1.close();
      assertEquals(1, cache.loaded());
      assertThrows(IllegalStateException.class, slot1::model);
    }
  }

  /**
   * The cache key names the device: the same weights leased for two devices are two entries (two
   * slots on different GPUs never share an instance). This machine's DJL has one CPU device, so the
   * GPU case is checked on the key; a lease on the CPU loads the model there, counted as a miss and
   * then a hit of the model cache.
   */
  @Test
  void theKeyNamesTheDevice_andALeaseLoadsOnTheDeviceAskedFor() throws Exception {
    Path a = writeTiny("a.safetensors", 1);
    ModelRef ref = new ModelRef("tiny", a.toString(), ModelCache.sha256(a));
    assertNotEquals(ModelCache.cacheKey(ref, ai.djl.Device.gpu(0)), ModelCache.cacheKey(ref, ai.djl.Device.gpu(1)));
    assertNotEquals(ModelCache.cacheKey(ref, ai.djl.Device.gpu(0)), ModelCache.cacheKey(ref, ai.djl.Device.cpu()));
    assertEquals(ModelCache.cacheKey(ref, ai.djl.Device.gpu(1)), ModelCache.cacheKey(new ModelRef("renamed", a.toString(), ref.sha256()),
        ai.djl.Device.gpu(1)), "the model's display name is not part of the key");
    io.micrometer.core.instrument.MeterRegistry reg = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    try (ModelCache cache = new ModelCache(1, PromptlineMetrics.of(reg))) {
      ClipModel first;
      try (ModelCache.Lease l = cache.acquire(ref, ai.djl.Device.cpu())) {
        first = l.model();
        assertEquals(ai.djl.Device.cpu(), first.device());
        assertEquals(ai.djl.Device.cpu(), first.weights().get("token_embedding.weight").getDevice(), "the weights live on the slot's device");
      }
      try (ModelCache.Leases l = cache.acquireAll(java.util.List.of(ref), ai.djl.Device.cpu())) {
        assertSame(first, l.model(0));
      }
      assertEquals(1, cache.loaded());
      assertEquals(1.0, reg.get(PromptlineMetrics.CACHE).tags("cache", "model", "result", "miss").counter().count());
      assertEquals(1.0, reg.get(PromptlineMetrics.CACHE).tags("cache", "model", "result", "hit").counter().count());
    }
  }

  @Test
  void key_isAStableHashOfTheParts() {
    assertEquals(ModelCache.key("a", "b"), ModelCache.key("a", "b"));
    assertEquals(ContentKeys.sha256Hex("a\nb"), ModelCache.key("a", "b"));
    assertTrue(!ModelCache.key("ab", "c").equals(ModelCache.key("a", "bc")));
  }

  /**
   * A run's main model and its experts are leased together: none is evicted while the group is
   * held, the group is released together, a failing member releases the others, and the group stays
   * loaded for the next run with the same models.
   */
  @Test
  void aGroupLease_holdsEveryModel_releasesThemTogether_andKeepsTheGroupLoaded() throws Exception {
    Path a = writeTiny("a.safetensors", 1);
    Path b = writeTiny("b.safetensors", 2);
    Path c = writeTiny("c.safetensors", 3);
    ModelRef refA = new ModelRef("main", a.toString(), ModelCache.sha256(a));
    ModelRef refB = new ModelRef("expert", b.toString(), ModelCache.sha256(b));
    ModelRef refC = new ModelRef("other", c.toString(), ModelCache.sha256(c));
    try (ModelCache cache = new ModelCache(1)) {
      ClipModel first;
      try (ModelCache.Leases group = cache.acquireAll(java.util.List.of(refA, refB))) {
        assertEquals(2, group.size());
        assertNotSame(group.model(0), group.model(1));
        first = group.model(1);
        try (ModelCache.Lease other = cache.acquire(refC)) {
          assertEquals(3, cache.loaded(), "leased models are never evicted to load another");
          assertTrue(group.model(0).weights().size() > 0, "still open");
        }
      }
      assertEquals(2, cache.loaded(), "the group stays loaded for the next run with the same models");
      try (ModelCache.Leases again = cache.acquireAll(java.util.List.of(refA, refB))) {
        assertSame(first, again.model(1), "expert reused, not reloaded");
      }
      ModelRef bad = new ModelRef("RN50", b.toString(), "0000");
      ApplicationFailure wrong = assertThrows(ApplicationFailure.class, () -> cache.acquireAll(java.util.List.of(refA, bad)));
      assertTrue(wrong.getOriginalMessage().contains("model 'RN50'") && wrong.getOriginalMessage().contains("0000"),
          wrong.getOriginalMessage());
      try (ModelCache.Lease solo = cache.acquire(refC)) {
        assertEquals(2, cache.loaded(), "the failed group released its main model: it could be evicted");
      }
      ModelCache.Leases held = cache.acquireAll(java.util.List.of(refA, refB));
      held.close();
      held.close(); // idempotent
      assertThrows(IllegalStateException.class, () -> held.model(0));
    }
  }
}
