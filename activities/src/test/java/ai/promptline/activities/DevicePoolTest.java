package ai.promptline.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Compute slots pinned to devices: one GPU per slot, CPU slots without GPUs, refusal of more slots than GPUs. */
class DevicePoolTest {
  @Test
  void slots_arePinnedOneGpuEach_orAreCpuSlotsWithoutGpus() {
    assertEquals(List.of(Device.gpu(0), Device.gpu(1), Device.gpu(2)), DevicePool.devices(3, 4));
    assertEquals(List.of(Device.gpu(0)), DevicePool.devices(1, 8));
    assertEquals(List.of(Device.cpu(), Device.cpu(), Device.cpu()), DevicePool.devices(3, 0), "CPU-only: every slot on the CPU");
  }

  @Test
  void moreSlotsThanGpus_isRefusedWithOneLineNamingTheFix() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DevicePool.devices(3, 2));
    assertEquals("--slots 3 but this machine has 2 GPUs: a slot is pinned to one GPU, so give --slots 1 to 2", e.getMessage());
    IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> DevicePool.devices(2, 1));
    assertTrue(one.getMessage().contains("has 1 GPU:"), one.getMessage());
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> DevicePool.devices(0, 2));
    assertTrue(zero.getMessage().startsWith("--slots must be >= 1"), zero.getMessage());
  }

  @Test
  void concurrentAcquirers_getDistinctDevices_andAThirdWaitsForARelease() throws Exception {
    MeterRegistry reg = new SimpleMeterRegistry();
    DevicePool pool = new DevicePool(DevicePool.devices(2, 2), PromptlineMetrics.of(reg));
    assertEquals(2.0, reg.get(PromptlineMetrics.SLOTS).gauge().value());
    ExecutorService threads = Executors.newFixedThreadPool(3);
    try {
      CountDownLatch bothHold = new CountDownLatch(2);
      CountDownLatch release = new CountDownLatch(1);
      Set<Device> seen = ConcurrentHashMap.newKeySet();
      List<Future<?>> holders = List.of(0, 1).stream().<Future<?>>map(i -> threads.submit(() -> {
        try (DevicePool.Slot s = pool.acquire()) {
          seen.add(s.device());
          bothHold.countDown();
          release.await();
        }
        return null;
      })).toList();
      assertTrue(bothHold.await(10, TimeUnit.SECONDS), "two slots for two acquirers");
      assertEquals(Set.of(Device.gpu(0), Device.gpu(1)), seen, "never the same device twice");
      assertEquals(2, pool.busy());
      assertEquals(2.0, reg.get(PromptlineMetrics.SLOTS_BUSY).gauge().value());

      Future<Device> third = threads.submit(() -> {
        try (DevicePool.Slot s = pool.acquire()) {
          return s.device();
        }
      });
      Thread.sleep(300);
      assertFalse(third.isDone(), "no free slot: the third acquirer waits");
      release.countDown();
      for (Future<?> h : holders) h.get(10, TimeUnit.SECONDS);
      assertTrue(Set.of(Device.gpu(0), Device.gpu(1)).contains(third.get(10, TimeUnit.SECONDS)), "a released slot is handed out again");
      assertEquals(0, pool.busy());
      assertEquals(0.0, reg.get(PromptlineMetrics.SLOTS_BUSY).gauge().value());
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void cpuSlots_shareTheCpu_andClosingTwiceFreesOnce() {
    DevicePool pool = new DevicePool(DevicePool.devices(2, 0), null);
    DevicePool.Slot a = pool.acquire();
    DevicePool.Slot b = pool.acquire();
    assertNotEquals(a.index(), b.index());
    assertEquals(Device.cpu(), a.device());
    assertEquals(Device.cpu(), b.device());
    a.close();
    a.close();
    assertEquals(1, pool.busy(), "a second close does not free the other slot");
    b.close();
    assertEquals(0, pool.busy());
  }

  @Test
  void thisMachine_hasSlotsOnItsOwnDevices() {
    int gpus = DevicePool.gpuCount();
    assertTrue(gpus >= 0);
    DevicePool pool = DevicePool.forSlots(1, null);
    assertEquals(gpus > 0 ? Device.gpu(0) : Device.cpu(), pool.devices().get(0));
  }
}
