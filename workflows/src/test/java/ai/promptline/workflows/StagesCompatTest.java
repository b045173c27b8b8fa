package ai.promptline.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.promptline.workflows.model.Stages.BlobRef;
import ai.promptline.workflows.model.Stages.FeatureResult;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@link FeatureResult#val} (the few-shot val features of fitted methods) is a trailing nullable
 * component: payloads written before it (in stored workflow histories) decode with {@code val}
 * null, and a result without val features encodes exactly as before (no {@code val} key), so old
 * histories replay.
 */
class StagesCompatTest {
  private static final DataConverter CONVERTER = DefaultDataConverter.newDefaultInstance();

  @Test
  void featureResultWithoutVal_roundTripsAsBefore() {
    BlobRef ref = new BlobRef("features/a.safetensors", "abc", 10);
    FeatureResult old = new FeatureResult("k", ref, ref, null, 32, 1, true);
    var payload = CONVERTER.toPayload(old).orElseThrow();
    String json = payload.getData().toString(StandardCharsets.UTF_8);
    assertFalse(json.contains("\"val\""), json);
    FeatureResult back = CONVERTER.fromPayload(payload, FeatureResult.class, FeatureResult.class);
    assertEquals(old, back);
    assertNull(back.val());
  }

  @Test
  void featureResultWithVal_roundTrips() {
    BlobRef ref = new BlobRef("features/a.safetensors", "abc", 10);
    FeatureResult withVal = new FeatureResult("k", ref, ref, null, 32, 1, false, new BlobRef("features/v.safetensors", "def", 5));
    var payload = CONVERTER.toPayload(withVal).orElseThrow();
    assertEquals(withVal, CONVERTER.fromPayload(payload, FeatureResult.class, FeatureResult.class));
  }
}
