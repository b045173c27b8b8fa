package ai.promptline.ml.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every registered architecture is recognised from the state dict the reference packages build
 * ({@code tools/golden/clip_arch_shapes.py}: {@code clip.model.CLIP} of OpenAI's package and
 * {@code open_clip.model.CLIP}, on the meta device, geometry from open_clip's model configs):
 * config inference names the architecture, and the layout validates key for key and shape for
 * shape against {@link ClipWeights#expectedShapes}. This is the name check that found the
 * ModifiedResNet {@code downsample.0/1} error.
 */
class ClipArchitecturesTest {
  private static JsonNode golden;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in = new GZIPInputStream(
        ClipArchitecturesTest.class.getResourceAsStream("/golden/clip/clip_arch_shapes.json.gz"))) {
      golden = new ObjectMapper().readTree(in);
    }
  }

  static Map<String, Shape> shapes(JsonNode layout) {
    Map<String, Shape> out = new LinkedHashMap<>();
    layout.fields().forEachRemaining(e -> {
      long[] dims = new long[e.getValue().size()];
      for (int i = 0; i < dims.length; i++) dims[i] = e.getValue().get(i).asLong();
      out.put(e.getKey(), new Shape(dims));
    });
    return out;
  }

  @Test
  void everyRegisteredArchitectureIsRecognisedInBothReferenceLayouts() {
    List<String> names = new ArrayList<>();
    golden.get("architectures").fieldNames().forEachRemaining(names::add);
    assertEquals(ClipArchitectures.all().stream().map(ClipArchitectures.Architecture::name).toList(), names,
        "the registry lists exactly the reference architectures, in order");
    for (String name : names) {
      for (String layout : List.of("openai", "openclip")) {
        Map<String, Shape> s = shapes(golden.get("architectures").get(name).get(layout));
        ClipConfig inferred = ClipConfig.inferFrom(s);
        assertEquals(name, ClipArchitectures.describe(inferred), name + " (" + layout + ")");
        assertEquals(ClipArchitectures.byName(name).orElseThrow().config(), inferred);
        ClipWeights.validate(inferred, s, false); // no missing, unexpected or mis-shaped key
        assertEquals(s.keySet(), ClipWeights.expectedShapes(inferred).keySet(), name + " key set");
      }
    }
  }

  @Test
  void reducedDepthAndCustomGeometriesAreDescribed() {
    ClipConfig b32 = ClipConfig.vitB32();
    ClipConfig shallow = new ClipConfig(b32.visionKind(), b32.embedDim(), b32.imageResolution(), b32.visionWidth(), 2,
        List.of(), b32.visionPatchSize(), b32.visionHeads(), 77, 49408, b32.textWidth(), 2, b32.textHeads());
    assertEquals("ViT-B/32 geometry, depth reduced: 2 vision / 2 text layers", ClipArchitectures.describe(shallow));
    ClipConfig rn = ClipConfig.rn50();
    ClipConfig rnShallow = new ClipConfig(rn.visionKind(), rn.embedDim(), rn.imageResolution(), rn.visionWidth(), 0,
        List.of(1, 1, 1, 1), 0, rn.visionHeads(), 77, 49408, rn.textWidth(), 2, rn.textHeads());
    assertEquals("RN50 geometry, depth reduced: stages [1, 1, 1, 1] / 2 text layers", ClipArchitectures.describe(rnShallow));
    assertTrue(ClipArchitectures.describe(ClipConfig.tinyVit()).startsWith("custom ViT (32px, patch 8, width 64"));
  }

  @Test
  void aMisnamedResNetLayoutFailsWithOneLineNamingKeysShapesAndArchitecture() {
    // the layout the loader used to expect: conv at downsample.1 and BatchNorm at downsample.2
    Map<String, Shape> s = new LinkedHashMap<>();
    shapes(golden.get("architectures").get("RN50").get("openai")).forEach((k, v) ->
        s.put(k.replace("downsample.1.", "downsample.2.").replace("downsample.0.", "downsample.1."), v));
    ClipConfig inferred = ClipConfig.inferFrom(s);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClipWeights.validate(inferred, s, false));
    String msg = e.getMessage();
    assertTrue(!msg.contains("\n"), msg);
    assertTrue(msg.startsWith("checkpoint does not match the inferred architecture (RN50)"), msg);
    assertTrue(msg.contains("shape mismatches: visual.layer1.0.downsample.1.weight expected (256) got (256, 64, 1, 1)"), msg);
    assertTrue(msg.contains("missing keys (expected shape): visual.layer1.0.downsample.0.weight (256, 64, 1, 1)"), msg);
    assertTrue(msg.contains("unexpected keys (shape): visual.layer1.0.downsample.2.weight (256)"), msg);
    assertTrue(msg.contains("in all)"), msg);
  }
}
