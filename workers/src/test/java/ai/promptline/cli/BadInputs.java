package ai.promptline.cli;

import ai.promptline.ml.data.SplitFile;
import ai.promptline.ml.data.SplitItem;
import ai.promptline.ml.data.Splits;
import ai.promptline.ml.data.SyntheticDataset;
import ai.promptline.ml.data.SyntheticSpec;
import ai.promptline.workers.DemoAssets;
import ai.promptline.workers.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The bad-input table of issue 12: one row per case (id, what is wrong, the input, the fragments the
 * error line must contain: the thing and the fix). Each case runs the real CLI in-process and must
 * give exactly one {@code error: ...} line on stderr with those fragments, a non-zero exit code and
 * no output that says something was submitted. {@link BadInputsTest} runs the rows that need no
 * services; {@code BadInputsIT} runs all of them against a real service set and also asserts that
 * nothing appeared in Temporal, MLflow or MinIO.
 */
final class BadInputs {
  private BadInputs() {}

  /** What a case needs besides the CLI: nothing, or the real services (the endpoint cases whose fault is behind a reachable one). */
  enum Needs { NOTHING, SERVICES }

  /** A command line and the environment variables it runs with (over the base environment). */
  record Invocation(List<String> args, Map<String, String> env) {
    Invocation(String... args) {
      this(List.of(args), Map.of());
    }

    /** The same command with {@code options} before its last argument (the file). */
    Invocation prepend(String... options) {
      List<String> a = new ArrayList<>(args.subList(0, args.size() - 1));
      a.addAll(List.of(options));
      a.add(args.get(args.size() - 1));
      return new Invocation(List.copyOf(a), env);
    }

    Invocation with(String var, String value) {
      Map<String, String> e = new HashMap<>(env);
      e.put(var, value);
      return new Invocation(args, e);
    }
  }

  /**
   * One row.
   *
   * @param area the issue's bullet: yaml, dataset, weights, cli, env, campaign-id
   * @param input what is wrong, as the table prints it
   * @param expect fragments of the error line (the thing named, the fix)
   */
  record Case(String id, String area, String input, Needs needs, Function<Fixture, Invocation> make, List<String> expect) {}

  /** What one case did. {@code failure} is null when it passed. */
  record Outcome(Case c, int code, String err, String out, long millis, String failure) {
    boolean passed() {
      return failure == null;
    }
  }

  private static final List<Case> CASES = new ArrayList<>();

  private static void add(String id, String area, String input, Function<Fixture, Invocation> make, String... expect) {
    CASES.add(new Case(id, area, input, Needs.NOTHING, make, List.of(expect)));
  }

  private static void addWithServices(String id, String area, String input, Function<Fixture, Invocation> make, String... expect) {
    CASES.add(new Case(id, area, input, Needs.SERVICES, make, List.of(expect)));
  }

  /** A campaign that plans: the demo's tiny CLIP and Scenes benchmark, zero-shot and CoOp, 1 shot, 1 seed. */
  static final String GOOD = "name: bad-inputs-good\nmodel: {name: tiny, weights: %W}\ndatasets: [{name: Scenes, root: %D}]\n"
      + "methods: [{name: zsclip}, {name: coop, train: {epochs: 1}}]\nshots: [1]\nseeds: [1]\n";

  /** The good campaign with one line replaced or added ({@code key: value}). */
  static String goodWith(String key, String line) {
    StringBuilder b = new StringBuilder();
    boolean replaced = false;
    for (String l : GOOD.split("\n")) {
      if (l.startsWith(key + ":")) {
        if (line != null) b.append(line).append('\n');
        replaced = true;
      } else {
        b.append(l).append('\n');
      }
    }
    if (!replaced && line != null) b.append(line).append('\n');
    return b.toString();
  }

  static {
    // ------------------------------------------------------------------ campaign YAML
    add("yaml-syntax-bracket", "yaml", "unclosed '{' in model", f -> f.plan("name: x\nmodel: {name: tiny, weights: %W\ndatasets: []\n"),
        "is not valid YAML", "line ", "fix the syntax");
    add("yaml-syntax-indent", "yaml", "a key indented under a scalar", f -> f.plan("name: x\n  model: y\n"), "is not valid YAML", "line 2");
    add("yaml-syntax-tab", "yaml", "a tab for indentation", f -> f.plan("name: x\nmodel:\n\tname: tiny\n"), "is not valid YAML", "line 3");
    add("yaml-empty-file", "yaml", "an empty file", f -> f.plan(""), "is empty", "give at least name, model, datasets and methods");
    add("yaml-not-mapping", "yaml", "a list instead of a mapping", f -> f.plan("- name: x\n"), "must be a mapping of fields");
    add("yaml-unknown-key", "yaml", "seedz: [1]", f -> f.plan(goodWith("seeds", "seedz: [1]")), "unknown field 'seedz'",
        "did you mean 'seeds'?");
    add("yaml-unknown-model-key", "yaml", "model.sha265", f -> f.plan(goodWith("model", "model: {name: tiny, weights: %W, sha265: ab}")),
        "unknown field 'model.sha265'", "did you mean 'sha256'?");
    add("yaml-unknown-dataset-key", "yaml", "datasets[0].rot", f -> f.plan(goodWith("datasets", "datasets: [{name: Scenes, rot: %D}]")),
        "unknown field 'datasets[0].rot'", "did you mean 'root'?");
    add("yaml-unknown-train-key", "yaml", "train: {epoch: 5}", f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {epoch: 5}}]")),
        "methods[coop].train: unknown field 'epoch'", "did you mean 'epochs'?");
    add("yaml-unknown-option", "yaml", "maple options: {dpeth: 2}",
        f -> f.plan(goodWith("methods", "methods: [{name: maple, options: {dpeth: 2}}]")), "has no option 'dpeth'", "did you mean 'depth'?");
    add("yaml-unknown-method", "yaml", "methods: [{name: cooop}]", f -> f.plan(goodWith("methods", "methods: [{name: cooop}]")),
        "unknown method 'cooop'", "did you mean 'coop'?");
    add("yaml-unknown-dataset", "yaml", "datasets: [{name: Scense}]", f -> f.plan(goodWith("datasets", "datasets: [{name: Scense, root: %D}]")),
        "unknown dataset 'Scense'", "did you mean 'Scenes'?");
    add("yaml-unknown-protocol", "yaml", "protocol: base2novle", f -> f.plan(goodWith("protocol", "protocol: base2novle")),
        "protocol must be one of", "did you mean 'base2novel'?");
    add("yaml-duplicate-key", "yaml", "shots given twice", f -> f.plan(GOOD + "shots: [2]\n"), "'shots' is given twice", "keep one");
    add("yaml-type-shots-scalar", "yaml", "shots: many", f -> f.plan(goodWith("shots", "shots: many")), "'shots' must be a list",
        "shots: [1, 2, 4, 8, 16]");
    add("yaml-type-shots-item", "yaml", "shots: [many]", f -> f.plan(goodWith("shots", "shots: [many]")),
        "'shots[0]' must be a whole number", "got text \"many\"");
    add("yaml-type-shots-float", "yaml", "shots: [1.5]", f -> f.plan(goodWith("shots", "shots: [1.5]")),
        "'shots[0]' must be a whole number", "1.5");
    add("yaml-type-datasets", "yaml", "datasets: Scenes", f -> f.plan(goodWith("datasets", "datasets: Scenes")),
        "'datasets' must be a list", "[{name: EuroSAT, root: /data}]");
    add("yaml-type-model", "yaml", "model: ViT-B/16", f -> f.plan(goodWith("model", "model: ViT-B/16")), "'model' must be a mapping",
        "{name: ViT-B/16, weights:");
    add("yaml-type-epochs", "yaml", "train: {epochs: many}", f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {epochs: many}}]")),
        "methods[coop].train: 'epochs' must be a whole number", "\"many\"");
    add("yaml-missing-model", "yaml", "no model", f -> f.plan(goodWith("model", null)), "'model' is required");
    add("yaml-zero-shots", "yaml", "shots: [0]", f -> f.plan(goodWith("shots", "shots: [0]")), "shots[0] is 0", "must be >= 1");
    add("yaml-negative-shots", "yaml", "shots: [-4]", f -> f.plan(goodWith("shots", "shots: [-4]")), "shots[0] is -4", "must be >= 1");
    add("yaml-negative-seed", "yaml", "seeds: [-1]", f -> f.plan(goodWith("seeds", "seeds: [-1]")), "seeds[0] is -1", "must be >= 0");
    add("yaml-duplicate-shots", "yaml", "shots: [1, 1]", f -> f.plan(goodWith("shots", "shots: [1, 1]")), "shots lists 1 twice", "once");
    add("yaml-zero-epochs", "yaml", "coop epochs: 0", f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {epochs: 0}}]")),
        "methods[coop].train.epochs is 0", "give epochs >= 1");
    add("yaml-negative-epochs", "yaml", "coop epochs: -3", f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {epochs: -3}}]")),
        "methods[coop].train.epochs must be >= 0");
    add("yaml-zero-batch", "yaml", "batchSize: 0", f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {batchSize: 0}}]")),
        "methods[coop].train.batchSize must be >= 1");
    add("yaml-zero-lr", "yaml", "coop lr: 0", f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {lr: 0}}]")),
        "methods[coop].train.lr is 0.0", "learning rate > 0");
    add("yaml-negative-lr", "yaml", "coop lr: -0.1", f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {lr: -0.1}}]")),
        "methods[coop].train.lr must be >= 0");
    add("yaml-momentum", "yaml", "momentum: 1.5", f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {momentum: 1.5}}]")),
        "momentum is 1.5", "[0, 1)");
    add("yaml-zero-parallel", "yaml", "maxParallel: 0", f -> f.plan(GOOD + "maxParallel: 0\n"), "maxParallel is 0", "at least 1");
    add("yaml-empty-datasets", "yaml", "datasets: []", f -> f.plan(goodWith("datasets", "datasets: []")), "'datasets' is empty",
        "has no runs", "list at least one");
    add("yaml-empty-methods", "yaml", "methods: []", f -> f.plan(goodWith("methods", "methods: []")), "'methods' is empty", "list at least one");
    add("yaml-empty-shots", "yaml", "shots: []", f -> f.plan(goodWith("shots", "shots: []")), "'shots' is empty", "shots: [16]");
    add("yaml-zero-seeds", "yaml", "seeds: [] (zero seeds)", f -> f.plan(goodWith("seeds", "seeds: []")), "'seeds' is empty",
        "seeds: [1, 2, 3]");
    add("yaml-null-dataset", "yaml", "datasets: [~]", f -> f.plan(goodWith("datasets", "datasets: [~]")), "datasets[0] is empty",
        "{name: ..., root: ...}");
    add("yaml-bad-name", "yaml", "name: ../../evil\\n; rm -rf", f -> f.plan(goodWith("name", "name: \"../../evil\\n; rm -rf\"")),
        "'name' is '../../evil\\u000a; rm -rf'", "use letters, digits");
    add("yaml-unset-variable", "yaml", "root: ${NO_SUCH_VAR}", f -> f.plan(goodWith("datasets", "datasets: [{name: Scenes, root: \"${NO_SUCH_VAR_I12}\"}]")),
        "uses ${NO_SUCH_VAR_I12}, which is not set", "export NO_SUCH_VAR_I12=");
    add("yaml-ctxinit-too-long", "yaml", "coop ctxInit of 80 words",
        f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {epochs: 1, ctxInit: \"" + "a ".repeat(80).trim() + "\"}}]")),
        "does not fit the model's", "-token text context", "use a context of at most");
    add("yaml-nctx-too-long", "yaml", "coop nCtx: 90 (random init)",
        f -> f.plan(goodWith("methods", "methods: [{name: coop, train: {epochs: 1, ctxInit: \"\", nCtx: 90}}]")),
        "nCtx 90", "a smaller nCtx");
    add("yaml-absurd-grid", "yaml", "1,000 shots x 1,000 seeds (answer < 5 s)", f -> f.plan(goodWith("shots", "shots: " + range(1, 1000))
        .replace("seeds: [1]", "seeds: " + range(1, 1000))), "the grid has 2000000 runs", "over the limit of 5000", "--yes");
    add("yaml-over-max-runs-file", "yaml", "maxRuns: 1 in the file, 2 runs", f -> f.plan(GOOD + "maxRuns: 1\n"),
        "the grid has 2 runs", "over the limit of 1 (maxRuns in the file)");
    add("yaml-max-runs-zero", "yaml", "maxRuns: 0", f -> f.plan(GOOD + "maxRuns: 0\n"), "maxRuns is 0", "at least 1");

    // ------------------------------------------------------------------ datasets
    add("data-missing-root", "dataset", "datasets[].root does not exist",
        f -> f.plan(goodWith("datasets", "datasets: [{name: Scenes, root: " + f.dir.resolve("no-such-data") + "}]")),
        "dataset Scenes: root folder not found", "no-such-data", "./promptline data verify");
    add("data-missing-split", "dataset", "no split file in the folder", f -> f.planOn(f.copy(g -> delete(g.splitFile()))),
        "expected exactly one split_promptline_<Name>.json", "data verify");
    add("data-missing-image-folder", "dataset", "images/ folder deleted", f -> f.planOn(f.copy(g -> deleteTree(g.imageRoot()))),
        "image folder not found");
    add("data-missing-image", "dataset", "one image deleted", f -> f.planOn(f.copy(g -> delete(g.imageRoot().resolve(item(g, "train", 1))))),
        "missing image: train[1]", "data verify");
    add("data-not-an-image", "dataset", "an image replaced by text", f -> f.planOn(f.copy(g -> write(g.imageRoot().resolve(item(g, "test", 0)),
        "not an image".getBytes(StandardCharsets.UTF_8)))), "not an image (unknown file signature): test[0]");
    add("data-empty-image", "dataset", "an empty image file", f -> f.planOn(f.copy(g -> write(g.imageRoot().resolve(item(g, "train", 2)),
        new byte[0]))), "empty image file: train[2]");
    add("data-unreadable-image", "dataset", "a folder where an image should be", f -> f.planOn(f.copy(g -> {
      delete(g.imageRoot().resolve(item(g, "train", 3)));
      mkdirs(g.imageRoot().resolve(item(g, "train", 3)));
    })), "unreadable image: train[3]");
    add("data-truncated-png", "dataset", "a PNG cut in half", f -> f.planOn(f.copy(g -> cut(g.imageRoot().resolve(item(g, "train", 0))))),
        "truncated image (PNG without its IEND end chunk): train[0]");
    add("data-truncated-jpeg", "dataset", "a JPEG cut in half", f -> f.planOn(f.copy(g -> cut(g.imageRoot().resolve(item(g, "train", 1))))),
        "truncated image (JPEG without its end marker FF D9): train[1]");
    add("data-many-bad-images", "dataset", "six images cut: first few named, all counted", f -> f.planOn(f.copy(g -> {
      for (int i = 0; i < 6; i++) cut(g.imageRoot().resolve(item(g, "test", i)));
    })), "6 problems; first 5: truncated image");
    add("data-label-out-of-range", "dataset", "split entry with label -1", f -> f.planOn(f.copy(g -> splits(g, s -> {
      s.get(0).set(0, new SplitItem(s.get(0).get(0).relPath(), -1, "nowhere"));
    }))), "label out of range: train[0]");
    add("data-wrong-label", "dataset", "two class names for one label", f -> f.planOn(f.copy(g -> splits(g, s -> {
      SplitItem it = s.get(2).get(0);
      s.get(2).set(0, new SplitItem(it.relPath(), it.label(), it.className() + " typo"));
    }))), "inconsistent class names for label 0");
    add("data-duplicate-entry", "dataset", "an image listed twice in train", f -> f.planOn(f.copy(g -> splits(g, s -> s.get(0).add(s.get(0).get(0))))),
        "duplicate entry: train[", "list every image once");
    add("data-shared-entry", "dataset", "a train image also in test", f -> f.planOn(f.copy(g -> splits(g, s -> s.get(2).add(s.get(0).get(0))))),
        "entry in two splits: test[", "must not share images");
    add("data-unknown-class", "dataset", "a test class no train image has", f -> f.planOn(f.copy(g -> splits(g, s -> {
      SplitItem it = s.get(2).get(0);
      s.get(2).set(0, new SplitItem(it.relPath(), s.get(0).stream().mapToInt(SplitItem::label).max().orElse(0) + 1, "ghost class"));
    }))), "class 2 'ghost class' has no train images");
    add("data-split-not-json", "dataset", "split file is not JSON", f -> f.planOn(f.copy(g -> write(g.splitFile(),
        "{\"train\": [[\"a.png\", 0, \"x\"],".getBytes(StandardCharsets.UTF_8)))), "cannot parse split file", "line ");
    add("data-non-utf8-split", "dataset", "a latin-1 class name in the split file", f -> f.planOn(f.copy(g -> {
      byte[] b = read(g.splitFile());
      String t = new String(b, StandardCharsets.UTF_8);
      int at = t.indexOf(", 0, \"") + 6;
      b[at] = (byte) 0xE9; // 'é' in latin-1: not UTF-8 here
      write(g.splitFile(), b);
    })), "is not valid UTF-8 at line", "re-save it as UTF-8");
    add("data-non-utf8-csv", "dataset", "a latin-1 class name in manifest.csv", f -> f.planDataset("csv", f.latin1Csv()),
        "manifest.csv is not valid UTF-8 text (line 2", "re-save it as UTF-8");
    add("data-traversal-dotdot", "dataset", "split entry ../../../../etc/passwd", f -> f.planOn(f.copy(g -> splits(g, s -> {
      SplitItem it = s.get(0).get(0);
      s.get(0).set(0, new SplitItem("../../../../etc/passwd", it.label(), it.className()));
    }))), "path outside the dataset", "../../../../etc/passwd");
    add("data-traversal-absolute", "dataset", "split entry /etc/hostname", f -> f.planOn(f.copy(g -> splits(g, s -> {
      SplitItem it = s.get(0).get(0);
      s.get(0).set(0, new SplitItem("/etc/hostname", it.label(), it.className()));
    }))), "absolute path", "/etc/hostname");
    add("data-traversal-symlink", "dataset", "an image that is a symlink out of the root", f -> f.planOn(f.copy(g -> {
      Path victim = g.imageRoot().resolve(item(g, "train", 0));
      Path outside = f.dir.resolve("outside-" + g.root().getFileName() + ".png");
      try {
        Files.move(victim, outside);
        Files.createSymbolicLink(victim, outside);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    })), "symbolic link out of the dataset");
    add("data-shots-over-images", "dataset", "shots: [4] with 2 train images per class", f -> f.planOn(f.copy(g -> { }), "shots: [4]"),
        "shots 4 needs 4 training images per class", "has 2 in its train split", "use shots of at most 2");
    add("data-verify-missing", "dataset", "data verify of a missing folder",
        f -> new Invocation("data", "verify", "EuroSAT", "--root", f.dir.resolve("nope").toString()), "root folder not found");

    // ------------------------------------------------------------------ weights
    add("weights-wrong-sha256", "weights", "model.sha256 of another file", f -> f.plan(goodWith("model",
        "model: {name: tiny, weights: %W, sha256: " + "0".repeat(64) + "}")), "has sha256", "expects " + "0".repeat(64), "download the file again");
    add("weights-truncated-safetensors", "weights", "the tiny CLIP cut in half",
        f -> f.plan(goodWith("model", "model: {name: tiny, weights: " + f.cutWeights() + "}")), "is truncated: its header describes",
        "download or copy it again");
    add("weights-truncated-pt", "weights", "a .pt zip without its end (name ViT-B/16)",
        f -> f.plan(goodWith("model", "model: {name: ViT-B/16, weights: " + f.cutZip() + "}")),
        "is truncated: the zip's central directory is missing", "./promptline clip download ViT-B/16", "expected SHA-256 5806e77c");
    add("weights-html-pt", "weights", "an HTML error page saved as ViT-B-16.pt",
        f -> f.plan(goodWith("model", "model: {name: ViT-B/16, weights: " + f.html("ViT-B-16.pt") + "}")),
        "looks like an HTML page (starts with '<!DOCTYPE html>'", "download it again");
    add("weights-html-safetensors", "weights", "an HTML page saved as model.safetensors",
        f -> f.plan(goodWith("model", "model: {name: tiny, weights: " + f.html("model.safetensors") + "}")), "looks like an HTML page");
    add("weights-lfs-pointer", "weights", "a Git LFS pointer instead of the file",
        f -> f.plan(goodWith("model", "model: {name: tiny, weights: " + f.text("lfs.pt", "version https://git-lfs.github.com/spec/v1\n"
            + "oid sha256:" + "1".repeat(64) + "\nsize 15171290\n") + "}")), "Git LFS pointer", "git lfs pull");
    add("weights-missing", "weights", "model.weights does not exist",
        f -> f.plan(goodWith("model", "model: {name: tiny, weights: " + f.dir.resolve("none.pt") + "}")), "does not exist",
        "give the path of a CLIP checkpoint");
    add("weights-hf-folder-empty", "weights", "an HF folder without weights",
        f -> f.plan(goodWith("model", "model: {name: tiny, weights: " + f.mkdir("hf-empty") + "}")), "none of model.safetensors");
    add("weights-expert-truncated", "weights", "a prismer expert cut in half", f -> f.plan(goodWith("methods",
        "methods: [{name: prismer, experts: [{name: RN50, weights: " + f.cutWeights() + "}]}]")),
        "methods[prismer].experts[RN50].weights", "is truncated");

    // ------------------------------------------------------------------ CLI options out of range
    add("cli-max-runs-zero", "cli", "campaign plan --max-runs 0", f -> f.plan(GOOD).prepend("--max-runs", "0"), "--max-runs must be >= 1");
    add("cli-max-runs-over", "cli", "campaign run --max-runs 1 on 2 runs", f -> f.run(GOOD).prepend("--max-runs", "1"),
        "over the limit of 1 (--max-runs)", "--yes");
    add("cli-demo-shots-zero", "cli", "demo --shots 0", f -> new Invocation("demo", "--shots", "0"), "--shots must be >= 1");
    add("cli-demo-shots-over", "cli", "demo --shots 32", f -> new Invocation("demo", "--shots", "32"), "--shots 32",
        "has 20 train images per class", "at most 20");
    add("cli-demo-epochs-zero", "cli", "demo --epochs 0", f -> new Invocation("demo", "--epochs", "0"), "--epochs must be >= 1");
    add("cli-demo-seeds-negative", "cli", "demo --seeds -1", f -> new Invocation("demo", "--seeds", "-1"), "--seeds must be >= 0");
    add("cli-demo-epochs-text", "cli", "demo --epochs many", f -> new Invocation("demo", "--epochs", "many"), "--epochs", "'many'",
        "promptline demo --help");
    add("cli-worker-slots-zero", "cli", "worker --slots 0", f -> new Invocation("worker", "--slots", "0"), "--slots must be >= 1");
    add("cli-worker-queue", "cli", "worker --queues tpu", f -> new Invocation("worker", "--queues", "tpu"), "unknown queue 'tpu'",
        "cpu, gpu or cpu,gpu");
    add("cli-worker-queue-auto-mixed", "cli", "worker --queues auto,gpu", f -> new Invocation("worker", "--queues", "auto,gpu"),
        "auto cannot be combined", "give auto, cpu, gpu or cpu,gpu");
    add("cli-worker-metrics-host-blank", "cli", "worker --metrics-host ''", f -> new Invocation("worker", "--metrics-host", " "),
        "--metrics-host must be an address", "0.0.0.0");
    add("cli-worker-metrics-port", "cli", "worker --metrics-port 70000", f -> new Invocation("worker", "--metrics-port", "70000"),
        "--metrics-port must be a port");
    add("cli-worker-decode-threads", "cli", "worker --decode-threads -2", f -> new Invocation("worker", "--decode-threads", "-2"),
        "--decode-threads must be >= 0");
    add("cli-fewshot-shots-zero", "cli", "data fewshot --shots 0", f -> new Invocation("data", "fewshot", "--split",
        f.copy(g -> { }).splitFile().toString(), "--shots", "0", "--seed", "1"), "--shots must be >= 1");
    add("cli-layout-per-class-zero", "cli", "data layout --per-class 0", f -> new Invocation("data", "layout", "--out",
        f.dir.resolve("layout").toString(), "--dataset", "EuroSAT", "--per-class", "0"), "--per-class must be >= 1");
    add("cli-schedule-bad-id", "cli", "schedule pause 'no such id'", f -> new Invocation("schedule", "pause", "no such id"),
        "schedule 'no such id' is not a schedule id", "use letters, digits");
    add("cli-schedule-no-id", "cli", "schedule delete (no id)", f -> new Invocation("schedule", "delete"), "Missing required parameter: 'ID'",
        "promptline schedule delete --help");
    add("cli-unknown-option", "cli", "campaign plan --bogus", f -> new Invocation("campaign", "plan", "--bogus", "x.yaml"),
        "--bogus", "promptline campaign plan --help");

    // ------------------------------------------------------------------ environment: endpoints and credentials
    add("env-temporal-closed-run", "env", "PROMPTLINE_TEMPORAL_TARGET at a closed port: campaign run",
        f -> f.run(GOOD).with("PROMPTLINE_TEMPORAL_TARGET", "127.0.0.1:" + f.closedPort()), "cannot reach Temporal at 127.0.0.1:",
        "connection refused", "./promptline services up (or set PROMPTLINE_TEMPORAL_TARGET)");
    add("env-temporal-closed-status", "env", "PROMPTLINE_TEMPORAL_TARGET at a closed port: campaign status",
        f -> f.status().with("PROMPTLINE_TEMPORAL_TARGET", "127.0.0.1:" + f.closedPort()), "cannot reach Temporal", "services up");
    add("env-temporal-closed-worker", "env", "PROMPTLINE_TEMPORAL_TARGET at a closed port: worker",
        f -> new Invocation("worker").with("PROMPTLINE_TEMPORAL_TARGET", "127.0.0.1:" + f.closedPort()), "cannot reach Temporal",
        "services up");
    add("env-temporal-malformed", "env", "PROMPTLINE_TEMPORAL_TARGET=not a target", f -> f.run(GOOD).with("PROMPTLINE_TEMPORAL_TARGET",
        "not a target"), "PROMPTLINE_TEMPORAL_TARGET is 'not a target', not a Temporal address", "give host:port");
    add("env-mlflow-malformed", "env", "PROMPTLINE_MLFLOW_URI=ftp://x", f -> new Invocation("worker").with("PROMPTLINE_MLFLOW_URI",
        "ftp://x"), "PROMPTLINE_MLFLOW_URI is 'ftp://x', not an MLflow address", "http://host:port");
    add("env-minio-malformed", "env", "PROMPTLINE_MINIO_ENDPOINT=localhost9000", f -> f.planGood().with("PROMPTLINE_MINIO_ENDPOINT",
        "localhost9000"), "PROMPTLINE_MINIO_ENDPOINT is 'localhost9000', not an S3 address");
    add("env-bad-bucket", "env", "PROMPTLINE_BUCKET=Bad_Bucket", f -> f.planGood().with("PROMPTLINE_BUCKET", "Bad_Bucket"),
        "PROMPTLINE_BUCKET is 'Bad_Bucket', not a valid bucket name");
    add("env-max-runs-text", "env", "PROMPTLINE_MAX_RUNS=lots", f -> f.planGood().with("PROMPTLINE_MAX_RUNS", "lots"),
        "PROMPTLINE_MAX_RUNS is 'lots'", "a whole number >= 1");
    add("env-minio-closed-plan", "env", "PROMPTLINE_MINIO_ENDPOINT at a closed port: campaign plan",
        f -> f.planGood().with("PROMPTLINE_MINIO_ENDPOINT", "http://127.0.0.1:" + f.closedPort()), "cannot reach MinIO at http://127.0.0.1:",
        "connection refused", "(or set PROMPTLINE_MINIO_ENDPOINT)");
    addWithServices("env-mlflow-closed-run", "env", "PROMPTLINE_MLFLOW_URI at a closed port: campaign run",
        f -> f.run(GOOD).with("PROMPTLINE_MLFLOW_URI", "http://127.0.0.1:" + f.closedPort()), "cannot reach MLflow at http://127.0.0.1:",
        "connection refused", "(or set PROMPTLINE_MLFLOW_URI)");
    addWithServices("env-mlflow-closed-worker", "env", "PROMPTLINE_MLFLOW_URI at a closed port: worker",
        f -> new Invocation("worker").with("PROMPTLINE_MLFLOW_URI", "http://127.0.0.1:" + f.closedPort()), "cannot reach MLflow");
    addWithServices("env-mlflow-is-minio", "env", "PROMPTLINE_MLFLOW_URI pointing at MinIO", f -> f.run(GOOD).with("PROMPTLINE_MLFLOW_URI",
        Settings.fromEnv().storeEndpoint()), "on /health (is that address an MLflow server?)", "check PROMPTLINE_MLFLOW_URI");
    addWithServices("env-minio-closed-run", "env", "PROMPTLINE_MINIO_ENDPOINT at a closed port: campaign run",
        f -> f.run(GOOD).with("PROMPTLINE_MINIO_ENDPOINT", "http://127.0.0.1:" + f.closedPort()), "cannot reach MinIO");
    addWithServices("env-minio-bad-secret-run", "env", "a wrong MinIO secret key: campaign run", f -> f.run(GOOD)
        .with("PROMPTLINE_MINIO_ACCESS_KEY", f.minioAccessKey()).with("PROMPTLINE_MINIO_SECRET_KEY", "wrong-secret-key-i12"),
        "MinIO at ", "refused the credentials (SignatureDoesNotMatch)", "PROMPTLINE_MINIO_SECRET_KEY");
    addWithServices("env-minio-bad-key-worker", "env", "an unknown MinIO access key: worker", f -> new Invocation("worker")
        .with("PROMPTLINE_MINIO_ACCESS_KEY", "no-such-user-i12").with("PROMPTLINE_MINIO_SECRET_KEY", "wrong-secret-key-i12"),
        "refused the credentials (InvalidAccessKeyId)");
    addWithServices("env-minio-bad-key-plan", "env", "an unknown MinIO access key: campaign plan", f -> f.planGood()
        .with("PROMPTLINE_MINIO_ACCESS_KEY", "no-such-user-i12").with("PROMPTLINE_MINIO_SECRET_KEY", "wrong-secret-key-i12"),
        "refused the credentials (InvalidAccessKeyId)");
    addWithServices("env-temporal-namespace", "env", "PROMPTLINE_TEMPORAL_NAMESPACE=no-such-ns", f -> f.run(GOOD)
        .with("PROMPTLINE_TEMPORAL_NAMESPACE", "no-such-ns-i12"), "has no namespace 'no-such-ns-i12'", "PROMPTLINE_TEMPORAL_NAMESPACE");

    // ------------------------------------------------------------------ a campaign that does not exist
    addWithServices("id-unknown-workflow", "campaign-id", "campaign status campaign-<unknown key>",
        f -> new Invocation("campaign", "status", "campaign-" + "0123456789abcdef".repeat(4)),
        "no campaign (workflow campaign-0123456789abcdef", "in namespace default at", "submit it with ./promptline campaign run FILE");
    addWithServices("id-never-submitted", "campaign-id", "campaign status FILE never submitted", F -> F.status(),
        "no campaign 'bad-inputs-good' (workflow campaign-", "submit it with ./promptline campaign run FILE");
    addWithServices("id-unknown-schedule-pause", "campaign-id", "schedule pause <unknown schedule>",
        f -> new Invocation("schedule", "pause", "no-such-schedule-i13"), "no schedule 'no-such-schedule-i13' in namespace",
        "schedule list shows the schedules");
    addWithServices("id-unknown-schedule-delete", "campaign-id", "schedule delete <unknown schedule>",
        f -> new Invocation("schedule", "delete", "no-such-schedule-i13"), "no schedule 'no-such-schedule-i13' in namespace",
        "schedule list shows the schedules");
    add("yaml-policy-two-rules", "yaml", "failFast and maxFailures together", f -> f.plan(goodWith("failFast", "failFast: true\nmaxFailures: 2")),
        "give one of failFast, maxFailures, minSuccessRatio, not 2");
    add("yaml-policy-ratio-range", "yaml", "minSuccessRatio: 1.5", f -> f.plan(goodWith("minSuccessRatio", "minSuccessRatio: 1.5")),
        "minSuccessRatio must be in (0, 1]", "e.g. 0.95");
    add("yaml-policy-max-failures-negative", "yaml", "maxFailures: -1", f -> f.plan(goodWith("maxFailures", "maxFailures: -1")),
        "maxFailures must be >= 0");
    add("cli-watch-interval", "cli", "campaign watch ID --interval 0", f -> new Invocation("campaign", "watch",
        "campaign-" + "0123456789abcdef".repeat(4), "--interval", "0"), "--interval must be >= 1 second");
    add("id-malformed-pause", "campaign-id", "campaign pause campaign-12", f -> new Invocation("campaign", "pause", "campaign-12"),
        "is not a campaign workflow id", "give the id or the campaign file");
    add("id-neither-file-nor-id", "campaign-id", "campaign cancel my-campaign", f -> new Invocation("campaign", "cancel", "my-campaign"),
        "is neither a campaign id", "nor a campaign file");
    addWithServices("id-unknown-pause", "campaign-id", "campaign pause campaign-<unknown key>",
        f -> new Invocation("campaign", "pause", "campaign-" + "0123456789abcdef".repeat(4)),
        "no campaign (workflow campaign-0123456789abcdef", "campaign list shows the campaigns there");
    addWithServices("id-unknown-recover", "campaign-id", "campaign recover campaign-<unknown key>",
        f -> new Invocation("campaign", "recover", "campaign-" + "0123456789abcdef".repeat(4), "--dry-run"),
        "no campaign (workflow campaign-0123456789abcdef");
    addWithServices("id-unknown-from", "campaign-id", "campaign run FILE --from campaign-<unknown key> --dry-run",
        f -> f.run(GOOD).prepend("--from", "campaign-" + "0123456789abcdef".repeat(4), "--dry-run"),
        "unknown campaign campaign-0123456789abcdef", "no plan for it in");
    add("id-malformed", "campaign-id", "campaign status campaign-xyz!", f -> new Invocation("campaign", "status", "campaign-xyz!"),
        "is not a campaign workflow id", "give the id or the campaign file");
    add("id-no-file", "campaign-id", "campaign status nope.yaml", f -> new Invocation("campaign", "status",
        f.dir.resolve("nope.yaml").toString()), "campaign file", "nope.yaml does not exist");
  }

  /** Every row. */
  static List<Case> cases() {
    return List.copyOf(CASES);
  }

  /** Runs one case with {@code base} under its own variables; never throws (a crash is a failed row). */
  static Outcome run(Case c, Fixture f, Map<String, String> base) {
    long t0 = System.nanoTime();
    Invocation inv;
    try {
      inv = c.make().apply(f);
    } catch (RuntimeException e) {
      return new Outcome(c, -1, "", "", 0, "fixture failed: " + e);
    }
    Map<String, String> env = new HashMap<>(base);
    env.putAll(inv.env());
    ExecutorService one = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "bad-input-" + c.id());
      t.setDaemon(true);
      return t;
    });
    CliRun r;
    try {
      Future<CliRun> run = one.submit(() -> Settings.withEnvironment(env, () -> CliRun.of(inv.args().toArray(String[]::new))));
      r = run.get(120, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return new Outcome(c, -1, "", "", (System.nanoTime() - t0) / 1_000_000, "no answer within 120 s");
    } catch (Exception e) {
      return new Outcome(c, -1, "", "", (System.nanoTime() - t0) / 1_000_000, "crashed: " + e);
    } finally {
      one.shutdownNow();
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    String failure = judge(c, r, ms);
    return new Outcome(c, r.code(), r.err(), r.out(), ms, failure);
  }

  /** Null when the case's answer is what the issue asks for, else why not. */
  static String judge(Case c, CliRun r, long ms) {
    List<String> lines = r.err().strip().lines().toList();
    if (r.code() == 0) return "exit code 0";
    if (lines.size() != 1) return lines.size() + " lines on stderr: " + r.err().strip();
    String line = lines.get(0);
    if (!line.startsWith("error: ")) return "stderr line does not start with 'error: ': " + line;
    for (String want : c.expect())
      if (!line.contains(want)) return "missing '" + want + "' in: " + line;
    if (r.out().contains("submitted")) return "stdout says it submitted: " + r.out();
    if (c.id().equals("yaml-absurd-grid") && ms > 5000) return "took " + ms + " ms (the grid must be counted, not expanded)";
    return null;
  }

  /** The table: id, area, input, exit code, time, pass/fail, and the error line (or why the row failed). */
  static String table(List<Outcome> outcomes) {
    StringBuilder b = new StringBuilder();
    int passed = 0;
    b.append(String.format(Locale.ROOT, "%-3s %-30s %-11s %-58s %4s %7s  %-4s  %s%n", "#", "case", "area", "input", "exit", "ms", "ok", "error line"));
    int i = 0;
    for (Outcome o : outcomes) {
      if (o.passed()) passed++;
      String line = o.err().strip().lines().findFirst().orElse("");
      b.append(String.format(Locale.ROOT, "%-3d %-30s %-11s %-58s %4d %7d  %-4s  %s%n", ++i, o.c().id(), o.c().area(), clip(o.c().input(), 58),
          o.code(), o.millis(), o.passed() ? "pass" : "FAIL", o.passed() ? clip(line, 160) : o.failure()));
    }
    b.append(String.format(Locale.ROOT, "%d of %d bad-input cases passed%n", passed, outcomes.size()));
    return b.toString();
  }

  private static String clip(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n - 3) + "...";
  }

  // ---------------------------------------------------------------------------- fixture

  /** The files the cases need, each made on first use under one folder. */
  static final class Fixture {
    final Path dir;
    private DemoAssets.Assets assets;
    private int copies;

    Fixture(Path dir) {
      this.dir = dir;
    }

    DemoAssets.Assets assets() {
      if (assets == null) assets = DemoAssets.ensure(dir.resolve("assets"));
      return assets;
    }

    String fill(String yaml) {
      return yaml.replace("%W", assets().weights().toString()).replace("%D", assets().datasetRoot().toString());
    }

    Path file(String yaml) {
      Path f = dir.resolve("campaign-" + (++copies) + ".yaml");
      write(f, fill(yaml).getBytes(StandardCharsets.UTF_8));
      return f;
    }

    Invocation plan(String yaml) {
      return new Invocation("campaign", "plan", file(yaml).toString());
    }

    Invocation run(String yaml) {
      return new Invocation("campaign", "run", file(yaml).toString());
    }

    Invocation planGood() {
      return plan(GOOD);
    }

    Invocation status() {
      return new Invocation("campaign", "status", file(GOOD).toString());
    }

    /** A small synthetic dataset of its own (2 train, 1 val, 2 test images per class), changed by {@code damage}. */
    SyntheticDataset.Generated copy(java.util.function.Consumer<SyntheticDataset.Generated> damage) {
      SyntheticDataset.Generated g = SyntheticDataset.generate(dir.resolve("data-" + (++copies)),
          SyntheticSpec.defaults().withClasses(2).withPerClass(2, 1, 6).withImageSize(16));
      damage.accept(g);
      return g;
    }

    Invocation planOn(SyntheticDataset.Generated g) {
      return planOn(g, "shots: [1]");
    }

    Invocation planOn(SyntheticDataset.Generated g, String shots) {
      return plan(goodWith("datasets", "datasets: [{name: Synthetic, root: " + g.root() + "}]").replace("shots: [1]", shots));
    }

    Invocation planDataset(String name, Path root) {
      return plan(goodWith("datasets", "datasets: [{name: " + name + ", root: " + root + "}]"));
    }

    /** A csv dataset whose manifest has a latin-1 class name. */
    Path latin1Csv() {
      Path c = dir.resolve("csv-" + (++copies));
      SyntheticDataset.Generated g = copy(x -> { });
      byte[] png = read(g.imageRoot().resolve(item(g, "train", 0)));
      write(c.resolve("img/a.png"), png);
      write(c.resolve("img/b.png"), png);
      byte[] head = "split,path,label,classname\ntrain,img/a.png,0,caf".getBytes(StandardCharsets.US_ASCII);
      byte[] rest = "\ntest,img/b.png,0,cafe\n".getBytes(StandardCharsets.US_ASCII);
      byte[] all = Arrays.copyOf(head, head.length + 1 + rest.length);
      all[head.length] = (byte) 0xE9;
      System.arraycopy(rest, 0, all, head.length + 1, rest.length);
      write(c.resolve("manifest.csv"), all);
      return c;
    }

    /** The tiny CLIP cut in half. */
    Path cutWeights() {
      Path p = dir.resolve("cut-" + (++copies) + ".safetensors");
      byte[] b = read(assets().weights());
      write(p, Arrays.copyOf(b, b.length / 2));
      return p;
    }

    /** A zip archive shaped like a .pt ({@code archive/data.pkl}, {@code archive/data/0}) without its last 40%. */
    Path cutZip() {
      Path p = dir.resolve("cut-" + (++copies) + ".pt");
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(bytes)) {
        z.setLevel(0);
        z.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
        z.write(new byte[] {(byte) 0x80, 2, '}', 'q', 0, '.'});
        z.closeEntry();
        z.putNextEntry(new java.util.zip.ZipEntry("archive/data/0"));
        z.write(new byte[4096]);
        z.closeEntry();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      byte[] b = bytes.toByteArray();
      write(p, Arrays.copyOf(b, b.length * 6 / 10));
      return p;
    }

    Path html(String name) {
      return text("html-" + (++copies) + "-" + name, "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
          + "<body><h1>Not Found</h1></body></html>\n");
    }

    Path text(String name, String content) {
      Path p = dir.resolve(name);
      write(p, content.getBytes(StandardCharsets.UTF_8));
      return p;
    }

    Path mkdir(String name) {
      Path p = dir.resolve(name + "-" + (++copies));
      mkdirs(p);
      return p;
    }

    /** A local port nothing listens on (bound, then released). */
    int closedPort() {
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** The configured MinIO access key (real, so that only the secret is wrong); never printed. */
    String minioAccessKey() {
      Map<String, String> env = Settings.environment();
      String k = env.get("PROMPTLINE_MINIO_ACCESS_KEY");
      if (k != null) return k;
      Path creds = Settings.fromEnv().credentialsFile();
      try {
        for (String l : Files.readAllLines(creds)) {
          String t = l.strip().replaceFirst("^export ", "");
          for (String key : List.of("PROMPTLINE_MINIO_ACCESS_KEY=", "MINIO_ROOT_USER="))
            if (t.startsWith(key)) return t.substring(key.length()).replace("\"", "").replace("'", "");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      throw new IllegalStateException("no MinIO access key in " + creds);
    }
  }

  // ---------------------------------------------------------------------------- helpers

  static String range(int from, int to) {
    StringBuilder b = new StringBuilder("[");
    for (int i = from; i <= to; i++) b.append(i == from ? "" : ", ").append(i);
    return b.append(']').toString();
  }

  /** The relative path of {@code split}'s {@code i}-th item. */
  static String item(SyntheticDataset.Generated g, String split, int i) {
    return g.splits().get(split).get(i).relPath();
  }

  /** Rewrites the dataset's split file after {@code edit} changed the lists (train, val, test). */
  static void splits(SyntheticDataset.Generated g, java.util.function.Consumer<List<List<SplitItem>>> edit) {
    Splits s = SplitFile.read(g.splitFile());
    List<List<SplitItem>> l = List.of(new ArrayList<>(s.train()), new ArrayList<>(s.val()), new ArrayList<>(s.test()));
    edit.accept(l);
    SplitFile.write(g.splitFile(), new Splits(l.get(0), l.get(1), l.get(2)));
  }

  static void cut(Path p) {
    byte[] b = read(p);
    write(p, Arrays.copyOf(b, b.length / 2));
  }

  static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void write(Path p, byte[] b) {
    try {
      Files.createDirectories(p.toAbsolutePath().getParent());
      Files.write(p, b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void delete(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void mkdirs(Path p) {
    try {
      Files.createDirectories(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path p) {
    try (var s = Files.walk(p)) {
      for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
