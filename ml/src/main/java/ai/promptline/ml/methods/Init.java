package ai.promptline.ml.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Platform-independent initialisation of learnable tensors: every tensor draws from its own
 * generator seeded by {@code (run seed, tensor name)}, so adding a tensor never shifts another's
 * values and a run is reproducible on any machine. Distributions follow the references
 * (PyTorch defaults where they use them).
 */
final class Init {
  private Init() {}

  static SplittableRandom rng(long seed, String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= (b & 0xff);
      h *= 0x100000001b3L;
    }
    return new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ h);
  }

  /** N(0, std²) (Box–Muller). */
  static float[] normal(SplittableRandom rng, int n, double std) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (gaussian(rng) * std);
    return v;
  }

  static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** U(±bound). */
  static float[] uniform(SplittableRandom rng, int n, double bound) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
    return v;
  }

  /** A learnable tensor (requires gradient) owned by {@code m}. */
  static NDArray parameter(NDManager m, float[] values, Shape shape) {
    NDArray blob = m.create(values, shape);
    NDArray p = blob.duplicate(); // torch-owned storage, not a view of a Java buffer
    blob.close();
    p.setRequiresGradient(true);
    return p;
  }

  /** A learnable {@code N(0, std²)} tensor. */
  static NDArray normal(NDManager m, long seed, String name, Shape shape, double std) {
    return parameter(m, normal(rng(seed, name), Math.toIntExact(shape.size()), std), shape);
  }

  /**
   * {@code nn.Linear}'s default initialisation, weight {@code [out, in]} and bias {@code [out]}
   * both U(±1/√in) (kaiming_uniform with a = √5), seeded by the layer's name.
   */
  static NDArray[] linear(NDManager m, long seed, String name, int out, int in) {
    double bound = 1.0 / Math.sqrt(in);
    SplittableRandom r = rng(seed, name);
    NDArray w = parameter(m, uniform(r, out * in, bound), new Shape(out, in));
    NDArray b = parameter(m, uniform(r, out, bound), new Shape(out));
    return new NDArray[] {w, b};
  }

  /** An unlearnable-to-learnable copy: a new parameter holding {@code values}' data. */
  static NDArray parameterFrom(NDArray values) {
    NDArray p = values.duplicate();
    p.setRequiresGradient(true);
    return p;
  }
}
