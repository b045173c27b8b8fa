package ai.promptline.activities;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipCheckpoints;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.Precision;
import ai.promptline.workflows.model.ContentKeys;
import ai.promptline.workflows.model.ModelRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * The frozen CLIPs a worker holds in memory, shared by its activity slots. Consecutive runs usually
 * share a model, so models stay loaded after use; a worker with several slots may run different
 * models (or precisions) at once, so a model is handed out as a {@link Lease} and is never closed
 * while a lease on it is open. Unleased models beyond {@code keepLoaded} are closed, least
 * recently used first. The weights file is verified against the SHA-256 the campaign recorded, so
 * every worker computes with the same bytes; the key is file, hash, precision (an fp16 copy is
 * a different model) and device: a model lives on the device it was loaded on (its slot's, see
 * {@link DevicePool}), so two slots on different GPUs never share an instance.
 */
public final class ModelCache implements AutoCloseable {
  /** A model in use; close it (try-with-resources) when the activity is done with the model. */
  public final class Lease implements AutoCloseable {
    private final Entry entry;
    private boolean closed;

    private Lease(Entry entry) {
      this.entry = entry;
    }

    public ClipModel model() {
      if (closed) throw new IllegalStateException("lease already closed");
      return entry.model;
    }

    @Override
    public void close() {
      synchronized (ModelCache.this) {
        if (closed) return;
        closed = true;
        entry.leases--;
        evictUnused(keep());
      }
    }
  }

  /**
   * Leases of several models taken together (a run's main model and its experts): all or none are
   * held, and {@link #close} releases them together, so none of them is evicted while the run
   * computes.
   */
  public final class Leases implements AutoCloseable {
    private final java.util.List<Lease> leases;

    private Leases(java.util.List<Lease> leases) {
      this.leases = java.util.List.copyOf(leases);
    }

    /** The models in the order they were asked for. */
    public java.util.List<ClipModel> models() {
      return leases.stream().map(Lease::model).toList();
    }

    public ClipModel model(int i) {
      return leases.get(i).model();
    }

    public int size() {
      return leases.size();
    }

    @Override
    public void close() {
      synchronized (ModelCache.this) {
        for (Lease l : leases) {
          if (l.closed) continue;
          l.closed = true;
          l.entry.leases--;
        }
        evictUnused(keep());
      }
    }
  }

  private static final class Entry {
    final ClipModel model;
    final NDManager manager;
    int leases;

    Entry(ClipModel model, NDManager manager) {
      this.model = model;
      this.manager = manager;
    }

    void close() {
      model.close();
      manager.close();
    }
  }

  private final int keepLoaded;
  private final PromptlineMetrics metrics;
  /** The most models one {@link #acquireAll} has held: a run with experts keeps all of them loaded. */
  private int largestGroup = 1;
  /** Access-ordered: iteration starts at the least recently used model. */
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(8, 0.75f, true);

  /** Keeps one unused model loaded (the common case: every run of a campaign shares one model). */
  public ModelCache() {
    this(1);
  }

  /** @param keepLoaded how many models to keep in memory while no activity uses them */
  public ModelCache(int keepLoaded) {
    this(keepLoaded, PromptlineMetrics.NONE);
  }

  /** @param metrics counts each lease as a hit (in memory) or a miss (loaded) of the {@code model} cache */
  public ModelCache(int keepLoaded, PromptlineMetrics metrics) {
    if (keepLoaded < 0) throw new IllegalArgumentException("keepLoaded must be >= 0, got " + keepLoaded);
    this.keepLoaded = keepLoaded;
    this.metrics = metrics;
  }

  /**
   * Leases the model {@code ref} names, loading (and verifying) it when it is not in memory. Loading
   * first closes unused models beyond {@code keepLoaded - 1}, so memory is freed before it is needed.
   */
  public synchronized Lease acquire(ModelRef ref, Device device) {
    String key = cacheKey(ref, device);
    Entry e = entries.get(key);
    metrics.cache(PromptlineMetrics.MODEL, e != null);
    if (e == null) {
      evictUnused(Math.max(0, keep() - 1));
      e = load(ref, device);
      entries.put(key, e);
    }
    e.leases++;
    return new Lease(e);
  }

  /** {@link #acquire(ModelRef, Device)} on the engine's default device (tools and tests; activities pass their slot's). */
  public Lease acquire(ModelRef ref) {
    return acquire(ref, ai.djl.engine.Engine.getInstance().defaultDevice());
  }

  /**
   * Leases every model of {@code refs} (e.g. {@code RunConfig#frozenModels()}), loading and
   * verifying those not in memory. A model listed twice is leased twice (one entry). When one fails
   * to load, the leases already taken are released and the failure is rethrown. Unused models are
   * kept up to the larger of {@code keepLoaded} and the largest group leased so far, so consecutive
   * runs with the same experts do not reload them.
   */
  public synchronized Leases acquireAll(java.util.List<ModelRef> refs, Device device) {
    largestGroup = Math.max(largestGroup, refs.size());
    Lease[] taken = new Lease[refs.size()];
    try {
      // members already in memory first, so loading the others never evicts one of them
      for (int i = 0; i < taken.length; i++)
        if (entries.containsKey(cacheKey(refs.get(i), device))) taken[i] = acquire(refs.get(i), device);
      for (int i = 0; i < taken.length; i++) if (taken[i] == null) taken[i] = acquire(refs.get(i), device);
    } catch (RuntimeException e) {
      new Leases(java.util.Arrays.stream(taken).filter(java.util.Objects::nonNull).toList()).close();
      throw e;
    }
    return new Leases(java.util.List.of(taken));
  }

  /** {@link #acquireAll(java.util.List, Device)} on the engine's default device (tools and tests). */
  public Leases acquireAll(java.util.List<ModelRef> refs) {
    return acquireAll(refs, ai.djl.engine.Engine.getInstance().defaultDevice());
  }

  private int keep() {
    return keepLoaded == 0 ? 0 : Math.max(keepLoaded, largestGroup);
  }

  /** The cache key: weights file, hash, precision and device. */
  static String cacheKey(ModelRef ref, Device device) {
    return ref.weights() + "@" + ref.sha256() + "@" + ref.precision() + "@" + device;
  }

  /** Models currently in memory (leased or kept). */
  public synchronized int loaded() {
    return entries.size();
  }

  private void evictUnused(int keep) {
    int unused = 0;
    for (Entry e : entries.values()) if (e.leases == 0) unused++;
    Iterator<Entry> it = entries.values().iterator();
    while (unused > keep && it.hasNext()) {
      Entry e = it.next();
      if (e.leases > 0) continue;
      it.remove();
      e.close();
      unused--;
    }
  }

  private static Entry load(ModelRef ref, Device device) {
    Path path = Path.of(ref.weights());
    if (ref.sha256() != null && !ref.sha256().isBlank()) {
      String actual = sha256(path);
      if (!actual.equals(ref.sha256()))
        throw Failures.invalidInput("weights of model '" + ref.name() + "' " + path + " have sha256 " + actual + " but the campaign expects "
            + ref.sha256() + "; point --weights at the file the campaign was planned with", null);
    }
    NDManager manager = NDManager.newBaseManager(device);
    try {
      return new Entry(ClipModel.load(path, manager, Precision.parse(ref.precision())), manager);
    } catch (IOException | IllegalArgumentException e) {
      manager.close();
      throw Failures.invalidInput("cannot load CLIP weights " + path + ": " + e.getMessage(), e);
    }
  }

  /** SHA-256 of a weights file (or of an HF checkpoint directory, see {@link ClipCheckpoints#sha256}). */
  public static String sha256(Path path) {
    try {
      if (!Files.exists(path)) throw new NoSuchFileException(path.toString());
      return ClipCheckpoints.sha256(path);
    } catch (NoSuchFileException e) {
      throw Failures.invalidInput("weights file " + path + " does not exist", e);
    } catch (IOException e) {
      throw Failures.invalidInput("cannot read weights file " + path + ": " + e.getMessage(), e);
    }
  }


  static String key(String... parts) {
    return ContentKeys.sha256Hex(String.join("\n", parts));
  }

  /** Closes every model, leased or not: call when the worker shuts down. */
  @Override
  public synchronized void close() {
    for (Entry e : entries.values()) e.close();
    entries.clear();
  }
}
