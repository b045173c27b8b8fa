package ai.promptline.ml.clip;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A minimal, non-executing pickle reader: enough opcodes (protocols 2–4) to read the
 * {@code data.pkl} of {@code torch.save} and TorchScript archives.
 *
 * <p>Nothing is ever imported or called: {@code GLOBAL} becomes a {@link Global} value, and
 * {@code REDUCE}/{@code NEWOBJ} hand the callable and its arguments to a caller-supplied
 * {@link Reducer} (which knows {@code _rebuild_tensor_v2}, {@code OrderedDict}, …) or produce an
 * inert {@link PyObject}. This keeps untrusted checkpoints from running code, which is the reason
 * not to use a general unpickler.
 */
final class Pickle {
  /** A {@code module.name} reference. */
  record Global(String module, String name) {
    String qualified() {
      return module + "." + name;
    }
  }

  /** A tuple (immutable list). */
  record Tuple(List<Object> items) {}

  /** An object of an unknown class; {@code state} is set by BUILD (a dict for nn.Modules). */
  static final class PyObject {
    final Global type;
    final Tuple args;
    Object state;

    PyObject(Global type, Tuple args) {
      this.type = type;
      this.args = args;
    }
  }

  /** Maps a call {@code callable(*args)} to a value, or returns null for "unknown → PyObject". */
  interface Reducer {
    Object reduce(Global callable, Tuple args) throws IOException;
  }

  private final ByteBuffer in;
  private final Reducer reducer;
  private final Function<Object, Object> persistentLoad;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Integer, Object> memo = new HashMap<>();

  Pickle(byte[] data, Reducer reducer, Function<Object, Object> persistentLoad) {
    this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    this.reducer = reducer;
    this.persistentLoad = persistentLoad;
  }

  /** Runs the pickle program and returns the top-level object. */
  Object load() throws IOException {
    while (in.hasRemaining()) {
      int op = in.get() & 0xff;
      switch (op) {
        case 0x80 -> in.get(); // PROTO
        case 0x95 -> in.getLong(); // FRAME
        case '.' -> { // STOP
          return pop();
        }
        case '(' -> marks.add(stack.size());
        case '}' -> stack.add(new LinkedHashMap<Object, Object>());
        case ']' -> stack.add(new ArrayList<Object>());
        case ')' -> stack.add(new Tuple(List.of()));
        case 't' -> stack.add(new Tuple(popMark()));
        case 0x85 -> stack.add(new Tuple(List.of(pop())));
        case 0x86 -> {
          Object b = pop();
          Object a = pop();
          stack.add(new Tuple(java.util.Arrays.asList(a, b)));
        }
        case 0x87 -> {
          Object c = pop();
          Object b = pop();
          Object a = pop();
          stack.add(new Tuple(java.util.Arrays.asList(a, b, c)));
        }
        case 'X' -> stack.add(string(in.getInt()));
        case 0x8c -> stack.add(string(in.get() & 0xff));
        case 0x8d -> stack.add(string(Math.toIntExact(in.getLong())));
        case 'T' -> stack.add(string(in.getInt()));
        case 'U' -> stack.add(string(in.get() & 0xff));
        case 'B' -> stack.add(bytes(in.getInt()));
        case 'C' -> stack.add(bytes(in.get() & 0xff));
        case 'c' -> stack.add(new Global(line(), line()));
        case 0x93 -> {
          String name = (String) pop();
          String module = (String) pop();
          stack.add(new Global(module, name));
        }
        case 'Q' -> stack.add(persistentLoad.apply(pop()));
        case 'J' -> stack.add((long) in.getInt());
        case 'K' -> stack.add((long) (in.get() & 0xff));
        case 'M' -> stack.add((long) (in.getShort() & 0xffff));
        case 0x8a -> stack.add(long1(in.get() & 0xff));
        case 'N' -> stack.add(null);
        case 0x88 -> stack.add(Boolean.TRUE);
        case 0x89 -> stack.add(Boolean.FALSE);
        case 'G' -> stack.add(ByteBuffer.wrap(bytes(8)).getDouble()); // big-endian
        case 'R' -> {
          Tuple args = (Tuple) pop();
          Global fn = (Global) pop();
          stack.add(call(fn, args));
        }
        case 0x81 -> { // NEWOBJ
          Tuple args = (Tuple) pop();
          Global cls = (Global) pop();
          stack.add(call(cls, args));
        }
        case 'b' -> build(pop(), peek());
        case 's' -> {
          Object v = pop();
          Object k = pop();
          dict(peek()).put(k, v);
        }
        case 'u' -> {
          List<Object> kv = popMark();
          Map<Object, Object> d = dict(peek());
          for (int i = 0; i + 1 < kv.size(); i += 2) d.put(kv.get(i), kv.get(i + 1));
        }
        case 'a' -> {
          Object v = pop();
          list(peek()).add(v);
        }
        case 'e' -> {
          List<Object> items = popMark();
          list(peek()).addAll(items);
        }
        case 0x8f -> stack.add(new ArrayList<Object>()); // EMPTY_SET (as a list)
        case 0x90 -> {
          List<Object> items = popMark();
          list(peek()).addAll(items);
        }
        case 0x91 -> stack.add(popMark()); // FROZENSET
        case 'q' -> memo.put(in.get() & 0xff, peek());
        case 'r' -> memo.put(in.getInt(), peek());
        case 0x94 -> memo.put(memo.size(), peek());
        case 'h' -> stack.add(memo.get(in.get() & 0xff));
        case 'j' -> stack.add(memo.get(in.getInt()));
        case '0' -> pop();
        case '1' -> popMark();
        case '2' -> stack.add(peek());
        default -> throw new IOException(String.format("unsupported pickle opcode 0x%02x at byte %d", op, in.position() - 1));
      }
    }
    throw new IOException("pickle ended without STOP");
  }

  private Object call(Global fn, Tuple args) throws IOException {
    Object r = reducer.reduce(fn, args);
    return r != null ? r : new PyObject(fn, args);
  }

  private static void build(Object state, Object target) throws IOException {
    if (target instanceof PyObject o) {
      o.state = state;
    } else if (target instanceof Map<?, ?>) {
      // OrderedDict carries `_metadata` as state in torch.save; irrelevant for weights
    } else if (target instanceof TorchArchive.TensorRef) {
      // tensor BUILD (e.g. extra attributes) — ignored
    } else {
      throw new IOException("BUILD on unsupported object " + (target == null ? "None" : target.getClass().getSimpleName()));
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<Object, Object> dict(Object o) throws IOException {
    if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
    throw new IOException("SETITEM on a non-dict");
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) throws IOException {
    if (o instanceof List<?> l) return (List<Object>) l;
    throw new IOException("APPEND on a non-list");
  }

  private Object pop() throws IOException {
    if (stack.isEmpty()) throw new IOException("pickle stack underflow");
    return stack.remove(stack.size() - 1);
  }

  private Object peek() throws IOException {
    if (stack.isEmpty()) throw new IOException("pickle stack underflow");
    return stack.get(stack.size() - 1);
  }

  private List<Object> popMark() throws IOException {
    if (marks.isEmpty()) throw new IOException("pickle MARK missing");
    int m = marks.remove(marks.size() - 1);
    List<Object> items = new ArrayList<>(stack.subList(m, stack.size()));
    stack.subList(m, stack.size()).clear();
    return items;
  }

  private String string(int n) {
    byte[] b = new byte[n];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    in.get(b);
    return b;
  }

  private String line() {
    StringBuilder sb = new StringBuilder();
    byte c;
    while ((c = in.get()) != '\n') sb.append((char) c);
    return sb.toString();
  }

  private long long1(int n) {
    long v = 0;
    for (int i = 0; i < n; i++) v |= ((long) (in.get() & 0xff)) << (8 * i);
    if (n > 0 && n < 8 && (v & (1L << (8 * n - 1))) != 0) v |= -1L << (8 * n); // sign-extend
    return v;
  }
}
