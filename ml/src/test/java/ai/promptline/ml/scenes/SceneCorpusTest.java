package ai.promptline.ml.scenes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SceneCorpusTest {
  @Test
  void batchesArePureFunctionsOfSeedAndIndex() {
    SceneCorpus a = new SceneCorpus(3, 32);
    SceneCorpus.Batch x = a.batch(7, 5);
    SceneCorpus.Batch y = new SceneCorpus(3, 32).batch(7, 5);
    assertArrayEquals(x.pixels(), y.pixels());
    assertEquals(x.captions(), y.captions());
    assertFalse(x.captions().equals(a.batch(8, 5).captions()));
  }

  @Test
  void heldOutPairsNeverOccurAndEveryOtherPairDoes() {
    SplittableRandom rng = new SplittableRandom(1);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 20_000; i++) {
      Scene s = SceneCorpus.sample(rng);
      assertFalse(SceneVocabulary.heldOut(s.colour(), s.shape()), s.colourShape());
      seen.add(s.colourShape());
    }
    assertEquals(100 - SceneVocabulary.HELD_OUT.size(), seen.size());
  }

  @Test
  void benchmarkPairsSplitIntoSeenBaseAndHeldOutNovel() {
    List<int[]> pairs = SceneVocabulary.BENCHMARK_PAIRS;
    assertEquals(SceneVocabulary.BENCHMARK_CLASSES, pairs.size());
    Set<String> names = new HashSet<>();
    Set<Integer> novelColours = new HashSet<>();
    Set<Integer> novelShapes = new HashSet<>();
    for (int i = 0; i < pairs.size(); i++) {
      assertTrue(names.add(SceneVocabulary.className(i)), "duplicate class " + SceneVocabulary.className(i));
      boolean novel = i >= pairs.size() / 2;
      assertEquals(novel, SceneVocabulary.heldOut(pairs.get(i)[0], pairs.get(i)[1]), SceneVocabulary.className(i));
      if (novel) {
        novelColours.add(pairs.get(i)[0]);
        novelShapes.add(pairs.get(i)[1]);
      }
    }
    // six colours and all ten shapes name novel classes; each of those words is learnt in
    // pretraining from other pairs (every colour and shape occurs there with 7+ partners)
    assertEquals(6, novelColours.size());
    assertEquals(10, novelShapes.size());
  }

  @Test
  void captionsNameColourAndShapeAndVaryTheRest() {
    SplittableRandom rng = new SplittableRandom(2);
    Scene s = new Scene(2, 0, 1, 0, 3, 1, 0);
    Set<String> distinct = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      String c = Captions.caption(s, rng);
      assertTrue(c.contains("red") && c.contains("triangle"), c);
      distinct.add(c);
    }
    assertTrue(distinct.size() > 50, "only " + distinct.size() + " distinct captions");
    assertTrue(distinct.stream().anyMatch(c -> c.contains("small red striped triangle at the bottom on a grey background")), distinct.toString());
  }

  @Test
  void shapesDifferInPixelsAndStylesDiffer() {
    Set<Integer> hashes = new HashSet<>();
    for (int shape = 0; shape < SceneVocabulary.SHAPES.length; shape++) {
      Scene s = new Scene(shape, 5, 0, 2, 4, 0, 0);
      int[] px = SceneRenderer.render(s, 48, 48, SceneRenderer.Style.PRETRAIN, new SplittableRandom(9)).rgb();
      int covered = 0;
      for (int p : px) if (((p >> 16) & 0xff) < 120) covered++; // blue object on a white background
      assertTrue(covered > 150 && covered < 48 * 48 * 0.6, SceneVocabulary.SHAPES[shape] + " covers " + covered + " px");
      hashes.add(java.util.Arrays.hashCode(px));
    }
    assertEquals(SceneVocabulary.SHAPES.length, hashes.size());
  }
}
