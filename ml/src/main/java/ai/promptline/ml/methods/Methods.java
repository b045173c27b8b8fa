package ai.promptline.ml.methods;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/** The method registry: name → constructor. Adding a method = one file + one line here. */
public final class Methods {
  private static final Map<String, Function<MethodContext, PromptMethod>> REGISTRY = new TreeMap<>();

  static {
    REGISTRY.put(ZeroShotClip.NAME, ZeroShotClip::new);
    REGISTRY.put(CoOp.NAME, CoOp::new);
  }

  private Methods() {}

  public static PromptMethod create(String name, MethodContext ctx) {
    return constructor(name).apply(ctx);
  }

  /** Validates a method name without building anything. */
  public static Function<MethodContext, PromptMethod> constructor(String name) {
    Function<MethodContext, PromptMethod> c = REGISTRY.get(name);
    if (c == null)
      throw new IllegalArgumentException("unknown method '" + name + "'; known methods: " + String.join(", ", REGISTRY.keySet()));
    return c;
  }

  public static java.util.Set<String> names() {
    return REGISTRY.keySet();
  }
}
