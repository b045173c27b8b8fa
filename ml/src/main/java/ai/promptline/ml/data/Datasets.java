package ai.promptline.ml.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Registry of the benchmark datasets (methods.md §1.1) and the generic ones. {@link #open} finds
 * the dataset folder, reads its split source, validates everything (see {@link DatasetValidator}),
 * fingerprints it and returns a {@link BenchmarkDataset}.
 *
 * <p>{@code root} may be the dataset folder itself (e.g. {@code .../eurosat}) or CoOp's
 * {@code $DATA} folder containing it (then {@code root/eurosat} is used).
 */
public final class Datasets {
  /** How a dataset's splits are obtained. */
  public enum Kind {
    /** {@code split_zhou_<Name>.json} in the dataset folder. */
    SPLIT_JSON,
    /** ImageNet: classnames.txt + images/{train,val}/&lt;wnid&gt;/. */
    IMAGENET,
    /** ImageNet-V2: classnames.txt + &lt;image dir&gt;/&lt;label int&gt;/. */
    IMAGENET_V2,
    /** ImageNet-Sketch/-A/-R: classnames.txt + &lt;image dir&gt;/&lt;wnid&gt;/ (A/R: 200-class subsets). */
    IMAGENET_WNID_FOLDERS,
    /** FGVC Aircraft: variants.txt + images_variant_{train,val,test}.txt. */
    AIRCRAFT,
    /** Class = folder name; root/{train,val,test}/&lt;class&gt;/ or root/&lt;class&gt;/ (test only). */
    IMAGEFOLDER,
    /** root/manifest.csv with columns split,path,label,classname. */
    CSV,
    /** {@code split_promptline_<Name>.json} + images/ written by {@link SyntheticDataset}. */
    SYNTHETIC
  }

  /**
   * Static description of a dataset.
   *
   * @param name canonical name
   * @param folder folder under $DATA
   * @param imageDir image root relative to the dataset folder ("" = the folder itself)
   * @param template CoOp template
   * @param classes expected class count, or 0 when unknown (generic datasets)
   * @param kind split source
   */
  public record Spec(String name, String folder, String imageDir, String template, int classes, Kind kind) {}

  private static final Map<String, Spec> SPECS = new LinkedHashMap<>();
  private static final Map<String, String> ALIASES = new LinkedHashMap<>();

  static {
    add(new Spec("ImageNet", "imagenet", "images", "a photo of a {}.", 1000, Kind.IMAGENET));
    add(new Spec("Caltech101", "caltech-101", "101_ObjectCategories", "a photo of a {}.", 100, Kind.SPLIT_JSON));
    add(new Spec("OxfordPets", "oxford_pets", "images", "a photo of a {}, a type of pet.", 37, Kind.SPLIT_JSON));
    add(new Spec("StanfordCars", "stanford_cars", "", "a photo of a {}.", 196, Kind.SPLIT_JSON));
    add(new Spec("OxfordFlowers", "oxford_flowers", "jpg", "a photo of a {}, a type of flower.", 102, Kind.SPLIT_JSON));
    add(new Spec("Food101", "food-101", "images", "a photo of {}, a type of food.", 101, Kind.SPLIT_JSON));
    add(new Spec("FGVCAircraft", "fgvc_aircraft", "images", "a photo of a {}, a type of aircraft.", 100, Kind.AIRCRAFT));
    add(new Spec("SUN397", "sun397", "SUN397", "a photo of a {}.", 397, Kind.SPLIT_JSON));
    add(new Spec("DescribableTextures", "dtd", "images", "{} texture.", 47, Kind.SPLIT_JSON));
    add(new Spec("EuroSAT", "eurosat", "2750", "a centered satellite photo of {}.", 10, Kind.SPLIT_JSON));
    add(new Spec("UCF101", "ucf101", "UCF-101-midframes", "a photo of a person doing {}.", 101, Kind.SPLIT_JSON));
    add(new Spec("ImageNetV2", "imagenetv2", "imagenetv2-matched-frequency-format-val", "a photo of a {}.", 1000, Kind.IMAGENET_V2));
    add(new Spec("ImageNetSketch", "imagenet-sketch", "images", "a photo of a {}.", 1000, Kind.IMAGENET_WNID_FOLDERS));
    add(new Spec("ImageNetA", "imagenet-adversarial", "imagenet-a", "a photo of a {}.", 200, Kind.IMAGENET_WNID_FOLDERS));
    add(new Spec("ImageNetR", "imagenet-rendition", "imagenet-r", "a photo of a {}.", 200, Kind.IMAGENET_WNID_FOLDERS));
    add(new Spec("imagefolder", "", "", "a photo of a {}.", 0, Kind.IMAGEFOLDER));
    add(new Spec("csv", "", "", "a photo of a {}.", 0, Kind.CSV));
    add(new Spec("Synthetic", "", "images", "a photo of a {}.", 0, Kind.SYNTHETIC));
    add(new Spec("Scenes", "", "images", "a photo of a {}.", 0, Kind.SYNTHETIC));
    ALIASES.put("flowers102", "OxfordFlowers");
    ALIASES.put("dtd", "DescribableTextures");
    ALIASES.put("imagenet-v2", "ImageNetV2");
    ALIASES.put("imagenet-sketch", "ImageNetSketch");
    ALIASES.put("imagenet-a", "ImageNetA");
    ALIASES.put("imagenet-r", "ImageNetR");
    ALIASES.put("pets", "OxfordPets");
    ALIASES.put("aircraft", "FGVCAircraft");
  }

  private Datasets() {}

  private static void add(Spec s) {
    SPECS.put(s.name().toLowerCase(Locale.ROOT), s);
  }

  /** Canonical names of all registered datasets. */
  public static List<String> names() {
    return SPECS.values().stream().map(Spec::name).toList();
  }

  /** The spec for a name or alias (case-insensitive); unknown names fail listing the known ones. */
  public static Spec spec(String name) {
    String key = name.toLowerCase(Locale.ROOT);
    String alias = ALIASES.get(key);
    if (alias != null) key = alias.toLowerCase(Locale.ROOT);
    Spec s = SPECS.get(key);
    if (s == null) {
      throw new IllegalArgumentException("unknown dataset '" + name + "'; known: " + String.join(", ", names()));
    }
    return s;
  }

  /** Opens and validates a dataset (standard checks: files exist and look like images). */
  public static BenchmarkDataset open(String name, Path root) {
    return open(name, root, DatasetValidator.Mode.STANDARD);
  }

  /** Opens and validates a dataset; {@code DEEP} decodes every image and hashes file bytes. */
  public static BenchmarkDataset open(String name, Path root, DatasetValidator.Mode mode) {
    Spec spec = spec(name);
    Path folder = locate(spec, root);
    DatasetReaders.Loaded loaded = DatasetReaders.read(spec, folder);
    List<String> classNames = DatasetValidator.validate(spec, loaded, mode);
    String fp = Fingerprint.of(loaded.splits(), loaded.imageRoot(), mode == DatasetValidator.Mode.DEEP);
    return new BenchmarkDataset(
        loaded.name(), folder, loaded.imageRoot(), loaded.splits(), classNames, spec.template(), fp,
        spec.kind() == Kind.IMAGENET);
  }

  static Path locate(Spec spec, Path root) {
    if (root == null || !Files.isDirectory(root)) {
      throw DatasetException.of(spec.name(), "root folder not found: " + root);
    }
    if (!spec.folder().isEmpty()) {
      Path nested = root.resolve(spec.folder());
      if (Files.isDirectory(nested) && !root.getFileName().toString().equals(spec.folder())) return nested;
    }
    return root;
  }
}
