package ai.promptline.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.data.image.Images;
import ai.promptline.ml.data.image.Transforms.ImageTransform;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Frozen image features: decode + transform on a small thread pool, then the image tower in
 * batches. The tower never sees a gradient here, so features can be cached and reused by every
 * method that leaves the image tower untouched (zero-shot, CoOp, CoCoOp, linear probe).
 */
public final class FeatureExtractor {
  /** Progress callback, called after each batch with the number of images done. */
  public interface Progress {
    void done(int images);
  }

  private FeatureExtractor() {}

  /**
   * @param epoch passed to the transform (selects the augmentation of a seeded train transform)
   * @return un-normalised features {@code [N, E]} owned by {@code manager}
   */
  public static NDArray extract(
      ClipModel clip, List<Path> images, ImageTransform transform, long epoch, NDManager manager,
      int batchSize, int threads, Progress progress) {
    int n = images.size();
    int s = transform.outputSize();
    int e = clip.config().embedDim();
    float[] out = new float[n * e];
    int per = 3 * s * s;
    ForkJoinPool pool = new ForkJoinPool(Math.max(1, threads));
    try {
      for (int start = 0; start < n; start += batchSize) {
        int b = Math.min(batchSize, n - start);
        float[] pixels = new float[b * per];
        final int first = start;
        pool.submit(() -> IntStream.range(0, b).parallel().forEach(i ->
            transform.apply(Images.readRgb(images.get(first + i)), epoch, first + i, pixels, i * per))).get();
        try (NDScope scope = new NDScope()) {
          NDArray x = manager.create(pixels, new Shape(b, 3, s, s));
          float[] f = clip.encodeImage(x).toFloatArray();
          System.arraycopy(f, 0, out, start * e, f.length);
          scope.suppressNotUsedWarning();
        }
        if (progress != null) progress.done(start + b);
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while extracting features", ex);
    } catch (ExecutionException ex) {
      Throwable c = ex.getCause();
      var unreadable = ai.promptline.ml.data.image.UnreadableImageException.in(c);
      if (unreadable != null) throw unreadable; // keeps the file's name, whatever the pool wrapped it in
      if (c instanceof RuntimeException re) throw re;
      throw new IllegalStateException(c);
    } finally {
      pool.shutdownNow();
    }
    return manager.create(out, new Shape(n, e));
  }
}
