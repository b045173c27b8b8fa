package ai.promptline.ml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.promptline.ml.data.image.Transforms;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchLoaderTest {
  @TempDir static Path tmp;
  static List<Datum> data;

  @BeforeAll
  static void generate() {
    SyntheticDataset.Generated g = SyntheticDataset.generate(tmp, SyntheticSpec.defaults().withPerClass(3, 0, 0).withImageSize(24));
    data = g.splits().train().stream().map(it -> it.resolve(g.imageRoot())).toList(); // 30 items
  }

  private static BatchLoader loader(int workers) {
    return BatchLoader.builder(data, Transforms.train(16, 11)).optBatchSize(7).optTrain(true).optSeed(3).optWorkers(workers).build();
  }

  private static List<Object> collect(BatchLoader l, int epoch, int start) {
    List<Object> out = new ArrayList<>();
    try (BatchLoader.Epoch it = l.epoch(epoch, start)) {
      while (it.hasNext()) {
        BatchLoader.Batch b = it.next();
        out.add(List.of(b.index(), Arrays.toString(b.labels()), Arrays.hashCode(b.images())));
      }
    }
    return out;
  }

  @Test
  void trainBatches_areDeterministic_acrossThreadCounts_andResume() {
    try (BatchLoader a = loader(2); BatchLoader b = loader(0); BatchLoader c = loader(1)) {
      assertTrue(a.dropLast());
      assertEquals(4, a.numBatches()); // floor(30 / 7)
      List<Object> e1 = collect(a, 1, 0);
      assertEquals(4, e1.size());
      assertEquals(e1, collect(b, 1, 0));
      // resume at (epoch 1, batch 2) in a fresh loader: the tail is identical
      assertEquals(e1.subList(2, 4), collect(c, 1, 2));
      assertFalse(e1.equals(collect(a, 2, 0)), "epochs must differ");
    }
  }

  @Test
  void order_isAPermutationPerEpoch_andEvalKeepsOrderWithPartialLastBatch() {
    try (BatchLoader l = loader(1)) {
      int[] o = l.order(5).clone();
      Arrays.sort(o);
      for (int i = 0; i < o.length; i++) assertEquals(i, o[i]);
    }
    try (BatchLoader ev = BatchLoader.builder(data, Transforms.test(16)).optBatchSize(8).optWorkers(2).build()) {
      assertFalse(ev.dropLast());
      assertEquals(4, ev.numBatches());
      List<Integer> labels = new ArrayList<>();
      int last = -1;
      try (BatchLoader.Epoch it = ev.epoch(0, 0)) {
        while (it.hasNext()) {
          BatchLoader.Batch b = it.next();
          for (int x : b.labels()) labels.add(x);
          assertEquals(b.size() * 3 * 16 * 16, b.images().length);
          last = b.size();
        }
      }
      assertEquals(6, last);
      assertEquals(data.stream().map(Datum::label).toList(), labels);
    }
    // fewer items than the batch size: one partial batch even in train mode (Dassl drop_last rule)
    try (BatchLoader small = BatchLoader.builder(data.subList(0, 5), Transforms.train(16, 1)).optBatchSize(8).optTrain(true).build()) {
      assertFalse(small.dropLast());
      assertEquals(1, small.numBatches());
    }
  }

  @Test
  void aMissingImage_failsNamingTheFile() throws Exception {
    Path gone = tmp.resolve("gone.png");
    List<Datum> bad = new ArrayList<>(data.subList(0, 3));
    bad.add(new Datum(gone, 0, "x"));
    assertFalse(Files.exists(gone));
    try (BatchLoader l = BatchLoader.builder(bad, Transforms.test(16)).optBatchSize(4).optWorkers(1).build();
        BatchLoader.Epoch it = l.epoch(0, 0)) {
      var e = assertThrows(UncheckedIOException.class, it::next);
      assertTrue(e.getMessage().contains("gone.png"), e.getMessage());
    }
  }
}
