package ai.promptline.activities;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.ArrayList;
import java.util.List;

/**
 * The compute slots of a worker, one device each: on a machine with G GPUs, {@code --slots N}
 * (N &le; G) pins slot i to {@code gpu(i)}; on a machine without GPUs the N slots are CPU slots. A
 * compute activity holds a slot ({@link #acquire}) for its whole duration and creates every tensor
 * and model on the slot's device, so two activities never share a GPU and a model loaded for one
 * device is never used on another ({@link ModelCache} keys by device).
 *
 * <p>Temporal already runs at most N compute activities at once on a worker with N slots, so
 * {@link #acquire} finds a free slot at once there; it waits only when more callers than slots
 * share a pool directly.
 */
public final class DevicePool {
  /** A held slot; {@link #close} frees it. */
  public final class Slot implements AutoCloseable {
    private final int index;
    private boolean closed;

    private Slot(int index) {
      this.index = index;
    }

    public Device device() {
      return devices.get(index);
    }

    public int index() {
      return index;
    }

    @Override
    public void close() {
      synchronized (DevicePool.this) {
        if (closed) return;
        closed = true;
        busy[index] = false;
        metrics.slotFreed();
        DevicePool.this.notifyAll();
      }
    }
  }

  private final List<Device> devices;
  private final boolean[] busy;
  private final PromptlineMetrics metrics;

  /** A pool over {@code devices} (one slot each; a device may be listed more than once, e.g. cpu). */
  public DevicePool(List<Device> devices, PromptlineMetrics metrics) {
    if (devices.isEmpty()) throw new IllegalArgumentException("a device pool needs at least one slot");
    this.devices = List.copyOf(devices);
    this.busy = new boolean[devices.size()];
    this.metrics = metrics == null ? PromptlineMetrics.NONE : metrics;
    this.metrics.slotsAdded(devices.size());
  }

  /** {@code slots} slots on this machine (GPUs as the PyTorch engine counts them). */
  public static DevicePool forSlots(int slots, PromptlineMetrics metrics) {
    return new DevicePool(devices(slots, gpuCount()), metrics);
  }

  /**
   * The devices of {@code slots} slots on a machine with {@code gpus} GPUs: {@code gpu(0..slots-1)},
   * or {@code slots} times the CPU when there is no GPU.
   *
   * @throws IllegalArgumentException for fewer than one slot, or more slots than GPUs
   */
  public static List<Device> devices(int slots, int gpus) {
    if (slots < 1) throw new IllegalArgumentException("--slots must be >= 1, got " + slots + " (concurrent compute activities, one per GPU)");
    if (gpus > 0 && slots > gpus)
      throw new IllegalArgumentException("--slots " + slots + " but this machine has " + gpus + " GPU" + (gpus == 1 ? "" : "s")
          + ": a slot is pinned to one GPU, so give --slots 1 to " + gpus);
    List<Device> out = new ArrayList<>(slots);
    for (int i = 0; i < slots; i++) out.add(gpus > 0 ? Device.gpu(i) : Device.cpu());
    return out;
  }

  /** GPUs the PyTorch engine sees (0 when it cannot tell, e.g. its natives are CPU-only). */
  public static int gpuCount() {
    try {
      return Engine.getEngine("PyTorch").getGpuCount();
    } catch (RuntimeException | LinkageError e) {
      return 0;
    }
  }

  /** Takes a free slot (the lowest-numbered), waiting until one is free. */
  public synchronized Slot acquire() {
    while (true) {
      for (int i = 0; i < busy.length; i++) {
        if (!busy[i]) {
          busy[i] = true;
          metrics.slotTaken();
          return new Slot(i);
        }
      }
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a free compute slot", e);
      }
    }
  }

  public List<Device> devices() {
    return devices;
  }

  public int size() {
    return devices.size();
  }

  /** Slots held now. */
  public synchronized int busy() {
    int n = 0;
    for (boolean b : busy) n += b ? 1 : 0;
    return n;
  }
}
