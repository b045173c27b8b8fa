package ai.promptline.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.promptline.ml.clip.Numerics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The cause of the sporadic garbage prompt gradients: DJL's {@code NDArray.mul(Number)} runs the
 * op against a scalar tensor over a Java direct buffer and frees that buffer's owner right away,
 * while autograd keeps the scalar for backward. Freed direct memory that is reused before backward
 * turns the gradient into garbage. {@link Numerics#scale} uses a PyTorch-owned scalar instead.
 *
 * <p>Measured with this very churn on DJL 0.36 / PyTorch 2.7.1 CPU: {@code x.mul(3f)} gave the
 * gradients -6.6e29, 2.15e14, 2.15e14, 2.14e14 and 1e20 (the churn's own fill value) in 5 of 5
 * tries, instead of 3; {@code Numerics.scale} gives exactly 3 every time.
 */
class ScalarLifetimeTest {

  /** Forward, then free and reuse direct memory the way a busy JVM does, then backward. */
  static float[] gradientAfterMemoryChurn(BiFunction<NDArray, Float, NDArray> scale) {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(new float[] {1, 2, 3, 4});
      x.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray y = scale.apply(x, 3f);
        for (int round = 0; round < 20; round++) {
          System.gc();
          List<ByteBuffer> churn = new ArrayList<>();
          for (int i = 0; i < 2000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
            b.putFloat(0, 1e20f);
            churn.add(b);
          }
        }
        gc.backward(y.sum());
      }
      return x.getGradient().toFloatArray();
    }
  }

  @Test
  void scaleKeepsItsScalarAliveForBackward() {
    for (int i = 0; i < 5; i++) {
      assertArrayEquals(new float[] {3, 3, 3, 3}, gradientAfterMemoryChurn(Numerics::scale), 0f);
    }
  }
}
