package ai.promptline.activities.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.activities.retry.FakeClock;
import ai.promptline.activities.retry.Retrier;
import ai.promptline.activities.retry.Transients;
import ai.promptline.activities.store.ObjectStore.StoreException;
import ai.promptline.workflows.model.Stages.BlobRef;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retrying store over a store that refuses connections for a while (a MinIO restart): calls
 * succeed once it is back, a missing key or corrupt bytes fail at once, the budget ends with a
 * message naming MinIO and its endpoint, and inside an activity the waits heartbeat the
 * activity's own last details instead of clobbering them.
 */
public class RetryingObjectStoreTest {
  @TempDir Path dir;

  /** Fails every operation with "connection refused" while {@code down > 0}, counting down per call. */
  static final class FlakyStore implements ObjectStore {
    final ObjectStore inner;
    final AtomicInteger down = new AtomicInteger();
    final AtomicInteger calls = new AtomicInteger();

    FlakyStore(ObjectStore inner) {
      this.inner = inner;
    }

    private void maybeFail(String key) {
      calls.incrementAndGet();
      if (down.getAndUpdate(n -> n > 0 ? n - 1 : n) > 0)
        throw new StoreException("cannot write '" + key + "' to " + describe() + ": Failed to connect to /127.0.0.1:9000",
            new ConnectException("Connection refused"));
    }

    @Override
    public BlobRef put(String key, byte[] data) {
      maybeFail(key);
      return inner.put(key, data);
    }

    @Override
    public Optional<Blob> read(String key) {
      maybeFail(key);
      return inner.read(key);
    }

    @Override
    public Optional<Stat> stat(String key) {
      maybeFail(key);
      return inner.stat(key);
    }

    @Override
    public List<String> list(String prefix) {
      maybeFail(prefix);
      return inner.list(prefix);
    }

    @Override
    public void delete(String key) {
      maybeFail(key);
      inner.delete(key);
    }

    @Override
    public String describe() {
      return "s3://promptline at http://127.0.0.1:9000";
    }
  }

  private FlakyStore flaky;
  private final FakeClock clock = new FakeClock();

  private RetryingObjectStore store(Duration budget) {
    flaky = new FlakyStore(new LocalObjectStore(dir.resolve("s")));
    return new RetryingObjectStore(flaky, new Retrier(RetryingObjectStore.serviceName("MinIO", flaky), budget, clock, clock,
        new SplittableRandom(1), Transients::isTransient));
  }

  @Test
  void anOutageShorterThanTheBudget_isWaitedOut() {
    RetryingObjectStore s = store(Duration.ofMinutes(5));
    flaky.down.set(3);
    BlobRef ref = s.put("runs/k/ckpt/epoch-00001.safetensors", "abc".getBytes(StandardCharsets.UTF_8));
    assertEquals(4, flaky.calls.get());
    assertEquals(3, clock.sleeps.size());
    flaky.down.set(2);
    assertArrayEquals("abc".getBytes(StandardCharsets.UTF_8), s.get(ref));
    flaky.down.set(1);
    assertEquals(List.of("runs/k/ckpt/epoch-00001.safetensors"), s.list("runs/k/"));
  }

  @Test
  void aMissingKey_andCorruptBytes_failAtOnce() {
    RetryingObjectStore s = store(Duration.ofMinutes(5));
    assertEquals(Optional.empty(), s.find("nope"));
    assertEquals(1, flaky.calls.get());
    BlobRef ref = s.put("a", new byte[] {1, 2, 3});
    flaky.calls.set(0);
    BlobRef wrong = new BlobRef("a", "00" + ref.sha256().substring(2), 3);
    StoreException e = assertThrows(StoreException.class, () -> s.get(wrong));
    assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
    assertEquals(1, flaky.calls.get(), "corrupt data is not retried");
    assertEquals(0, clock.sleeps.size());
  }

  @Test
  void anOutageLongerThanTheBudget_failsNamingMinioItsEndpointAndTheFix_andStaysRetryable() {
    RetryingObjectStore s = store(Duration.ofSeconds(90));
    flaky.down.set(Integer.MAX_VALUE);
    StoreException e = assertThrows(StoreException.class, () -> s.put("runs/k/x", new byte[1]));
    assertTrue(e.getMessage().startsWith("MinIO (object store s3://promptline at http://127.0.0.1:9000) unreachable for 1m30s ("
        + flaky.calls.get() + " tries) writing 'runs/k/x': Connection refused — check ./promptline services status"), e.getMessage());
    assertEquals(90_000_000_000L, clock.nanos);
  }

  // ------------------------------------------------------------------ inside an activity

  public record Progress(int epochsDone, String checkpoint) {}

  @ActivityInterface
  public interface Saver {
    Progress save(int outage);
  }

  /**
   * Real time here: with a 1 s heartbeat timeout, waits of about 2-3 s in all would time the
   * activity out unless they heartbeat, and what they send must be the activity's own details.
   */
  @Test
  void insideAnActivity_theWaitsHeartbeatTheActivitysLastDetails_unchanged() {
    flaky = new FlakyStore(new LocalObjectStore(dir.resolve("s")));
    AtomicInteger waits = new AtomicInteger();
    RetryingObjectStore s = new RetryingObjectStore(flaky, new Retrier("MinIO", Duration.ofMinutes(5), Retrier.Clock.SYSTEM,
        ms -> {
          waits.incrementAndGet();
          Thread.sleep(ms);
        }, new SplittableRandom(1), Transients::isTransient));
    List<Object> beats = new CopyOnWriteArrayList<>();
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.setActivityHeartbeatListener(Progress.class, beats::add);
      env.registerActivitiesImplementations((Saver) outage -> {
        Activity.getExecutionContext().heartbeat(new Progress(7, "ckpt/epoch-00007"));
        flaky.down.set(outage);
        s.put("ckpt/epoch-00008", new byte[] {8});
        // the details are still the activity's own record, usable by a retried attempt
        return Activity.getExecutionContext().getHeartbeatDetails(Progress.class).orElseThrow();
      });
      Saver saver = env.newActivityStub(Saver.class, ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofMinutes(30)).setHeartbeatTimeout(Duration.ofSeconds(1))
          .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build()).build());
      assertEquals(new Progress(7, "ckpt/epoch-00007"), saver.save(3));
    } finally {
      env.close();
    }
    assertEquals(3, waits.get());
    assertArrayEquals(new byte[] {8}, flaky.inner.find("ckpt/epoch-00008").orElseThrow());
    // the SDK throttles heartbeats (one per 0.8 x timeout): the activity's own, then at least one sent by the waits
    assertTrue(beats.size() >= 2, "the waits heartbeat: " + beats);
    assertTrue(beats.stream().allMatch(new Progress(7, "ckpt/epoch-00007")::equals), beats.toString());
  }
}
