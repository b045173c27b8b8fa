package ai.promptline.ml.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.data.image.Images;
import ai.promptline.ml.data.image.Transforms.ImageTransform;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Batches of decoded, transformed images for methods that run the image tower. With the seeded
 * train transform every epoch draws a fresh crop and flip per image as Dassl does, and the
 * augmentation of item {@code i} in epoch {@code e} depends only on {@code (seed, e, i)}, so a
 * resumed run sees the very pixels an uninterrupted one would, whatever the thread count.
 */
public final class PixelBatches extends LabelledBatches {
  private final List<Path> images;
  private final ImageTransform transform;
  private final ForkJoinPool pool;

  public PixelBatches(List<Path> images, int[] labels, ImageTransform transform, int threads) {
    super(labels);
    if (images.size() != labels.length) throw new IllegalArgumentException(images.size() + " images but " + labels.length + " labels");
    this.images = List.copyOf(images);
    this.transform = transform;
    this.pool = new ForkJoinPool(Math.max(1, threads));
  }

  @Override
  public Batch batch(int epoch, int[] sampleIds, NDManager manager) {
    int s = transform.outputSize();
    int per = 3 * s * s;
    float[] px = new float[sampleIds.length * per];
    try {
      pool.submit(() -> IntStream.range(0, sampleIds.length).parallel().forEach(i ->
          transform.apply(Images.readRgb(images.get(sampleIds[i])), epoch, sampleIds[i], px, i * per))).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while decoding images", e);
    } catch (ExecutionException e) {
      var unreadable = ai.promptline.ml.data.image.UnreadableImageException.in(e.getCause());
      if (unreadable != null) throw unreadable; // keeps the file's name, whatever the pool wrapped it in
      if (e.getCause() instanceof RuntimeException re) throw re;
      throw new IllegalStateException(e.getCause());
    }
    int[] y = labelsOf(sampleIds);
    return new Batch(epoch, sampleIds.clone(), y, manager.create(y),
        null, manager.create(px, new Shape(sampleIds.length, 3, s, s)));
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
