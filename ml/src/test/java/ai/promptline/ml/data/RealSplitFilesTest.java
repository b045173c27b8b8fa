package ai.promptline.ml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every real CoOp split file parses, has contiguous labels and the class count the registry expects. */
class RealSplitFilesTest {
  @ParameterizedTest
  @ValueSource(strings = {"Caltech101", "DescribableTextures", "EuroSAT", "OxfordFlowers", "OxfordPets", "StanfordCars", "UCF101"})
  void splitFile_matchesRegistry(String name) {
    Splits s = SplitFile.read(TestData.coopSplit(name));
    List<String> names = BaseNovel.classNames(s);
    int expected = Datasets.spec(name).classes();
    assertEquals(expected, names.size(), name);
    assertTrue(s.train().stream().allMatch(it -> it.label() >= 0 && it.label() < expected));
    int m = (expected + 1) / 2;
    Splits fs = FewShot.trainVal(s, 16, 1);
    assertEquals(m, BaseNovel.subsampleWithNames(fs, Subsample.BASE).classNames().size());
    assertEquals(expected - m, BaseNovel.subsampleWithNames(fs, Subsample.NEW).classNames().size());
  }
}
