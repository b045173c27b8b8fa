package ai.promptline.ml.methods;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A method's resolved options (defaults of its {@link MethodSpec} overridden by the run's), with
 * typed access. {@code nCtx} and {@code ctxInit} are the shared text-context options.
 */
public record MethodOptions(Map<String, String> values) {
  public MethodOptions {
    values = Map.copyOf(values);
  }

  /** The text-context options alone (CoOp-style methods). */
  public MethodOptions(int nCtx, String ctxInit) {
    this(context(nCtx, ctxInit));
  }

  private static Map<String, String> context(int nCtx, String ctxInit) {
    if (nCtx < 0) throw new IllegalArgumentException("nCtx must be >= 0, got " + nCtx);
    Map<String, String> m = new LinkedHashMap<>();
    m.put("nCtx", String.valueOf(nCtx));
    m.put("ctxInit", ctxInit == null ? "" : ctxInit);
    return m;
  }

  /** Options for {@code spec}: its defaults, then {@code given}. */
  public static MethodOptions of(MethodSpec spec, Map<String, String> given) {
    return new MethodOptions(spec.resolve(given));
  }

  public int nCtx() {
    return intValue("nCtx");
  }

  public String ctxInit() {
    return string("ctxInit");
  }

  public int intValue(String name) {
    String v = values.get(name);
    if (v == null) throw new IllegalArgumentException("option '" + name + "' is not set");
    return Integer.parseInt(v.trim());
  }

  public String string(String name) {
    String v = values.get(name);
    if (v == null) throw new IllegalArgumentException("option '" + name + "' is not set");
    return v;
  }
}
