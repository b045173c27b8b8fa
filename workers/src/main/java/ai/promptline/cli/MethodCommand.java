package ai.promptline.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;
import ai.promptline.ml.clip.TensorFiles;
import ai.promptline.ml.data.image.Images;
import ai.promptline.ml.data.image.Transforms;
import ai.promptline.ml.methods.ClassSet;
import ai.promptline.ml.methods.MethodContext;
import ai.promptline.ml.methods.MethodOptions;
import ai.promptline.ml.methods.MethodSpec;
import ai.promptline.ml.methods.Methods;
import ai.promptline.ml.methods.PromptMethod;
import ai.promptline.ml.train.Batch;
import ai.promptline.ml.train.Probe;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code promptline method list|probe}: the registered methods, and a few steps of one for parity checks. */
@Command(
    name = "method",
    mixinStandardHelpOptions = true,
    description = "Prompt-learning methods: list the registered ones, probe one for a few steps.",
    subcommands = {MethodCommand.ListMethods.class, MethodCommand.ProbeMethod.class})
public final class MethodCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "One line per registered method: its name, what it needs (features, image tower,"
      + " sample ids), its reference recipe and its options with their defaults.")
  static final class ListMethods implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--options", description = "also explain every option of every method, one indented line each")
    boolean explain;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      for (MethodSpec m : Methods.all()) {
        out.println(m.describe());
        if (explain) {
          for (MethodSpec.Option o : m.options()) {
            out.printf("    %-14s %s (default %s)%n", o.name(), o.help(), o.defaultValue().isEmpty() ? "\"\"" : o.defaultValue());
          }
        }
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "probe", mixinStandardHelpOptions = true, description = {
      "Runs a few SGD steps of a method on fixed images and prints JSON {\"steps\": [{\"loss\", \"logits\", \"gradients\"}, ...]}"
          + " with steps+1 entries: loss and logits before each update (and the gradients it applied), and after the last.",
      "SGD with momentum 0.9, weight decay 5e-4, constant lr, cross-entropy, model in eval mode; images through the test"
          + " transform; the images are also the training set (sample id = position: instance-wise methods learn a prompt"
          + " per image). For checking a method against its reference implementation."})
  static final class ProbeMethod implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--method", required = true, description = "a registered method (see `method list`)") String method;

    @Option(names = "--weights", required = true, description = "CLIP checkpoint (any format `clip inspect` reads)") Path weights;

    @Option(names = "--init", description = "safetensors or torch.save file whose tensors, under the reference code's names"
        + " (ctx, meta_net.linear1.weight, image_encoder.VPT, ...; a Dassl checkpoint works too), overwrite the learnable ones")
    Path init;

    @Option(names = "--images", required = true, split = ",", description = "comma-separated image files") List<Path> images;

    @Option(names = "--targets", required = true, split = ",", description = "comma-separated class index per image") List<Integer> targets;

    @Option(names = "--classes", required = true, description = "comma-separated class names") String classes;

    @Option(names = "--template", defaultValue = "a photo of a {}.", description = "dataset template (zsclip; default: ${DEFAULT-VALUE})")
    String template;

    @Option(names = "--dataset", description = "dataset whose prompt-template list zsclip's templates=ensemble|coop-ensemble uses (e.g. EuroSAT)")
    String dataset;

    @Option(names = "--lr", defaultValue = "0.05", description = "constant learning rate (default: ${DEFAULT-VALUE})") double lr;

    @Option(names = "--steps", defaultValue = "3", description = "SGD steps (default: ${DEFAULT-VALUE})") int steps;

    @Option(names = "--seed", defaultValue = "1", description = "initialisation seed when no --init is given") long seed;

    @Option(names = "--n-ctx", description = "nCtx: text context tokens") Integer nCtx;

    @Option(names = "--ctx-init", description = "ctxInit: words the text context starts from (\"\" = random)") String ctxInit;

    @Option(names = "--depth", description = "prompt depth J (maple, ivlp, deep-text, mrpo)") Integer depth;

    @Option(names = "--k", description = "RPO prompt pairs") Integer k;

    @Option(names = "--prompt", description = "class prompt: RPO/MRPO use _ for the class name, VPT's fixed classifier the words before it")
    String prompt;

    @Option(names = "--option", description = "any other method option, NAME=VALUE (e.g. nCtxVision=2, depthVision=3, readout=cls)")
    Map<String, String> extra = new LinkedHashMap<>();

    @Option(names = "--expert", description = "a frozen expert model for methods that read experts (prismer), NAME=CHECKPOINT;"
        + " repeat for several, in order")
    Map<String, Path> experts = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
      MethodSpec ms = Methods.spec(method);
      if (!experts.isEmpty() && !ms.usesExperts())
        throw new IllegalArgumentException("method '" + method + "' takes no expert models; drop --expert");
      Map<String, String> given = new LinkedHashMap<>();
      if (nCtx != null) given.put("nCtx", String.valueOf(nCtx));
      if (ctxInit != null) given.put("ctxInit", ctxInit);
      if (depth != null) given.put("depth", String.valueOf(depth));
      if (k != null) given.put("k", String.valueOf(k));
      if (prompt != null) given.put("prompt", prompt);
      given.putAll(extra);
      MethodOptions options = MethodOptions.of(ms, given);
      List<String> names = Arrays.stream(classes.split(",")).map(String::trim).toList();
      if (targets.size() != images.size()) {
        throw new IllegalArgumentException(images.size() + " images but " + targets.size() + " targets; give one class index per image");
      }
      for (int t : targets) {
        if (t < 0 || t >= names.size()) throw new IllegalArgumentException("target " + t + " is not a class index 0.." + (names.size() - 1));
      }
      try (NDManager m = NDManager.newBaseManager(); ClipModel clip = ClipModel.load(weights, m)) {
        List<MethodContext.Expert> ex = new java.util.ArrayList<>();
        for (Map.Entry<String, Path> e : experts.entrySet()) ex.add(new MethodContext.Expert(e.getKey(), ClipModel.load(e.getValue(), m)));
        try (PromptMethod pm = ms.factory().apply(new MethodContext(clip, ClipTokenizer.getDefault(), m, options, seed).withExperts(ex)
            .withTraining(new MethodContext.TrainingSet(names, targets.stream().mapToInt(Integer::intValue).toArray())))) {
          probe(pm, ms, clip, m);
        } finally {
          ex.forEach(e -> e.model().close());
        }
      }
      return 0;
    }

    private void probe(PromptMethod pm, MethodSpec ms, ClipModel clip, NDManager m) throws Exception {
      List<String> names = Arrays.stream(classes.split(",")).map(String::trim).toList();
      {
        if (init != null) pm.loadStateDict(TensorFiles.read(init, m));
        int size = clip.config().imageResolution();
        Transforms.ImageTransform t = Transforms.test(size);
        float[] px = new float[images.size() * 3 * size * size];
        for (int i = 0; i < images.size(); i++) t.apply(Images.readRgb(images.get(i)), 0, i, px, i * 3 * size * size);
        NDArray pixels = m.create(px, new Shape(images.size(), 3, size, size));
        int[] y = targets.stream().mapToInt(Integer::intValue).toArray();
        int[] ids = new int[y.length];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        NDArray features = ms.input().cached() ? ms.input().batchFeatures(clip.encodeImage(pixels)) : null;
        Batch batch = new Batch(0, ids, y, m.create(y), features, ms.input() == MethodSpec.Input.PIXELS ? pixels : null);
        List<Probe.Step> result = Probe.run(pm, new ClassSet(names, template, dataset), batch, lr, steps);
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ArrayNode arr = root.putArray("steps");
        for (Probe.Step s : result) {
          ObjectNode o = arr.addObject();
          o.put("loss", s.loss());
          ArrayNode lg = o.putArray("logits");
          for (float[] row : s.logits()) {
            ArrayNode r = lg.addArray();
            for (float v : row) r.add(v);
          }
          if (!s.gradients().isEmpty()) {
            ObjectNode g = o.putObject("gradients");
            s.gradients().forEach((name, v) -> {
              ArrayNode a = g.putArray(name);
              for (float x : v) a.add(x);
            });
          }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(json.writeValueAsString(root));
        out.flush();
      }
    }
  }
}
