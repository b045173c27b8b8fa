package ai.promptline.workflows.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Content keys: SHA-256 of canonical JSON (keys sorted, no whitespace). Machine-local paths are
 * removed before hashing, content digests stay, so a key names what was computed, not where.
 */
public final class ContentKeys {
  /** Bump when a change to the pipeline changes results for the same config. */
  public static final String PIPELINE_VERSION = "2";

  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .build();

  private ContentKeys() {}

  public static String runKey(RunConfig config) {
    ObjectNode node = CANONICAL.valueToTree(config);
    ((ObjectNode) node.get("dataset")).remove("root");
    stripTargetRoots(node);
    canonicalModel((ObjectNode) node.get("model"));
    canonicalExperts(node);
    node.put("pipelineVersion", PIPELINE_VERSION);
    return sha256Hex(canonicalJson(node));
  }

  /**
   * Experts enter a key as the main model does (name, sha256, precision when not fp32; no path).
   * An empty list is not serialised ({@code @JsonInclude(NON_EMPTY)}): runs without experts keep
   * their keys.
   */
  private static void canonicalExperts(ObjectNode node) {
    if (node.has("experts")) node.withArray("experts").forEach(m -> canonicalModel((ObjectNode) m));
  }

  /**
   * Target roots are machine-local like the dataset's; names and fingerprints stay. An empty
   * target list is not serialised at all ({@code @JsonInclude(NON_EMPTY)}), so configs without
   * targets hash exactly as before targets existed.
   */
  private static void stripTargetRoots(ObjectNode node) {
    if (node.has("targets")) node.withArray("targets").forEach(d -> ((ObjectNode) d).remove("root"));
  }

  public static String campaignKey(CampaignSpec spec) {
    ObjectNode node = CANONICAL.valueToTree(spec);
    node.withArray("datasets").forEach(d -> ((ObjectNode) d).remove("root"));
    stripTargetRoots(node);
    canonicalModel((ObjectNode) node.get("model"));
    node.withArray("methods").forEach(m -> canonicalExperts((ObjectNode) m));
    node.remove("maxParallel"); // scheduling, not content
    node.remove("heartbeatTimeoutSeconds");
    node.remove("failurePolicy");
    node.put("pipelineVersion", PIPELINE_VERSION);
    return sha256Hex(canonicalJson(node));
  }

  /**
   * The model part of a key: the weights path is machine-local; the precision counts only when it is
   * not the default fp32, so fp32 keys are those of configs written before the field existed.
   */
  private static void canonicalModel(ObjectNode model) {
    model.remove("weights");
    if (model.path("precision").isNull() || ModelRef.FP32.equals(model.path("precision").asText())) {
      model.remove("precision");
    }
  }

  /** Canonical JSON of any record/tree: sorted keys, compact. */
  public static String canonicalJson(Object value) {
    try {
      Object tree = value instanceof com.fasterxml.jackson.databind.JsonNode ? value : CANONICAL.valueToTree(value);
      // Re-serialise through a sorted map view so nested ObjectNodes are sorted too.
      return CANONICAL.writeValueAsString(CANONICAL.treeToValue((com.fasterxml.jackson.databind.JsonNode) tree, Object.class));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot serialise " + value.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  public static String sha256Hex(String text) {
    return sha256Hex(text.getBytes(StandardCharsets.UTF_8));
  }

  public static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static void require(String value, String field) {
    if (value == null || value.isBlank()) throw new IllegalArgumentException(field + " is required");
  }
}
