package ai.promptline.cli;

import ai.promptline.ml.data.image.Images;
import ai.promptline.ml.data.image.Transforms;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipCheckpoints;
import ai.promptline.ml.clip.ClipConfig;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.clip.Precision;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code promptline clip ...}: tokenise, classify one image zero-shot, inspect or fetch a checkpoint. */
@Command(
    name = "clip",
    mixinStandardHelpOptions = true,
    description = "CLIP utilities: tokenize, classify, inspect, download.",
    subcommands = {
      ClipCommand.Tokenize.class,
      ClipCommand.Classify.class,
      ClipCommand.Inspect.class,
      ClipCommand.Download.class,
      ClipCommand.RandomWeights.class,
      ClipPretrainCommand.class
    })
public final class ClipCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Opens a checkpoint, verifying it against the official digest when a model name is given. */
  static ClipModel open(Path weights, String modelName, NDManager manager) throws Exception {
    return open(weights, modelName, manager, Precision.FP32);
  }

  static ClipModel open(Path weights, String modelName, NDManager manager, Precision precision) throws Exception {
    if (modelName != null) ClipCheckpoints.verify(modelName, weights);
    return ClipModel.load(weights, manager, precision);
  }

  static final String PRECISION_HELP = "precision of the frozen towers: fp32 (default), fp16, bf16 (bf16 is emulated"
      + " in fp32 storage with bf16 rounding: DJL 0.36 has no bfloat16 tensors)";

  @Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print CLIP token ids (with SOT/EOT, no padding), one line per text.")
  static final class Tokenize implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "TEXT") List<String> texts;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      ClipTokenizer tok = ClipTokenizer.getDefault();
      for (String t : texts) {
        int[] ids = tok.encodeWithSpecials(t);
        if (ids.length > ClipTokenizer.DEFAULT_CONTEXT) {
          throw new IllegalArgumentException("text has " + ids.length + " tokens, more than the context of 77: \"" + t + "\"");
        }
        out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "classify", mixinStandardHelpOptions = true, description = "Zero-shot classify one image: label<TAB>logit<TAB>probability per label.")
  static final class Classify implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--weights", required = true,
        description = "checkpoint: OpenAI TorchScript .pt, torch.save / open_clip .pt, safetensors (OpenAI or HF names),"
            + " or a HuggingFace save_pretrained directory")
    Path weights;

    @Option(names = "--model", description = "official model name (e.g. ViT-B/16): verify the file's SHA-256")
    String model;

    @Option(names = "--image", required = true) Path image;

    @Option(names = "--labels", required = true, description = "comma-separated class names")
    String labels;

    @Option(names = "--template", defaultValue = "a photo of a {}.", description = "prompt template, {} = label (default: ${DEFAULT-VALUE})")
    String template;

    @Option(names = "--precision", defaultValue = "fp32", description = PRECISION_HELP)
    String precision;

    @Override
    public Integer call() throws Exception {
      List<String> names = new ArrayList<>();
      for (String l : labels.split(",")) if (!l.isBlank()) names.add(l.strip());
      if (names.isEmpty()) throw new IllegalArgumentException("--labels is empty");
      if (!template.contains("{}")) throw new IllegalArgumentException("--template must contain {}");
      List<String> prompts = names.stream().map(n -> template.replace("{}", n)).toList();
      PrintWriter out = spec.commandLine().getOut();
      Precision prec = Precision.parse(precision);
      try (NDManager manager = NDManager.newBaseManager(); ClipModel clip = open(weights, model, manager, prec)) {
        ClipConfig c = clip.config();
        int r = c.imageResolution();
        float[] px = Transforms.test(r).apply(Images.readRgb(image), 0, 0); // PIL-exact CLIP test transform
        NDArray pixels = manager.create(px, new Shape(1, 3, r, r));
        NDArray ids = manager.create(ClipTokenizer.getDefault().tokenize(prompts, c.contextLength(), false));
        NDArray logits = clip.logits(clip.encodeImage(pixels), clip.encodeText(ids)).reshape(names.size());
        float[] l = logits.toFloatArray();
        float[] p = logits.softmax(0).toFloatArray();
        for (int i = 0; i < names.size(); i++) out.println(names.get(i) + "\t" + l[i] + "\t" + p[i]); // full precision
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show a checkpoint's inferred architecture, parameter count, dtypes and SHA-256.")
  static final class Inspect implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--weights", required = true,
        description = "checkpoint: OpenAI TorchScript .pt, torch.save / open_clip .pt, safetensors (OpenAI or HF names),"
            + " or a HuggingFace save_pretrained directory")
    Path weights;

    @Option(names = "--model", description = "official model name: verify the file's SHA-256")
    String model;

    @Option(names = "--precision", defaultValue = "fp32", description = PRECISION_HELP)
    String precision;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      Precision prec = Precision.parse(precision);
      try (NDManager manager = NDManager.newBaseManager(); ClipModel clip = open(weights, model, manager, prec)) {
        ClipConfig c = clip.config();
        out.println("file:        " + weights);
        out.println("format:      " + clip.sourceFormat());
        out.println("architecture: " + ai.promptline.ml.clip.ClipArchitectures.describe(c));
        out.println("sha256:      " + clip.sha256());
        String official = ClipCheckpoints.known().values().stream()
            .filter(k -> k.sha256().equals(clip.sha256())).map(ClipCheckpoints.Known::name).findFirst()
            .orElse("no (not an official OpenAI file)");
        out.println("official:    " + official);
        out.println("dtypes:      " + clip.storedDtypes().entrySet().stream()
            .map(e -> e.getKey() + "×" + e.getValue()).collect(Collectors.joining(", ")) + " (stored)");
        out.println("precision:   " + prec + (prec.isEmulated() ? " (emulated: fp32 tensors holding bf16 values)" : ""));
        clip.dtypeGroups().forEach((group, dts) -> out.printf("  %-34s %s%n", group + ":", dts.entrySet().stream()
            .map(e -> e.getKey().toLowerCase(java.util.Locale.ROOT) + "×" + e.getValue()).collect(Collectors.joining(", "))));
        out.printf("parameters:  %,d%n", clip.parameterCount());
        if (c.visionKind() == ClipConfig.VisionKind.VIT) {
          out.printf("vision:      ViT %dpx patch %d, width %d, %d layers, %d heads%n",
              c.imageResolution(), c.visionPatchSize(), c.visionWidth(), c.visionLayers(), c.visionHeads());
        } else {
          out.printf("vision:      ModifiedResNet %dpx, stem width %d, stages %s, attention-pool heads %d%n",
              c.imageResolution(), c.visionWidth(), c.resnetStages(), c.visionHeads());
        }
        out.printf("text:        width %d, %d layers, %d heads, context %d, vocab %d%n",
            c.textWidth(), c.textLayers(), c.textHeads(), c.contextLength(), c.vocabSize());
        out.printf("embedding:   %d, logit scale %.4f%n", c.embedDim(), clip.logitScale());
        out.println("config:      " + c.toJson());
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "download", mixinStandardHelpOptions = true, description = "Download an official OpenAI checkpoint and verify its SHA-256 (needs network).")
  static final class Download implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "one of: ${COMPLETION-CANDIDATES}", completionCandidates = Names.class)
    String model;

    @Option(names = "--dir", defaultValue = "${user.home}/.cache/promptline/clip") Path dir;

    @Override
    public Integer call() throws Exception {
      Path p = ClipCheckpoints.download(model, dir);
      spec.commandLine().getOut().println(p);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  @Command(name = "random-weights", mixinStandardHelpOptions = true, description = "Write a deterministic random-weight CLIP as safetensors (demos, tests, benchmarks).")
  static final class RandomWeights implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--preset", defaultValue = "tiny-vit", description = "tiny-vit, tiny-rn, vit-b16, vit-b32, rn50 (default: ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--seed", defaultValue = "0") long seed;

    @Option(names = "--out", required = true) Path out;

    @Override
    public Integer call() throws Exception {
      ClipConfig c = switch (preset) {
        case "tiny-vit" -> ClipConfig.tinyVit();
        case "tiny-rn" -> ClipConfig.tinyResNet();
        case "vit-b16" -> ClipConfig.vitB16();
        case "vit-b32" -> ClipConfig.vitB32();
        case "rn50" -> ClipConfig.rn50();
        default -> throw new IllegalArgumentException("unknown preset '" + preset + "'");
      };
      try (NDManager manager = NDManager.newBaseManager()) {
        ai.promptline.ml.clip.Safetensors.write(out, ai.promptline.ml.clip.ClipWeights.random(c, seed, manager),
            ai.promptline.ml.clip.ClipWeights.metadataFor(c));
      }
      spec.commandLine().getOut().println(out);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  /** Known model names for help/completion. */
  static final class Names implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      Map<String, ClipCheckpoints.Known> k = ClipCheckpoints.known();
      return k.keySet().iterator();
    }
  }
}
