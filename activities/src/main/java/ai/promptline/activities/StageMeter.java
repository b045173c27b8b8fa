package ai.promptline.activities;

import ai.djl.Device;
import ai.promptline.workflows.model.Stages.StageCost;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Measures one stage inside its activity: started when the activity starts, finished into a
 * {@link StageCost} just before it returns. Memory figures are the worker process's high-water
 * marks (Linux {@code VmHWM}; the JVM heap pools' peak usage): they are never reset, because slots
 * of one worker run stages concurrently and a reset would corrupt their numbers, so a figure covers
 * the stage and everything the worker ran before it — the memory the worker needed to get there.
 */
public final class StageMeter {
  private static final Path STATUS = Path.of("/proc/self/status");
  private final long startNanos;

  private StageMeter(long startNanos) {
    this.startNanos = startNanos;
  }

  public static StageMeter start() {
    return new StageMeter(System.nanoTime());
  }

  public long elapsedMillis() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  /** The stage's cost so far, without compute figures (a stage that only reads and writes records). */
  public StageCost finish() {
    return finish(null, null, null, null);
  }

  /**
   * @param images images or feature rows processed, or null
   * @param steps optimizer steps, or null
   * @param stepMillis mean ms per optimizer step, or null
   * @param device the DJL device computed on, or null
   */
  public StageCost finish(Long images, Long steps, Double stepMillis, Device device) {
    return new StageCost(elapsedMillis(), images, steps, stepMillis, rssPeakBytes(), heapPeakBytes(),
        device == null ? null : deviceMemBytes(device), device == null ? null : String.valueOf(device));
  }

  /** The device a model's weights live on (where its stages compute). */
  public static Device deviceOf(ai.promptline.ml.clip.ClipModel clip) {
    var w = clip.weights();
    return w.isEmpty() ? null : w.values().iterator().next().getDevice();
  }

  /**
   * Wall time of optimizer steps only: {@link #resume} before the loop and after each epoch's
   * checkpoint and metric writes, {@link #step} after each step; what lies between a step and the
   * next resume (the epoch's bookkeeping) is not counted.
   */
  public static final class Steps {
    private long steps;
    private long nanos;
    private long mark = System.nanoTime();

    public synchronized void resume() {
      mark = System.nanoTime();
    }

    public synchronized void step() {
      long now = System.nanoTime();
      nanos += now - mark;
      steps++;
      mark = now;
    }

    public synchronized long count() {
      return steps;
    }

    /** Mean ms per step; null before the first. */
    public synchronized Double meanMillis() {
      return steps == 0 ? null : nanos / 1e6 / steps;
    }

    public synchronized double totalSeconds() {
      return nanos / 1e9;
    }
  }

  /** {@code VmHWM} of /proc/self/status in bytes; null where there is no such file (not Linux). */
  public static Long rssPeakBytes() {
    try {
      return parseKb(Files.readString(STATUS), "VmHWM:");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The value of a {@code Key:   123 kB} line in bytes, or null when absent. */
  static Long parseKb(String status, String key) {
    for (String line : status.split("\n")) {
      if (!line.startsWith(key)) continue;
      String[] f = line.substring(key.length()).trim().split("\\s+");
      long v = Long.parseLong(f[0]);
      return f.length > 1 && f[1].equalsIgnoreCase("kB") ? v * 1024 : v;
    }
    return null;
  }

  /** Sum of the heap memory pools' peak usage (eden, survivor, old gen, …) in bytes. */
  public static Long heapPeakBytes() {
    long sum = 0;
    boolean any = false;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() != MemoryType.HEAP || !pool.isValid() || pool.getPeakUsage() == null) continue;
      sum += pool.getPeakUsage().getUsed();
      any = true;
    }
    return any ? sum : null;
  }

  /**
   * Device memory in use on a GPU (cudaMemGetInfo through DJL: the whole device); null on CPU or
   * where CUDA cannot be queried. DJL 0.36 binds no peak-allocated query of PyTorch.
   */
  static Long deviceMemBytes(Device device) {
    if (device == null || !device.isGpu()) return null;
    try {
      return ai.djl.util.cuda.CudaUtils.getGpuMemory(device).getUsed();
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }
}
