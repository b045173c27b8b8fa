package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads the tensors of a PyTorch zip archive — both {@code torch.save(state_dict)} files and
 * TorchScript modules ({@code torch.jit.save}, the format of the OpenAI {@code *.pt} releases).
 *
 * <p>Layout: {@code <root>/data.pkl} (pickle of the object graph) and {@code <root>/data/<key>}
 * (raw little-endian storages). Tensors appear in the pickle as
 * {@code _rebuild_tensor_v2(persistent_id(('storage', torch.FloatStorage, key, location, numel)),
 * offset, size, stride, requires_grad, hooks)}. For TorchScript modules, the object graph is a tree
 * of module objects whose BUILD state holds parameters, buffers and submodules by attribute name,
 * so walking it yields state-dict names <i>including buffers</i> (BatchNorm running stats), which
 * DJL's TorchScript loader cannot list. Tensor attributes that are not state (the text
 * {@code attn_mask}) come along too; callers ignore keys they do not expect.
 */
final class TorchArchive {
  private TorchArchive() {}

  /** A storage reference from a persistent id. */
  record StorageRef(String key, String dtype) {}

  /** A tensor view of a storage. */
  record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

  /** True when the file starts with the zip signature. */
  static boolean isZip(Path file) throws IOException {
    try (InputStream in = java.nio.file.Files.newInputStream(file)) {
      byte[] b = in.readNBytes(4);
      return b.length == 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
    }
  }

  /** The result: tensors by state-dict name, and whether it came from a TorchScript module. */
  record Result(Map<String, NDArray> tensors, boolean torchScript, Map<String, Integer> storedDtypes) {}

  /** Tensor shapes by state-dict name, without reading any storage (a pickle walk only). */
  static Map<String, Shape> shapes(Path file) throws IOException {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      Map<String, TensorRef> refs = new LinkedHashMap<>();
      collect(model(zip, root(zip, file)), "", refs, 0);
      unwrap(refs);
      Map<String, Shape> out = new LinkedHashMap<>();
      refs.forEach((k, v) -> out.put(k, new Shape(v.size())));
      return out;
    } catch (java.util.zip.ZipException e) {
      throw new IOException(file + " is not a readable zip archive (truncated?): " + e.getMessage(), e);
    }
  }

  /**
   * What is wrong with an archive's structure, or null: the pickle names storages that are missing
   * from the zip, or shorter than its tensors need (reads the pickle and the zip's directory, no
   * tensor data). For {@link WeightsCheck}.
   */
  static String storageProblem(Path file) throws IOException {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      String root = root(zip, file);
      Map<String, TensorRef> refs = new LinkedHashMap<>();
      collect(model(zip, root), "", refs, 0);
      if (refs.isEmpty()) return "holds no tensors (its data.pkl names none)";
      Map<String, Long> need = new LinkedHashMap<>();
      Map<String, String> first = new HashMap<>();
      for (Map.Entry<String, TensorRef> e : refs.entrySet()) {
        TensorRef t = e.getValue();
        long n = 1;
        for (long d : t.size()) n *= d;
        if (n == 0) continue;
        long maxIndex = t.offset();
        for (int i = 0; i < t.size().length; i++) maxIndex += (t.size()[i] - 1) * t.stride()[i];
        long bytes = (maxIndex + 1) * bytesPer(t.storage().dtype());
        need.merge(t.storage().key(), bytes, Math::max);
        first.putIfAbsent(t.storage().key(), e.getKey());
      }
      int missing = 0;
      String firstMissing = null;
      for (Map.Entry<String, Long> e : need.entrySet()) {
        ZipEntry z = zip.getEntry(root + "data/" + e.getKey());
        if (z == null) {
          if (missing++ == 0) firstMissing = "storage " + root + "data/" + e.getKey() + " of '" + first.get(e.getKey()) + "' is missing";
        } else if (z.getSize() >= 0 && z.getSize() < e.getValue()) {
          if (missing++ == 0) firstMissing = "storage " + root + "data/" + e.getKey() + " of '" + first.get(e.getKey()) + "' has "
              + z.getSize() + " bytes, its tensor needs " + e.getValue();
        }
      }
      if (missing == 0) return null;
      return "is incomplete: " + firstMissing + (missing > 1 ? " (and " + (missing - 1) + " more)" : "");
    } catch (java.util.zip.ZipException e) {
      return "is not a readable zip archive (" + e.getMessage() + ")";
    } catch (IOException | RuntimeException e) {
      String m = String.valueOf(e.getMessage());
      if (m.startsWith(file + " ")) return m.substring(file.toString().length() + 1);
      return "has a data.pkl that cannot be read (" + m + ")";
    }
  }

  /** The archive's root folder ({@code <root>/data.pkl}). */
  private static String root(ZipFile zip, Path file) throws IOException {
    for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
      String name = e.nextElement().getName();
      if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
        return name.substring(0, name.length() - "data.pkl".length());
      }
    }
    throw new IOException(file + " is a zip but not a PyTorch archive (no <root>/data.pkl)");
  }

  /**
   * The unpickled object graph; for an open_clip / Lightning training checkpoint
   * {@code {"epoch", "state_dict", "optimizer", ...}} its {@code state_dict} (optimizer moments are
   * not weights).
   */
  private static Object model(ZipFile zip, String root) throws IOException {
    Object top = new Pickle(readEntry(zip, root + "data.pkl"), TorchArchive::reduce, TorchArchive::persistentLoad).load();
    if (top instanceof Map<?, ?> m && m.get("state_dict") instanceof Map<?, ?> inner) top = inner;
    return top;
  }

  static Result read(Path file, NDManager manager) throws IOException {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      String root = root(zip, file);
      Object top = model(zip, root);
      Map<String, TensorRef> refs = new LinkedHashMap<>();
      boolean torchScript = top instanceof Pickle.PyObject;
      collect(top, "", refs, 0);
      if (refs.isEmpty()) throw new IOException(file + " holds no tensors");
      unwrap(refs);
      Map<String, NDArray> out = new LinkedHashMap<>();
      Map<String, Integer> dtypes = new java.util.TreeMap<>();
      Map<String, byte[]> storages = new HashMap<>();
      for (Map.Entry<String, TensorRef> e : refs.entrySet()) {
        TensorRef t = e.getValue();
        byte[] data = storages.get(t.storage().key());
        if (data == null) {
          String entry = root + "data/" + t.storage().key();
          if (zip.getEntry(entry) == null) throw new IOException(file + " is truncated: missing storage " + entry);
          data = readEntry(zip, entry);
          storages.put(t.storage().key(), data);
        }
        dtypes.merge(t.storage().dtype(), 1, Integer::sum);
        NDArray a = materialise(t, data, manager, e.getKey(), file);
        a.setName(e.getKey());
        out.put(e.getKey(), a);
      }
      return new Result(out, torchScript, dtypes);
    } catch (java.util.zip.ZipException e) {
      throw new IOException(file + " is not a readable zip archive (truncated?): " + e.getMessage(), e);
    }
  }

  private static byte[] readEntry(ZipFile zip, String name) throws IOException {
    ZipEntry e = zip.getEntry(name);
    try (InputStream in = zip.getInputStream(e)) {
      return in.readAllBytes();
    }
  }

  /** Removes wrappers: a {@code state_dict} entry (open_clip checkpoints) and {@code module.} prefixes. */
  private static void unwrap(Map<String, TensorRef> refs) {
    boolean allWrapped = refs.keySet().stream().allMatch(k -> k.startsWith("state_dict."));
    if (allWrapped) rename(refs, "state_dict.");
    boolean allModule = refs.keySet().stream().allMatch(k -> k.startsWith("module."));
    if (allModule) rename(refs, "module.");
  }

  private static void rename(Map<String, TensorRef> refs, String prefix) {
    Map<String, TensorRef> copy = new LinkedHashMap<>();
    refs.forEach((k, v) -> copy.put(k.substring(prefix.length()), v));
    refs.clear();
    refs.putAll(copy);
  }

  private static void collect(Object o, String prefix, Map<String, TensorRef> out, int depth) {
    if (depth > 64) return;
    if (o instanceof TensorRef t) {
      if (!prefix.isEmpty()) out.put(prefix.substring(0, prefix.length() - 1), t);
    } else if (o instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (e.getKey() instanceof String k) collect(e.getValue(), prefix + k + ".", out, depth + 1);
      }
    } else if (o instanceof Pickle.PyObject p) {
      collect(p.state, prefix, out, depth + 1);
    }
  }

  private static Object persistentLoad(Object pid) {
    if (pid instanceof Pickle.Tuple t && t.items().size() >= 3 && "storage".equals(t.items().get(0))) {
      Object type = t.items().get(1);
      String dtype = type instanceof Pickle.Global g ? g.name() : String.valueOf(type);
      return new StorageRef(String.valueOf(t.items().get(2)), dtype);
    }
    throw new IllegalArgumentException("unsupported persistent id " + pid);
  }

  private static Object reduce(Pickle.Global fn, Pickle.Tuple args) throws IOException {
    List<Object> a = args.items();
    switch (fn.qualified()) {
      case "torch._utils._rebuild_tensor_v2":
      case "torch._utils._rebuild_tensor":
        return new TensorRef((StorageRef) a.get(0), ((Number) a.get(1)).longValue(), longs(a.get(2)), longs(a.get(3)));
      case "torch._utils._rebuild_parameter":
      case "torch._utils._rebuild_parameter_with_state":
        return a.get(0);
      case "collections.OrderedDict":
        return new LinkedHashMap<Object, Object>();
      default:
        return null;
    }
  }

  private static long[] longs(Object tuple) {
    List<Object> items = ((Pickle.Tuple) tuple).items();
    long[] out = new long[items.size()];
    for (int i = 0; i < out.length; i++) out[i] = ((Number) items.get(i)).longValue();
    return out;
  }

  private static int bytesPer(String storageType) {
    return switch (storageType) {
      case "FloatStorage", "IntStorage" -> 4;
      case "HalfStorage", "BFloat16Storage" -> 2;
      case "DoubleStorage", "LongStorage" -> 8;
      case "ByteStorage", "BoolStorage", "CharStorage" -> 1;
      default -> throw new IllegalArgumentException("unsupported storage type " + storageType);
    };
  }

  /** Copies a (possibly strided) view out of its storage as fp32 (integers as int64). */
  private static NDArray materialise(TensorRef t, byte[] data, NDManager manager, String name, Path file)
      throws IOException {
    String type = t.storage().dtype();
    int esize = bytesPer(type);
    long n = 1;
    for (long d : t.size()) n *= d;
    long maxIndex = t.offset();
    for (int i = 0; i < t.size().length; i++) if (t.size()[i] > 0) maxIndex += (t.size()[i] - 1) * t.stride()[i];
    if (n > 0 && (maxIndex + 1) * esize > data.length) {
      throw new IOException(file + ": storage of '" + name + "' is too short (truncated archive?)");
    }
    ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    Shape shape = new Shape(t.size());
    int count = Math.toIntExact(n);
    boolean integral = type.equals("LongStorage") || type.equals("IntStorage") || type.equals("ByteStorage")
        || type.equals("BoolStorage") || type.equals("CharStorage");
    long[] idx = new long[t.size().length];
    if (integral) {
      long[] v = new long[count];
      for (int i = 0; i < count; i++) {
        long pos = t.offset();
        for (int d = 0; d < idx.length; d++) pos += idx[d] * t.stride()[d];
        v[i] = switch (type) {
          case "LongStorage" -> buf.getLong((int) (pos * 8));
          case "IntStorage" -> buf.getInt((int) (pos * 4));
          default -> buf.get((int) pos);
        };
        increment(idx, t.size());
      }
      return Safetensors.owned(manager.create(v, shape));
    }
    float[] v = new float[count];
    for (int i = 0; i < count; i++) {
      long pos = t.offset();
      for (int d = 0; d < idx.length; d++) pos += idx[d] * t.stride()[d];
      int at = Math.toIntExact(pos * esize);
      v[i] = switch (type) {
        case "FloatStorage" -> buf.getFloat(at);
        case "HalfStorage" -> Half.toFloat(buf.getShort(at));
        case "BFloat16Storage" -> Float.intBitsToFloat((buf.getShort(at) & 0xffff) << 16);
        case "DoubleStorage" -> (float) buf.getDouble(at);
        default -> throw new IllegalArgumentException(type);
      };
      increment(idx, t.size());
    }
    return Safetensors.owned(manager.create(v, shape));
  }

  private static void increment(long[] idx, long[] size) {
    for (int d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) return;
      idx[d] = 0;
    }
  }
}
