package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ModifiedResNet image encoder (methods.md §2.5): 3-conv stem + avg-pool, Bottlenecks with
 * anti-aliased (avg-pool) strides, attention pooling with the spatial mean as the only query.
 *
 * <p>BatchNorm runs in eval mode; it is folded at load time into a per-channel scale and shift
 * ({@code scale = γ/√(var+ε)}, {@code shift = β − mean·scale}), which is the same affine map.
 *
 * <p>Precision: convolutions and the attention-pool projections run in the model dtype. BatchNorm
 * keeps fp32 parameters (as {@code convert_weights}); under FP16/BF16 the conv output is upcast to
 * fp32, the folded fp32 affine map applied, and the result cast back — what PyTorch's CPU/CUDA
 * {@code batch_norm} does for a half/bfloat16 input with fp32 parameters (it computes
 * {@code x·α + β} with {@code α = γ·invstd}, {@code β = bias − mean·α} in fp32 and rounds the
 * output). The attention-pool positional embedding stays fp32 and is cast at use.
 */
final class ModifiedResNetTower implements VisionTower {
  private static final float BN_EPS = 1e-5f;

  private record ConvBn(NDArray weight, NDArray scale, NDArray shift, int padding) {}

  private record Bottleneck(ConvBn c1, ConvBn c2, ConvBn c3, ConvBn down, int stride) {}

  private final ClipConfig cfg;
  private final ConvBn stem1;
  private final ConvBn stem2;
  private final ConvBn stem3;
  private final List<Bottleneck> blocks = new ArrayList<>();
  private final NDArray poolPos;
  private final NDArray qW, qB, kW, kB, vW, vB, cW, cB;
  private final Numerics num;

  ModifiedResNetTower(ClipConfig cfg, Map<String, NDArray> sd, NDManager manager, Numerics num) {
    this.cfg = cfg;
    this.num = num;
    stem1 = convBn(sd, "visual.conv1", "visual.bn1", 1, manager);
    stem2 = convBn(sd, "visual.conv2", "visual.bn2", 1, manager);
    stem3 = convBn(sd, "visual.conv3", "visual.bn3", 1, manager);
    for (int stage = 0; stage < 4; stage++) {
      for (int b = 0; b < cfg.resnetStages().get(stage); b++) {
        String p = "visual.layer" + (stage + 1) + "." + b + ".";
        int stride = (b == 0 && stage > 0) ? 2 : 1;
        // downsample = Sequential("-1": AvgPool2d(stride), "0": Conv2d 1x1, "1": BatchNorm2d)
        ConvBn down = sd.containsKey(p + "downsample.0.weight")
            ? convBn(sd, p + "downsample.0", p + "downsample.1", 0, manager) : null;
        blocks.add(new Bottleneck(
            convBn(sd, p + "conv1", p + "bn1", 0, manager),
            convBn(sd, p + "conv2", p + "bn2", 1, manager),
            convBn(sd, p + "conv3", p + "bn3", 0, manager),
            down, stride));
      }
    }
    String a = "visual.attnpool.";
    poolPos = sd.get(a + "positional_embedding");
    qW = sd.get(a + "q_proj.weight");
    qB = sd.get(a + "q_proj.bias");
    kW = sd.get(a + "k_proj.weight");
    kB = sd.get(a + "k_proj.bias");
    vW = sd.get(a + "v_proj.weight");
    vB = sd.get(a + "v_proj.bias");
    cW = sd.get(a + "c_proj.weight");
    cB = sd.get(a + "c_proj.bias");
  }

  private static ConvBn convBn(Map<String, NDArray> sd, String conv, String bn, int padding, NDManager m) {
    NDArray w = sd.get(conv + ".weight");
    NDArray gamma = sd.get(bn + ".weight");
    NDArray beta = sd.get(bn + ".bias");
    NDArray mean = sd.get(bn + ".running_mean");
    NDArray var = sd.get(bn + ".running_var");
    NDArray scale = gamma.div(var.add(BN_EPS).sqrt());
    NDArray shift = beta.sub(mean.mul(scale));
    long c = gamma.getShape().get(0);
    NDArray s4 = scale.reshape(1, c, 1, 1);
    NDArray t4 = shift.reshape(1, c, 1, 1);
    s4.attach(m);
    t4.attach(m);
    return new ConvBn(w, s4, t4, padding);
  }

  private NDArray apply(ConvBn c, NDArray x, int stride) {
    Shape pad = new Shape(c.padding(), c.padding());
    NDArray y = num.round(Conv2d.conv2d(x, c.weight(), null, new Shape(stride, stride), pad).singletonOrThrow());
    DataType act = y.getDataType();
    NDArray bn = Numerics.cast(y, DataType.FLOAT32).mul(c.scale()).add(c.shift());
    return num.round(Numerics.cast(bn, act));
  }

  private NDArray avgPool(NDArray x, int k) {
    return num.round(Pool.avgPool2d(x, new Shape(k, k), new Shape(k, k), new Shape(0, 0), false, true));
  }

  @Override
  public NDArray forward(VisionInput in, ai.djl.ndarray.NDManager scope) {
    if (in.appended() != null || !in.replacements().isEmpty() || in.masks() != null
        || in.readout() != null || in.adaptor() != BlockAdaptor.NONE) {
      throw new UnsupportedOperationException("prompt hooks are only supported by the ViT image tower");
    }
    return attentionPool(featureMap(in.pixels(), scope));
  }

  /** The final feature map as tokens {@code [N, HW, C]} (before attention pooling). */
  @Override
  public NDArray tokens(NDArray pixels, ai.djl.ndarray.NDManager scope) {
    NDArray x = featureMap(pixels, scope);
    Shape s = x.getShape();
    return x.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
  }

  /** Stem and the four stages: {@code [N, C, H, W]}. */
  private NDArray featureMap(NDArray pixels, ai.djl.ndarray.NDManager scope) {
    Shape ps = pixels.getShape();
    int r = cfg.imageResolution();
    if (ps.dimension() != 4 || ps.get(1) != 3 || ps.get(2) != r || ps.get(3) != r) {
      throw new IllegalArgumentException("expected pixels [N,3," + r + "," + r + "], got " + ps);
    }
    NDArray x = Activation.relu(apply(stem1, pixels, 2));
    ClipModel.adopt(x, scope);
    x = Activation.relu(apply(stem2, x, 1));
    x = Activation.relu(apply(stem3, x, 1));
    x = avgPool(x, 2);
    for (Bottleneck b : blocks) {
      NDArray out = Activation.relu(apply(b.c1(), x, 1));
      out = Activation.relu(apply(b.c2(), out, 1));
      if (b.stride() > 1) out = avgPool(out, b.stride());
      out = apply(b.c3(), out, 1);
      NDArray identity = x;
      if (b.down() != null) {
        NDArray d = b.stride() > 1 ? avgPool(x, b.stride()) : x;
        identity = apply(b.down(), d, 1);
      }
      x = Activation.relu(num.round(out.add(identity)));
    }
    return x;
  }

  private NDArray attentionPool(NDArray x) {
    Shape s = x.getShape();
    long n = s.get(0);
    long c = s.get(1);
    long hw = s.get(2) * s.get(3);
    int heads = cfg.visionHeads();
    long hd = c / heads;
    x = x.reshape(n, c, hw).transpose(0, 2, 1); // [N, HW, C]
    NDArray pos = num.constant(poolPos); // positional_embedding.to(x.dtype)
    if (pos != poolPos) pos.attach(x.getManager());
    x = num.round(NDArrays.concat(new NDList(num.round(x.mean(new int[] {1}, true)), x), 1).add(pos));
    long len = hw + 1;
    NDArray q = num.round(Linear.linear(x.get(":, 0:1"), qW, qB).singletonOrThrow());
    NDArray k = num.round(Linear.linear(x, kW, kB).singletonOrThrow());
    NDArray v = num.round(Linear.linear(x, vW, vB).singletonOrThrow());
    q = num.round(Numerics.scale(q.reshape(n, 1, heads, hd).transpose(0, 2, 1, 3), (float) (1.0 / Math.sqrt(hd))));
    k = k.reshape(n, len, heads, hd).transpose(0, 2, 3, 1); // [N, H, hd, S]
    v = v.reshape(n, len, heads, hd).transpose(0, 2, 1, 3); // [N, H, S, hd]
    NDArray out = num.round(num.round(num.round(q.matMul(k)).softmax(-1)).matMul(v)); // [N, H, 1, hd]
    out = out.transpose(0, 2, 1, 3).reshape(n, c);
    return num.round(Linear.linear(out, cW, cB).singletonOrThrow());
  }
}
