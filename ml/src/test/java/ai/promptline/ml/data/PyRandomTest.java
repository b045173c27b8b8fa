package ai.promptline.ml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Compares PyRandom and FewShot with values printed by CPython (tools/golden/pyrandom_golden.py). */
class PyRandomTest {
  static JsonNode golden;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in = PyRandomTest.class.getResourceAsStream("/golden/pyrandom.json")) {
      golden = new ObjectMapper().readTree(in);
    }
  }

  private static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  @Test
  void everySeed_matchesCPythonStream() {
    for (JsonNode e : golden.get("seeds")) {
      String seed = e.get("seed").asText();
      PyRandom r = new PyRandom(new BigInteger(seed));
      for (JsonNode g : e.get("getrandbits")) {
        int k = g.get(0).asInt();
        assertEquals(new BigInteger(g.get(1).asText()), r.getrandbitsBig(k), "seed " + seed + " getrandbits(" + k + ")");
      }
      for (JsonNode g : e.get("random")) {
        assertEquals(Double.parseDouble(g.asText()), r.random(), "seed " + seed + " random()");
      }
      for (JsonNode g : e.get("randbelow")) {
        assertEquals(g.get(1).asLong(), r.randbelow(g.get(0).asLong()), "seed " + seed + " randbelow");
      }
      for (JsonNode g : e.get("sample")) {
        int n = g.get(0).asInt();
        int k = g.get(1).asInt();
        List<Integer> expected = new ArrayList<>();
        g.get(2).forEach(x -> expected.add(x.asInt()));
        assertEquals(expected, r.sample(range(n), k), "seed " + seed + " sample(" + n + "," + k + ")");
      }
      List<Integer> lst = new ArrayList<>(range(20));
      r.shuffle(lst);
      List<Integer> expShuffle = new ArrayList<>();
      e.get("shuffle20").forEach(x -> expShuffle.add(x.asInt()));
      assertEquals(expShuffle, lst, "seed " + seed + " shuffle");
      JsonNode rr = e.get("randrange");
      assertEquals(rr.get(0).asLong(), r.randrange(10));
      assertEquals(rr.get(1).asLong(), r.randrange(5, 50));
      assertEquals(rr.get(2).asLong(), r.randrange(0, 100, 7));
      assertEquals(rr.get(3).asLong(), r.randrange(50, 0, -3));
    }
  }

  @Test
  void longAndBigIntegerSeeds_agree() {
    PyRandom a = new PyRandom(-123456789012L);
    PyRandom b = new PyRandom(new BigInteger("123456789012"));
    for (int i = 0; i < 10; i++) assertEquals(a.getrandbits(32), b.getrandbits(32));
  }

  @Test
  void sampleLargerThanPopulation_fails() {
    assertThrows(IllegalArgumentException.class, () -> new PyRandom(1).sample(range(3), 4));
  }

  @Test
  void fewShot_onRealSplitFiles_matchesDassl() {
    String loaded = null;
    Splits splits = null;
    for (JsonNode e : golden.get("fewshot")) {
      String ds = e.get("dataset").asText();
      if (!ds.equals(loaded)) {
        splits = SplitFile.read(TestData.coopSplit(ds));
        loaded = ds;
      }
      int shots = e.get("shots").asInt();
      long seed = e.get("seed").asLong();
      Splits fs = FewShot.trainVal(splits, shots, seed);
      List<String> expTrain = new ArrayList<>();
      e.get("train").forEach(x -> expTrain.add(x.asText()));
      List<String> expVal = new ArrayList<>();
      e.get("val").forEach(x -> expVal.add(x.asText()));
      String ctx = ds + " K=" + shots + " seed=" + seed;
      assertEquals(expTrain, fs.train().stream().map(SplitItem::relPath).toList(), ctx + " train");
      assertEquals(expVal, fs.val().stream().map(SplitItem::relPath).toList(), ctx + " val");
      assertEquals(splits.test(), fs.test());
    }
  }
}
