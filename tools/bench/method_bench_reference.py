"""Training-step time and peak memory of one prompt-learning method in the REFERENCE PyTorch code.

Counterpart of method_bench_djl.java; run by tools/bench/method_bench.sh, one process per method (so
VmHWM is that method's). Usage:

    python method_bench_reference.py METHOD LAYERS BATCH CLASSES STEPS THREADS

Prints one JSON line ("impl": "reference"); when a checkout is missing, a line with "error".

Where the reference code comes from (environment variables; nothing is copied into this repository
and no reference file is modified, see "Runtime changes" below):

    REFERENCE_COOP   KaiyangZhou/CoOp checkout (coop, cocoop)           default /tmp/refwork/coop/CoOp
    REFERENCE_MAPLE  muzairkhattak/multimodal-prompt-learning checkout   default /tmp/refwork/rpo/MaPLe,
                     (maple, ivlp, deep-text, vpt)                       else /tmp/refwork/maple/mpl
    REFERENCE_RPO    mlvlab/RPO checkout (rpo, mrpo)                     default /tmp/refwork/rpo/RPO
    REFERENCE_DASSL  KaiyangZhou/Dassl.pytorch checkout (all methods)    default /tmp/refwork/coop/Dassl.pytorch

What is measured. The model is built by the reference trainer's own ``build_model()`` (its
``load_clip_to_cpu``, CLIP ``build_model``, ``CustomCLIP``, requires_grad selection, Dassl
``build_optimizer`` = torch.optim.SGD(momentum 0.9, weight decay 5e-4) and ``build_lr_scheduler``),
called on a trainer object made without a DataManager (``TrainerBase.__init__`` + ``cfg``,
``dm.dataset.classnames``, ``device``). A step is the trainer's own ``forward_backward(batch)``
(forward, loss, zero_grad, backward, SGD step, ``loss.item()``; CoOp also ``compute_accuracy``) after
``set_model_mode("train")`` as Dassl's ``run_epoch`` does, on one fixed random batch
``{"img": randn(B, 3, 224, 224), "label": arange(B) % C}``. Median of STEPS steps after 2 warm-up
steps; the time of producing a batch (data loading, augmentation) is not included on either side.
CLIP: ViT-B/16 widths (vision 768/12 heads, text 512/8 heads, embed 512, 224 px, patch 16), LAYERS
blocks in each tower, random weights: a random ``clip.model.CLIP`` of the reference repository is
``torch.save``d as a state dict, and the unmodified ``load_clip_to_cpu`` loads it (``torch.jit.load``
fails, it falls back to ``torch.load``) and builds the model with the repository's ``build_model``
and the trainer's ``design_details``. PREC = "fp32" (the trainers then call ``clip_model.float()``).
Options: the references' base-to-novel defaults (CoOp/CoCoOp 4 ctx "a photo of a", MaPLe 2 ctx depth 9,
IVLP 2+2 ctx depth 12/12, deep-text 4 ctx depth 12, VPT 8 ctx depth 12, RPO K 24, MRPO 2 ctx depth 9),
prompt depths capped at LAYERS; the same values as the Java side (its MethodSpec defaults).

Peak memory: ``peak_rss_mb`` is VmHWM of the process (includes the interpreter, torch, the model
build, where the loaded state dict and the built model coexist as in the real ``load_clip_to_cpu``,
and the steps). ``peak_rss_train_mb`` is VmHWM after resetting it (``/proc/self/clear_refs`` = 5)
right before the first warm-up step: resident model + what the steps add.

FEATURES methods (coop, cocoop, deep-text): the reference runs the frozen image encoder in every
step (that is its training step; Promptline caches the features). ``step_ms_median_cached`` is an
extra measurement with ``model.image_encoder`` replaced by a module that returns the encoder's
output for this batch, computed once: the text side alone, comparable to Promptline's step.
CoCoOp's reference step encodes the B x C prompts image by image (its per-image loop); Promptline
does one batched text pass: both are just each side's step time.

Runtime changes (monkeypatching / objects set after construction; no reference file is edited,
so no file needed copying):
  * all: ``clip.model.convert_weights`` replaced by a no-op, so build_model keeps fp32 weights
    instead of rounding them to fp16 (the trainers' ``clip_model.float()`` would restore the dtype
    but not the values, and the round trip costs a transient copy); ``clip.clip._download`` returns
    the random checkpoint instead of downloading OpenAI weights.
  * all: import stubs for optional Dassl dependencies that are not installed (tensorboard, tabulate,
    gdown, wilds, pandas, sklearn.metrics; dataset / logging / evaluation code, never called here);
    yacs is not needed: ``cfg`` is a plain attribute tree holding the fields the code reads (Dassl
    defaults for everything not listed above). OPTIM.WARMUP_EPOCH = -1: Dassl's warm-up scheduler
    wrapper calls ``LRScheduler.__init__(optimizer, last_epoch, verbose)``, which torch 2.7 rejects;
    the scheduler is built but never stepped during the timed steps, so this changes no step.
  * maple: ``MultiModalPromptLearner.__init__`` calls ``self.proj.half()``; with PREC fp32 the fp16
    ``proj`` cannot take the fp32 ``ctx`` (dtype error), so ``prompt_learner.proj.float()`` is called
    after build_model (same Parameter objects, so the optimizer is unaffected).
    The ``.half()`` casts of prompt tokens inside the MaPLe repo's clip/model.py forward passes are
    left in place: ``torch.cat`` promotes them back to fp32 (they cost a cast each, as in the
    reference run with PREC fp32).
  * vpt: ``CustomCLIP.forward`` calls ``.cuda()`` on the fixed text embeddings; they are wrapped in
    a tensor subclass whose ``.cuda()`` returns the plain CPU tensor (only if the source has it).
  * rpo: ``CustomCLIP.forward`` writes the text prompts in place into ``self.text_x.to(device)``;
    on CUDA that is a fresh copy each step, on CPU it aliases ``self.text_x`` and the second
    backward fails. The instance's forward is wrapped to give it a fresh copy of the initial
    ``text_x`` each step, which is what ``.to("cuda")`` does (only if the source lacks ``.clone()``).
    ``RPO.build_model`` also turns on ``torch.autograd.set_detect_anomaly(True)`` ("nan detector")
    for the whole run; it is turned off again (REF_RPO_ANOMALY=1 keeps it), so the timing is the
    method's computation, not the debugging mode.
  * The hard-coded sizes in MaPLe (768, 512) and RPO (d_v 768, 8 text heads, 1 + 14 x 14 tokens, 512)
    equal the ViT-B/16 widths used here and need no change.
  * mrpo: there is no public MRPO code. The reference column is a construction on the RPO checkout:
    a subclass of RPO's ``CustomCLIP`` (its frozen towers, ``make_prompts`` and ``define_mask``
    with K = nCtx, imported, not copied) whose ``prompt_learner`` is a MaPLe-style coupled learner
    (P_0 plus depth-1 deep text prompts, one Linear per layer to the vision width, written here)
    and whose forward writes the prompts as RPO (text rows after EOT, vision tokens after the
    patches), replaces them before layers 1..depth-1 as MaPLe, uses RPO's read-only masks in every
    layer and averages the K paired logits; trained by RPO's ``forward_backward``.
"""
import importlib
import importlib.machinery
import importlib.util
import inspect
import json
import os
import statistics
import sys
import tempfile
import time
import types

METHODS = ["coop", "cocoop", "maple", "ivlp", "deep-text", "vpt", "rpo", "mrpo", "instance", "prismer"]
REPO = {"coop": "COOP", "cocoop": "COOP", "maple": "MAPLE", "ivlp": "MAPLE", "deep-text": "MAPLE",
        "vpt": "MAPLE", "rpo": "RPO", "mrpo": "RPO"}
DEFAULTS = {"COOP": ["/tmp/refwork/coop/CoOp"],
            "MAPLE": ["/tmp/refwork/rpo/MaPLe", "/tmp/refwork/maple/mpl"],
            "RPO": ["/tmp/refwork/rpo/RPO"],
            "DASSL": ["/tmp/refwork/coop/Dassl.pytorch"]}
FEATURES = {"coop", "cocoop", "deep-text"}
# instance-wise prompts (seed 002) have no public code: the reference is the spec golden script
INSTANCE_SHOTS = int(os.environ.get("INSTANCE_SHOTS", "4"))

# same list and rule as method_bench_djl.java
WORDS = ["dog", "cat", "car", "airplane", "bird", "ship", "truck", "horse", "frog", "deer",
         "apple", "bicycle", "chair", "flower", "guitar", "lamp", "mountain", "piano", "river", "tiger"]


def class_names(n):
    return [WORDS[i] if i < len(WORDS) else f"{WORDS[i % len(WORDS)]} {i // len(WORDS)}" for i in range(n)]


def checkout(key):
    """Path from REFERENCE_<key>, else the first default that exists; None when absent."""
    v = os.environ.get("REFERENCE_" + key)
    if v:
        return v if os.path.isdir(v) else None
    return next((d for d in DEFAULTS[key] if os.path.isdir(d)), None)


def vm(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return None


def reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Node(dict):
    """A yacs-like attribute tree (cfg.TRAINER.COOP.N_CTX)."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k)

    def __setattr__(self, k, v):
        self[k] = v


def tree(d):
    return Node({k: tree(v) if isinstance(v, dict) else v for k, v in d.items()})


def stub_missing():
    """Import stubs for optional Dassl dependencies that are not installed (never called here)."""
    def stub(name, **attrs):
        m = types.ModuleType(name)
        m.__spec__ = importlib.machinery.ModuleSpec(name, None)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        if "." in name:
            setattr(sys.modules[name.rsplit(".", 1)[0]], name.rsplit(".", 1)[1], m)
        return m

    def missing(name):
        try:
            importlib.import_module(name)
            return False
        except Exception:
            return True

    stubbed = []

    class SummaryWriter:
        def __init__(self, *a, **k):
            pass

        def add_scalar(self, *a, **k):
            pass

        def close(self):
            pass

    if missing("torch.utils.tensorboard"):
        stub("torch.utils.tensorboard", SummaryWriter=SummaryWriter)
        stubbed.append("tensorboard")
    if missing("tabulate"):
        stub("tabulate", tabulate=lambda *a, **k: "")
        stubbed.append("tabulate")
    if missing("gdown"):
        stub("gdown", download=None)
        stubbed.append("gdown")
    if missing("wilds"):
        stub("wilds", get_dataset=None)
        stubbed.append("wilds")
    if missing("pandas"):
        stub("pandas")
        stubbed.append("pandas")
    if missing("sklearn.metrics"):
        if "sklearn" not in sys.modules or missing("sklearn"):
            stub("sklearn")
        stub("sklearn.metrics", f1_score=None, confusion_matrix=None)
        stubbed.append("sklearn")
    return stubbed


def cfg_for(method, layers):
    d = lambda depth: min(depth, layers)  # prompt depth capped at the model depth
    trainer = {
        "coop": {"COOP": {"N_CTX": 4, "CTX_INIT": "a photo of a", "CSC": False, "CLASS_TOKEN_POSITION": "end", "PREC": "fp32"}},
        "cocoop": {"COCOOP": {"N_CTX": 4, "CTX_INIT": "a photo of a", "PREC": "fp32"}},
        "maple": {"MAPLE": {"N_CTX": 2, "CTX_INIT": "a photo of a", "PREC": "fp32", "PROMPT_DEPTH": d(9)}},
        "ivlp": {"IVLP": {"N_CTX_VISION": 2, "N_CTX_TEXT": 2, "CTX_INIT": "a photo of a", "PREC": "fp32",
                          "PROMPT_DEPTH_VISION": d(12), "PROMPT_DEPTH_TEXT": d(12)}},
        "deep-text": {"IVLP": {"N_CTX_VISION": 0, "N_CTX_TEXT": 4, "CTX_INIT": "a photo of a", "PREC": "fp32",
                               "PROMPT_DEPTH_VISION": 0, "PROMPT_DEPTH_TEXT": d(12)}},
        "vpt": {"VPT": {"N_CTX_VISION": 8, "CTX_INIT": "a photo of a", "PREC": "fp32", "PROMPT_DEPTH_VISION": d(12)}},
        "rpo": {"RPO": {"K": 24, "CTX_INIT": "a photo of a", "PREC": "fp32"}},
        "mrpo": {"RPO": {"K": 2, "CTX_INIT": "", "PREC": "fp32"}},  # K = nCtx: RPO's masks for 2 prompt tokens
    }[method]
    return tree({
        "TRAINER": trainer,
        "INPUT": {"SIZE": (224, 224)},
        "MODEL": {"BACKBONE": {"NAME": "ViT-B/16"}, "INIT_WEIGHTS": ""},
        "DATASET": {"PROMPT": "a photo of a _.", "SUBSAMPLE_CLASSES": "all"},
        # Dassl defaults with the references' SGD settings. Their configs also have a 1-epoch constant
        # warm-up; Dassl's warm-up wrapper passes `verbose` to LRScheduler, which torch 2.7 no longer
        # accepts, so WARMUP_EPOCH = -1 (plain cosine). The scheduler is never stepped in the timed steps.
        "OPTIM": {"NAME": "sgd", "LR": 0.002, "WEIGHT_DECAY": 5e-4, "MOMENTUM": 0.9, "SGD_DAMPNING": 0,
                  "SGD_NESTEROV": False, "RMSPROP_ALPHA": 0.99, "ADAM_BETA1": 0.9, "ADAM_BETA2": 0.999,
                  "STAGED_LR": False, "NEW_LAYERS": (), "BASE_LR_MULT": 0.1, "LR_SCHEDULER": "cosine",
                  "STEPSIZE": (-1,), "GAMMA": 0.1, "MAX_EPOCH": 5, "WARMUP_EPOCH": -1, "WARMUP_TYPE": "constant",
                  "WARMUP_CONS_LR": 1e-5, "WARMUP_MIN_LR": 1e-5, "WARMUP_RECOUNT": True},
    })


def random_clip_file(clip_model_module, layers, path):
    """A random clip.model.CLIP (the reference repository's class) with ViT-B/16 widths, saved as a state dict."""
    import torch
    kw = dict(embed_dim=512, image_resolution=224, vision_layers=layers, vision_width=768, vision_patch_size=16,
              context_length=77, vocab_size=49408, transformer_width=512, transformer_heads=8, transformer_layers=layers)
    if "design_details" in inspect.signature(clip_model_module.CLIP.__init__).parameters:  # MaPLe repo
        kw["design_details"] = {"trainer": "CoOp", "vision_depth": 0, "language_depth": 0, "vision_ctx": 0,
                                "language_ctx": 0, "maple_length": 0}
    torch.manual_seed(0)
    m = clip_model_module.CLIP(**kw)
    torch.save(m.state_dict(), path)
    del m


def new_trainer(cls, cfg, classes):
    """A Dassl trainer object without a DataManager: what build_model / forward_backward read."""
    import torch
    from dassl.engine.trainer import TrainerBase
    tr = object.__new__(cls)
    TrainerBase.__init__(tr)
    tr.cfg = cfg
    tr.device = torch.device("cpu")
    tr.dm = types.SimpleNamespace(dataset=types.SimpleNamespace(classnames=list(classes)))
    tr.batch_idx, tr.num_batches = 0, 10 ** 9  # no update_lr() inside the timed steps
    return tr


def mrpo_model(R, cfg, classes, clip_model, n_ctx, depth):
    """MRPO construction on RPO's CustomCLIP (see the module docstring)."""
    import copy
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class CoupledPromptLearner(nn.Module):
        def __init__(self):
            super().__init__()
            d_t = clip_model.ln_final.weight.shape[0]
            d_v = clip_model.visual.conv1.weight.shape[0]
            with torch.no_grad():  # P_0 as RPO's text prompts: EOT embedding + 0.1 x unit noise
                eot = clip_model.token_embedding(torch.tensor([49407])).repeat(n_ctx, 1)
            noise = torch.randn(n_ctx, d_t)
            self.ctx = nn.Parameter(eot + 0.1 * noise / noise.norm(dim=-1, keepdim=True))
            self.proj = nn.Linear(d_t, d_v)
            self.compound_prompts_text = nn.ParameterList(
                [nn.Parameter(torch.randn(n_ctx, d_t) * 0.02) for _ in range(depth - 1)])
            layer = nn.Linear(d_t, d_v)
            self.compound_prompt_projections = nn.ModuleList([copy.deepcopy(layer) for _ in range(depth - 1)])

        def forward(self):
            deep_v = [f(p) for f, p in zip(self.compound_prompt_projections, self.compound_prompts_text)]
            return self.ctx, self.proj(self.ctx), list(self.compound_prompts_text), deep_v

    class MrpoCLIP(R.CustomCLIP):
        def __init__(self):
            super().__init__(cfg, classes, cfg.DATASET.PROMPT, clip_model)  # RPO: towers, prompts, masks (K = n_ctx)
            self.prompt_learner = CoupledPromptLearner()

        def _write(self, x, p):  # x: [C, 77, D]; rows len_c + i <- p[i]
            x = x.clone()
            rows = torch.arange(x.shape[0])
            for i in range(n_ctx):
                x[rows, self.len_prompts + i, :] = p[i, :].repeat(x.shape[0], 1)
            return x

        def forward(self, image, label=None):
            ctx, vis_ctx, deep_t, deep_v = self.prompt_learner()
            x = self._write(self.text_x, ctx)
            for l, block in enumerate(self.text_transformers.resblocks):
                if 1 <= l <= len(deep_t):
                    x = self._write(x, deep_t[l - 1])
                x = block(x.permute(1, 0, 2), self.text_mask).permute(1, 0, 2)
            x = self.text_ln_final(x)
            rows = torch.arange(x.shape[0])
            text_f = torch.stack([x[rows, self.len_prompts + i] for i in range(n_ctx)], dim=1) @ self.text_proj
            b = image.shape[0]
            e = self.img_patch_embedding(image.type(self.dtype))
            e = e.reshape(b, e.shape[1], -1).permute(0, 2, 1)
            e = torch.cat([self.img_cls_embedding.repeat(b, 1, 1), e], dim=1) + self.img_pos_embedding
            v = torch.cat([e, vis_ctx.repeat(b, 1, 1)], dim=1)
            v = self.img_pre_ln(v).permute(1, 0, 2)
            for l, block in enumerate(self.img_transformer.resblocks):
                if 1 <= l <= len(deep_v):
                    v = torch.cat([v[: v.shape[0] - n_ctx], deep_v[l - 1].expand(b, -1, -1).permute(1, 0, 2)], dim=0)
                v = block(v, self.visual_mask)
            img_f = self.img_post_ln(v.permute(1, 0, 2)[:, -n_ctx:, :]) @ self.img_proj
            text_f = text_f / text_f.norm(dim=-1, keepdim=True)
            img_f = img_f / img_f.norm(dim=-1, keepdim=True)
            logits = sum(self.logit_scale.exp() * img_f[:, i] @ text_f[:, i].t() for i in range(n_ctx)) / n_ctx
            if self.prompt_learner.training:
                return F.cross_entropy(logits, label)
            return logits

    return MrpoCLIP()


def time_steps(step, steps):
    """Runs `step` (one optimiser step, returns its loss) 2 warm-up + `steps` timed times; returns the step
    times in ms, the last loss and the peaks (VmHWM before training, after it, whether it was reset)."""
    hwm_build = vm("VmHWM")
    hwm_reset = reset_hwm()
    out, loss = [], None
    for s in range(steps + 2):
        t0 = time.perf_counter()
        loss = step()
        if s >= 2:
            out.append((time.perf_counter() - t0) * 1000)
    return out, loss, hwm_build, vm("VmHWM"), hwm_reset


def report_spec_golden(method, layers, batch, classes, steps, threads, timing, trainable, golden, **extra):
    """One JSON result line for a method whose reference side is a spec golden (no public code)."""
    out, loss, hwm_build, hwm_steps, hwm_reset = timing
    print(json.dumps({"impl": "reference", "method": method, "layers": layers, "batch": batch, "classes": classes,
                      "step_ms_median": round(statistics.median(out), 1), "step_ms_min": round(min(out), 1),
                      "peak_rss_mb": round(max(hwm_build, hwm_steps), 1),
                      "peak_rss_train_mb": round(hwm_steps, 1) if hwm_reset else None, "steps": steps,
                      "threads": threads, "step_ms": [round(x, 1) for x in out], "loss": round(loss, 4), **extra,
                      "trainable_params": trainable, "checkout": golden + " (spec golden; no public code)"}))


def prismer_main(layers, batch, classes, steps, threads):
    """prismer: the spec golden's PyTorch modules (see the docstring), no reference repository."""
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    import clip as clip_pkg
    from clip.model import CLIP
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "prismer_golden.py")
    spec = importlib.util.spec_from_file_location("prismer_golden", path)
    G = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(G)
    torch.manual_seed(0)
    main_clip = CLIP(512, 224, layers, 768, 16, 77, 49408, 512, 8, layers).float().eval()
    expert = CLIP(512, 224, layers, 768, 32, 77, 49408, 512, 8, layers).float().eval()
    for m in (main_clip, expert):
        for p in m.parameters():
            p.requires_grad_(False)
    model = G.PrismerCls(main_clip, [("vitb32", expert)], layers, 0, 64, 4, 0, 8)
    params = model.named_trainables()
    opt = torch.optim.SGD(list(params.values()), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    with torch.no_grad():
        t = main_clip.encode_text(clip_pkg.tokenize(["a photo of a %s." % c for c in class_names(classes)]))
        text = t / t.norm(dim=-1, keepdim=True)
    g = torch.Generator().manual_seed(1)
    images = torch.randn(batch, 3, 224, 224, generator=g)
    labels = torch.arange(batch) % classes
    def step():
        l = F.cross_entropy(G.logits_of(model, main_clip, text, images), labels)
        opt.zero_grad()
        l.backward()
        opt.step()
        return l.item()

    report_spec_golden("prismer", layers, batch, classes, steps, threads, time_steps(step, steps),
                       sum(p.numel() for p in params.values()), "tools/golden/prismer_golden.py")


def main():
    method, layers, batch, classes, steps, threads = sys.argv[1], *map(int, sys.argv[2:7])
    if method not in METHODS:
        raise SystemExit(f"unknown method {method}; one of {METHODS}")
    if method == "instance":
        return instance_step(layers, batch, classes, steps, threads)
    if method == "prismer":
        return prismer_main(layers, batch, classes, steps, threads)
    key = REPO[method]
    repo, dassl = checkout(key), checkout("DASSL")
    base = {"impl": "reference", "method": method, "layers": layers, "batch": batch, "classes": classes}
    if repo is None or dassl is None:
        miss = key if repo is None else "DASSL"
        print(json.dumps({**base, "error": f"n/a (set REFERENCE_{miss})"}))
        return
    sys.path[:0] = [repo, dassl]  # before site-packages: the repository's `clip` package, not openai-clip
    import torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    stubbed = stub_missing()
    import torch.nn as nn
    from clip import clip as clip_pkg
    import clip.model as clip_model_module
    from dassl.optim import build_optimizer, build_lr_scheduler

    tmp = tempfile.mkdtemp(prefix="method-bench-")
    ckpt = os.path.join(tmp, "ViT-B-16-random.pt")
    random_clip_file(clip_model_module, layers, ckpt)
    clip_model_module.convert_weights = lambda model: None  # keep fp32 (see docstring)
    clip_pkg._download = lambda url, root=None: ckpt
    cfg = cfg_for(method, layers)
    names = class_names(classes)
    torch.manual_seed(0)
    notes = []
    if method in ("coop", "cocoop"):
        mod = importlib.import_module("trainers." + method)
        tr = new_trainer(mod.CoOp if method == "coop" else mod.CoCoOp, cfg, names)
        tr.build_model()
    elif method in ("maple", "ivlp", "deep-text", "vpt"):
        module, trainer = {"maple": ("maple", "MaPLe"), "vpt": ("vpt", "VPT")}.get(method, ("independentVL", "IVLP"))
        mod = importlib.import_module("trainers." + module)
        tr = new_trainer(getattr(mod, trainer), cfg, names)
        tr.build_model()
        if method == "maple" and tr.model.prompt_learner.proj.weight.dtype != torch.float32:
            tr.model.prompt_learner.proj.float()
            notes.append("prompt_learner.proj.float() after build_model")
        if method == "vpt" and ".cuda()" in inspect.getsource(type(tr.model).forward):
            class CpuTensor(torch.Tensor):
                def cuda(self, *a, **k):
                    return self.as_subclass(torch.Tensor)
            fixed = tr.model.embeddings.return_fixed_embeddings().as_subclass(CpuTensor)
            tr.model.embeddings.return_fixed_embeddings = lambda: fixed
            notes.append("fixed text embeddings: .cuda() returns the CPU tensor")
    else:
        R = importlib.import_module("trainers.rpo")
        tr = new_trainer(R.RPO, cfg, names)
        if method == "rpo":
            tr.build_model()
            if os.environ.get("REF_RPO_ANOMALY") != "1":
                torch.autograd.set_detect_anomaly(False)
                notes.append("set_detect_anomaly(True) of RPO.build_model turned off")
            if ".clone()" not in inspect.getsource(R.CustomCLIP.forward):
                model = tr.model
                text_x0 = model.text_x.clone()

                def forward(self, image, label=None):
                    self.text_x = text_x0.clone()  # what text_x.to("cuda") gives on a GPU: a fresh copy
                    return R.CustomCLIP.forward(self, image, label)
                model.forward = types.MethodType(forward, model)
                notes.append("fresh copy of text_x per forward (CPU .to(device) aliases it)")
        else:
            clip_model = R.load_clip_to_cpu(cfg)
            clip_model.float()
            depth = min(9, layers)
            tr.model = mrpo_model(R, cfg, names, clip_model, n_ctx=2, depth=depth)
            for n, p in tr.model.named_parameters():
                if "prompt_learner" not in n:
                    p.requires_grad_(False)
            tr.optim = build_optimizer(tr.model.prompt_learner, cfg.OPTIM)
            tr.sched = build_lr_scheduler(tr.optim, cfg.OPTIM)
            tr.register_model("prompt_learner", tr.model.prompt_learner, tr.optim, tr.sched)
            tr.scaler = None
            del clip_model
    os.remove(ckpt)
    os.rmdir(tmp)
    trainable = sum(p.numel() for p in tr.model.parameters() if p.requires_grad)

    g = torch.Generator().manual_seed(1)
    images = torch.randn(batch, 3, 224, 224, generator=g)
    labels = torch.arange(batch) % classes
    data = {"img": images, "label": labels, "domain": torch.zeros(batch, dtype=torch.long)}

    def timed(n):
        tr.set_model_mode("train")  # as Dassl's run_epoch
        out, loss = [], None
        for s in range(n + 2):
            t0 = time.perf_counter()
            loss = tr.forward_backward(data)["loss"]
            if s >= 2:
                out.append((time.perf_counter() - t0) * 1000)
        return out, loss

    hwm_build = vm("VmHWM")  # lifetime peak so far (imports + model build)
    hwm_reset = reset_hwm()
    t, loss = timed(steps)
    hwm_steps = vm("VmHWM")
    result = {**base, "step_ms_median": round(statistics.median(t), 1), "step_ms_min": round(min(t), 1),
              "peak_rss_mb": round(max(hwm_build, hwm_steps), 1),
              "peak_rss_train_mb": round(hwm_steps, 1) if hwm_reset else None,
              "steps": steps, "threads": threads, "step_ms": [round(x, 1) for x in t], "loss": round(loss, 4),
              "trainable_params": trainable, "checkout": repo, "dassl": dassl, "stubs": stubbed, "notes": notes,
              "cfg": {k: dict(v) for k, v in cfg.TRAINER.items()}}
    if not hwm_reset:
        result["peak_rss_mb_note"] = "clear_refs not writable: peak_rss_train_mb unavailable"
    if method in FEATURES:
        enc = tr.model.image_encoder
        with torch.no_grad():
            feats = enc(images.type(tr.model.dtype))

        class Cached(nn.Module):
            def forward(self, x):
                return feats
        tr.model.image_encoder = Cached()
        tc, _ = timed(steps)
        tr.model.image_encoder = enc
        result["step_ms_median_cached"] = round(statistics.median(tc), 1)
        result["step_ms_min_cached"] = round(min(tc), 1)
        result["step_ms_cached"] = [round(x, 1) for x in tc]
    print(json.dumps(result))


def instance_step(layers, batch, classes, steps, threads):
    """instance: tools/golden/instance_golden.py's InstancePrompts (the spec in PyTorch) on a random
    clip.model.CLIP (openai-clip) with ViT-B/16 widths and LAYERS blocks, fp32; N = CLASSES x
    INSTANCE_SHOTS training images (label of sample id i = i % CLASSES), batch = sample ids 0..B-1 with
    cached image features (as Promptline trains it); a step draws a fresh candidate selection
    (numpy, K = 2), then forward over the union of selected prompts, cross-entropy, zero_grad,
    backward, torch.optim.SGD(momentum 0.9, weight decay 5e-4) step, loss.item()."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
    import instance_golden as G
    from clip.model import CLIP
    torch.manual_seed(0)
    model = CLIP(512, 224, layers, 768, 16, 77, 49408, 512, 8, layers).float().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    names = class_names(classes)
    n = classes * INSTANCE_SHOTS
    labels = [i % classes for i in range(n)]
    method = G.InstancePrompts(model, names, labels, ctx_init="a photo of a", mg=4, mi=4)
    params = method.parameters()
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9, weight_decay=5e-4)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        f = model.encode_image(torch.randn(batch, 3, 224, 224, generator=g))
        feats = f / f.norm(dim=-1, keepdim=True)
    ids = list(range(batch))
    rng = np.random.default_rng(0)
    def step():
        sel = G.draw_selection(rng, method.by_class, labels, ids, 2)
        l = F.cross_entropy(method.training_logits(feats, sel), method.targets(ids, sel, 2))
        opt.zero_grad()
        l.backward()
        opt.step()
        return l.item()

    report_spec_golden("instance", layers, batch, classes, steps, threads, time_steps(step, steps),
                       sum(p.numel() for p in params), "tools/golden/instance_golden.py", shots=INSTANCE_SHOTS)


if __name__ == "__main__":
    main()
