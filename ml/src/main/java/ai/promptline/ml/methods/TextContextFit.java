package ai.promptline.ml.methods;

import ai.promptline.ml.clip.ClipTokenizer;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Whether a method's text prompts fit the model's text context, asked before any run exists. The
 * prompt is built as the method builds it ({@link TextPrompts}): CoOp's rule (CoOp, CoCoOp,
 * instance-wise prompts: {@code ctxInit} when given, else {@code nCtx} "X" placeholders) or MaPLe's
 * ({@code maple}, {@code ivlp}, {@code deep-text}: {@code ctxInit} only when {@code nCtx <= 4}),
 * then the instance-wise context's placeholders, then {@code "<class>."}; with SOT and EOT it must
 * fit the context length for every class name, else tokenisation fails when the run starts.
 */
public final class TextContextFit {
  private TextContextFit() {}

  /** The text in front of the class name of the method's prompts, or null for a method without a text context. */
  public static String prefix(MethodSpec spec, Map<String, String> resolved) {
    if (!spec.defaults().containsKey("ctxInit") || !resolved.containsKey("nCtx")) return null;
    String init = resolved.getOrDefault("ctxInit", "").replace('_', ' ').trim();
    int n = Integer.parseInt(resolved.get("nCtx").trim());
    boolean maple = spec.name().equals(MaPLe.NAME) || spec.name().equals(Ivlp.NAME) || spec.name().equals(Ivlp.DEEP_TEXT);
    String prefix = !init.isEmpty() && (!maple || n <= 4) ? init : String.join(" ", Collections.nCopies(Math.max(0, n), "X"));
    if (spec.name().equals(InstancePrompts.NAME) && resolved.containsKey(InstancePrompts.N_CTX_INSTANCE)) {
      int mi = Integer.parseInt(resolved.get(InstancePrompts.N_CTX_INSTANCE).trim());
      if (mi > 0) prefix = (prefix + " " + String.join(" ", Collections.nCopies(mi, "X"))).trim();
    }
    return prefix;
  }

  /**
   * Null when every class's prompt fits {@code contextLength} tokens, else what is wrong and how
   * long the context may be.
   *
   * @param classNames every class the method's prompts will name (source and target datasets)
   */
  public static String problem(MethodSpec spec, Map<String, String> resolved, List<String> classNames, int contextLength,
      ClipTokenizer tokenizer) {
    String prefix = prefix(spec, resolved);
    if (prefix == null) return null;
    if (prefix.isEmpty())
      return "method '" + spec.name() + "' has an empty text context (nCtx 0 and no ctxInit); give nCtx >= 1 or a ctxInit";
    int prefixTokens = tokenizer.encode(prefix).length;
    String longest = null;
    int longestTokens = -1;
    for (String c : classNames) {
      int t = tokenizer.encodeWithSpecials(c.replace('_', ' ') + ".").length; // SOT, class, ".", EOT
      if (t > longestTokens) {
        longestTokens = t;
        longest = c;
      }
    }
    if (longest == null) longestTokens = 3; // SOT "." EOT
    int total = tokenizer.encodeWithSpecials(prefix + " " + (longest == null ? "" : longest.replace('_', ' ')) + ".").length;
    if (total <= contextLength) return null;
    int room = contextLength - longestTokens;
    String init = resolved.getOrDefault("ctxInit", "").trim();
    boolean fromInit = !init.isEmpty() && prefix.startsWith(init.replace('_', ' '));
    String what = fromInit ? "ctxInit '" + shorten(init) + "'" : "nCtx " + resolved.get("nCtx");
    return "method '" + spec.name() + "': the text context (" + what + ", " + prefixTokens + " tokens) does not fit the model's "
        + contextLength + "-token text context: with the class name '" + longest + "' the prompt is " + total
        + " tokens including SOT, '.' and EOT; use a context of at most " + Math.max(0, room) + " tokens"
        + (fromInit ? " (a shorter ctxInit, e.g. 'a photo of a')" : " (a smaller nCtx)");
  }

  private static String shorten(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
