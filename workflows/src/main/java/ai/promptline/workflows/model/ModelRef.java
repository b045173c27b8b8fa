package ai.promptline.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Locale;

/**
 * The frozen CLIP a run uses: a named architecture, the path of its weights file (OpenAI
 * TorchScript, OpenAI/open_clip or HF safetensors) and the precision its towers compute in. The
 * file's {@code sha256} enters the run key and is verified by every worker; the path does not enter
 * the key. {@code precision} ({@code fp32} default, {@code fp16}, {@code bf16}) changes results, so
 * it enters the key too — but only when it is not fp32, so keys of configs written before the field
 * existed do not change ({@link ContentKeys}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelRef(String name, String weights, String sha256, String precision) {
  public static final String FP32 = "fp32";

  public ModelRef {
    ContentKeys.require(name, "model.name");
    ContentKeys.require(weights, "model.weights");
    precision = normalizePrecision(precision);
  }

  /** fp32 model (the default precision). */
  public ModelRef(String name, String weights, String sha256) {
    this(name, weights, sha256, FP32);
  }

  /** This reference with another precision. */
  public ModelRef withPrecision(String p) {
    return new ModelRef(name, weights, sha256, p);
  }

  /** Whether the towers run in the default fp32 (the precision is then left out of content keys). */
  @JsonIgnore // not a property: it would enter canonical JSON and change every key
  public boolean isFp32() {
    return FP32.equals(precision);
  }

  /**
   * {@code fp32|fp16|bf16} (case-insensitive); null/blank = fp32.
   *
   * @throws IllegalArgumentException naming the field and the accepted values
   */
  public static String normalizePrecision(String p) {
    if (p == null || p.isBlank()) return FP32;
    String s = p.trim().toLowerCase(Locale.ROOT);
    return switch (s) {
      case "fp32", "fp16", "bf16" -> s;
      default -> throw new IllegalArgumentException(
          "model.precision must be one of fp32, fp16, bf16; got '" + p + "'");
    };
  }
}
