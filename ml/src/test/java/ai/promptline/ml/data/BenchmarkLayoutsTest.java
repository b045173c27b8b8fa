package ai.promptline.ml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every real benchmark's miniature opens through the real reader at the real path, with the real class count. */
class BenchmarkLayoutsTest {
  @TempDir Path data;

  @Test
  void everyBenchmarkLayoutOpensWithItsRealClassCount() {
    assertEquals(15, BenchmarkLayouts.names().size(), BenchmarkLayouts.names().toString());
    for (String name : BenchmarkLayouts.names()) {
      Path folder = BenchmarkLayouts.write(name, data, new BenchmarkLayouts.Counts(2, 1, 1));
      assertEquals(data.resolve(Datasets.spec(name).folder()), folder);
      BenchmarkDataset ds = Datasets.open(name, data); // the $DATA root, as campaign files give it
      assertEquals(Datasets.spec(name).classes(), ds.classNames().size(), name);
      assertTrue(ds.test().size() >= ds.classNames().size(), name);
    }
  }

  @Test
  void genericKindsHaveNoLayout() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BenchmarkLayouts.write("imagefolder", data, new BenchmarkLayouts.Counts(1, 0, 1)));
    assertTrue(e.getMessage().contains("no fixed layout"), e.getMessage());
  }
}
