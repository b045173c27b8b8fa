package ai.promptline.ml.data;

import ai.promptline.ml.data.image.Images;
import ai.promptline.ml.data.image.RgbImage;
import ai.promptline.ml.data.image.Transforms;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns a list of {@link Datum} into batches of normalised CHW images ({@code float[B*3*S*S]}) and
 * labels, decoding and augmenting in worker threads with a bounded number of batches in flight.
 *
 * <p>Semantics follow Dassl's loaders (methods.md §1.7): {@code drop_last = train && n >= batchSize};
 * train order is a random permutation per epoch, evaluation order is the list order.
 *
 * <p>Determinism: the permutation of epoch {@code e} is a Fisher–Yates shuffle driven by
 * {@link Transforms#rngFor}{@code (seed, e, -1)}, and every image's augmentation depends only on
 * {@code (seed, epoch, dataset index)}. A batch is therefore a pure function of
 * {@code (seed, epoch, batchIndex)}: identical across runs, thread counts and scheduling, and a run
 * resumed with {@link #epoch(int, int)} at {@code (epoch, batchIndex)} sees exactly the batches the
 * interrupted run would have seen. (Not torch's RandomSampler stream; see {@link Transforms}.)
 *
 * <p>Usage: {@code try (BatchLoader.Epoch it = loader.epoch(e, 0)) { while (it.hasNext()) ... }}.
 * The loader owns a thread pool; close it when done.
 */
public final class BatchLoader implements AutoCloseable {
  /** One batch: {@code images} holds {@code size} images of {@code 3*imageSize*imageSize} floats. */
  public record Batch(int epoch, int index, float[] images, int[] labels, int size, int imageSize) {}

  private final List<Datum> data;
  private final Transforms.ImageTransform transform;
  private final int batchSize;
  private final boolean train;
  private final long seed;
  private final int prefetch;
  private final ExecutorService pool;

  private BatchLoader(Builder b) {
    this.data = List.copyOf(b.data);
    this.transform = b.transform;
    this.batchSize = b.batchSize;
    this.train = b.train;
    this.seed = b.seed;
    this.prefetch = b.prefetch > 0 ? b.prefetch : Math.max(2, 2 * b.workers);
    if (b.workers > 0) {
      AtomicInteger n = new AtomicInteger();
      this.pool = Executors.newFixedThreadPool(b.workers, r -> {
        Thread t = new Thread(r, "promptline-data-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    } else {
      this.pool = null;
    }
  }

  /** Starts a builder; {@code transform} is e.g. {@code Transforms.train(224, seed)} or {@code Transforms.test(224)}. */
  public static Builder builder(List<Datum> data, Transforms.ImageTransform transform) {
    return new Builder(data, transform);
  }

  /** Builder: {@code setX} required values are the constructor arguments; the rest are optional. */
  public static final class Builder {
    private final List<Datum> data;
    private final Transforms.ImageTransform transform;
    private int batchSize = 32;
    private boolean train;
    private long seed;
    private int workers = 1;
    private int prefetch;

    private Builder(List<Datum> data, Transforms.ImageTransform transform) {
      this.data = Objects.requireNonNull(data, "data");
      this.transform = Objects.requireNonNull(transform, "transform");
    }

    public Builder optBatchSize(int b) {
      if (b < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + b);
      this.batchSize = b;
      return this;
    }

    /** Train mode: shuffled per epoch and drop_last when n >= batch size. */
    public Builder optTrain(boolean t) {
      this.train = t;
      return this;
    }

    public Builder optSeed(long s) {
      this.seed = s;
      return this;
    }

    /** Decoding threads; 0 decodes on the caller's thread. */
    public Builder optWorkers(int w) {
      if (w < 0) throw new IllegalArgumentException("workers must be >= 0, got " + w);
      this.workers = w;
      return this;
    }

    /** Batches in flight (default 2 × workers, at least 2). */
    public Builder optPrefetch(int p) {
      this.prefetch = p;
      return this;
    }

    public BatchLoader build() {
      return new BatchLoader(this);
    }
  }

  /** Dataset size. */
  public int size() {
    return data.size();
  }

  /** Dassl's drop_last rule. */
  public boolean dropLast() {
    return train && data.size() >= batchSize;
  }

  /** Batches per epoch: floor(n/B) with drop_last, else ceil(n/B). */
  public int numBatches() {
    int n = data.size();
    return dropLast() ? n / batchSize : (n + batchSize - 1) / batchSize;
  }

  /** Dataset indices in the order epoch {@code epoch} visits them. */
  public int[] order(int epoch) {
    int n = data.size();
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    if (train) {
      SplittableRandom rng = Transforms.rngFor(seed, epoch, -1);
      for (int i = n - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
      }
    }
    return idx;
  }

  /** Iterates epoch {@code epoch} starting at batch {@code startBatch} (0 for a fresh epoch). */
  public Epoch epoch(int epoch, int startBatch) {
    if (startBatch < 0 || startBatch > numBatches()) {
      throw new IllegalArgumentException("start batch " + startBatch + " outside 0.." + numBatches());
    }
    return new Epoch(epoch, startBatch, order(epoch));
  }

  /** Builds one batch synchronously (what a worker does). */
  Batch load(int epoch, int batchIndex, int[] order) {
    int from = batchIndex * batchSize;
    int size = Math.min(batchSize, data.size() - from);
    int s = transform.outputSize();
    int per = 3 * s * s;
    float[] images = new float[size * per];
    int[] labels = new int[size];
    for (int k = 0; k < size; k++) {
      int di = order[from + k];
      Datum d = data.get(di);
      RgbImage img = Images.readRgb(d.image());
      transform.apply(img, epoch, di, images, k * per);
      labels[k] = d.label();
    }
    return new Batch(epoch, batchIndex, images, labels, size, s);
  }

  /** Iterator over one epoch's batches with bounded prefetch; close to cancel pending work. */
  public final class Epoch implements Iterator<Batch>, AutoCloseable {
    private final int epoch;
    private final int[] order;
    private final int end = numBatches();
    private final ArrayDeque<Future<Batch>> inFlight = new ArrayDeque<>();
    private int next;
    private int submitted;

    private Epoch(int epoch, int start, int[] order) {
      this.epoch = epoch;
      this.order = order;
      this.next = start;
      this.submitted = start;
      fill();
    }

    private void fill() {
      if (pool == null) return;
      while (submitted < end && inFlight.size() < prefetch) {
        final int b = submitted++;
        inFlight.add(pool.submit(() -> load(epoch, b, order)));
      }
    }

    @Override
    public boolean hasNext() {
      return next < end;
    }

    @Override
    public Batch next() {
      if (!hasNext()) throw new NoSuchElementException();
      Batch b;
      if (pool == null) {
        b = load(epoch, next, order);
      } else {
        Future<Batch> f = inFlight.poll();
        try {
          b = f.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while loading batch " + next, e);
        } catch (ExecutionException e) {
          close();
          Throwable c = e.getCause();
          var unreadable = ai.promptline.ml.data.image.UnreadableImageException.in(c);
          if (unreadable != null) throw unreadable;
          if (c instanceof RuntimeException re) throw re;
          throw new IllegalStateException("loading batch " + next + " failed: " + c.getMessage(), c);
        }
      }
      next++;
      fill();
      return b;
    }

    /** Index of the batch {@link #next()} returns. */
    public int nextIndex() {
      return next;
    }

    @Override
    public void close() {
      for (Future<Batch> f : inFlight) f.cancel(true);
      inFlight.clear();
      submitted = end;
      next = end;
    }
  }

  @Override
  public void close() {
    if (pool != null) pool.shutdownNow();
  }
}
