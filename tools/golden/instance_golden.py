#!/usr/bin/env python3
"""Golden of the `instance` method (instance-wise prompt learning, seed 002, Lee & Shim; issue 11).

There is no public classification code for this method, so this script is the reference: it
follows the issue's spec line by line in plain PyTorch on the tiny CLIP of
tools/golden/method_probe_inputs.py (OpenAI's clip.model.CLIP, the committed
tiny_clip_compact.safetensors expanded to the full token table). The candidate selection is FIXED
and written into the golden, so the Java parity test bypasses Promptline's seeded sampler.

Spec, as implemented below:
  * prompt of training image j (class y_j): [SOS][global ctx (Mg)][instance ctx of j (Mi)][class tokens][.][EOT],
    the class prompt "a photo of a X X <class>." tokenised once, rows 1..Mg+Mi replaced (CoOp's layout),
    through the frozen text encoder with positional embeddings; text feature = LN(x[EOT]) @ text_projection.
  * global_ctx [Mg, D] from the token embeddings of ctxInit "a photo of a"; instance_ctx [N, Mi, D] ~ N(0, 0.02^2).
  * training logits of image b: exp(logit_scale) * cos(f_b, T_p) for the K selected prompts p of every
    class (class-major, each class's K in ascending sample id) -> [B, C*K]; loss = cross-entropy with
    the image's own prompt as target.
  * test logits: for a training class, the topK of its prompts most similar to the image, their
    normalised features averaged and re-normalised; a novel class (name not among the training
    classes) has the one prompt [SOS][global ctx][class tokens][.][EOT]; logit = scale * cos.
  * 3 steps of torch.optim.SGD(lr 0.05, momentum 0.9, weight_decay 5e-4) on one batch, model in eval mode.

Setup: 12 training images, label of sample id i = TARGETS[i % 4] (3 shots per class); the batch is
sample ids [0, 5, 10, 7] (labels [3, 0, 1, 2] = TARGETS) with the four probe images' features;
Mg = 4, Mi = 2, K = 2, topK = 2; the evaluation class set reorders the training classes and adds
the novel class "satellite".

Writes ml/src/test/resources/golden/methods/instance.json and instance_init.safetensors.
Usage: /work/main/.venv/bin/python tools/golden/instance_golden.py   (torch 2.7.1 CPU, openai-clip)
"""
import json
import os

import clip
import numpy as np
import torch
import torch.nn.functional as F
from clip.model import CLIP
from PIL import Image
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIR = os.path.join(ROOT, "ml", "src", "test", "resources", "golden", "methods")
CLASSES = ["cat", "dog", "red car", "sunflower field"]
TARGETS = [3, 0, 1, 2]
N = 12
LABELS = [TARGETS[i % 4] for i in range(N)]
BATCH_IDS = [0, 5, 10, 7]
EVAL_CLASSES = ["satellite", "dog", "cat", "sunflower field", "red car"]
CTX_INIT = "a photo of a"
MG, MI, K, TOP_K = 4, 2, 2, 2
LR, MOMENTUM, WD, STEPS = 0.05, 0.9, 5e-4, 3
MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(3, 1, 1)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(3, 1, 1)


def load_model():
    sd = load_file(os.path.join(DIR, "tiny_clip_compact.safetensors"))
    ids, rows = sd.pop("token_embedding.ids"), sd.pop("token_embedding.rows")
    table = torch.zeros(49408, rows.shape[1])
    table[ids] = rows
    sd["token_embedding.weight"] = table
    m = CLIP(32, 32, 3, 64, 8, 77, 49408, 64, 1, 3)
    m.load_state_dict(sd)
    return m.float().eval()


def image_features(model):
    # 32 px images at resolution 32: resize and centre crop are the identity; ToTensor + CLIP normalise
    px = []
    for i in range(4):
        img = np.asarray(Image.open(os.path.join(DIR, "img%d.png" % i)).convert("RGB"), dtype=np.float32) / 255.0
        px.append((torch.from_numpy(img).permute(2, 0, 1) - MEAN) / STD)
    with torch.no_grad():
        f = model.encode_image(torch.stack(px))
    return f / f.norm(dim=-1, keepdim=True)


def encode_text(model, prompts, eot):
    """CoOp's TextEncoder: prompts [P, 77, D] (token embeddings with the context in place) -> features [P, E]."""
    x = prompts + model.positional_embedding
    x = x.permute(1, 0, 2)
    x = model.transformer(x)
    x = x.permute(1, 0, 2)
    x = model.ln_final(x)
    return x[torch.arange(x.shape[0]), eot] @ model.text_projection


def layout(model, texts, n):
    """Tokenise the class prompts once: SOS row, the rows after the n context rows, EOT index."""
    tok = clip.tokenize(texts)
    with torch.no_grad():
        emb = model.token_embedding(tok)
    return emb[:, :1], emb[:, 1 + n:], tok.argmax(dim=-1)


class InstancePrompts:
    """The method's tensors and its two forward paths, on a frozen clip.model.CLIP (also imported by
    tools/bench/method_bench_reference.py for the step-time comparison)."""

    def __init__(self, model, classes, labels, ctx_init=CTX_INIT, mg=MG, mi=MI):
        self.model, self.classes, self.labels, self.mg, self.mi = model, list(classes), list(labels), mg, mi
        self.ctx_init = ctx_init
        self.scale = model.logit_scale.exp().item()
        d = model.token_embedding.weight.shape[1]
        # global_ctx [Mg, D] from the token embeddings of ctxInit; instance_ctx [N, Mi, D] ~ N(0, 0.02^2)
        with torch.no_grad():
            self.global_ctx = model.token_embedding(clip.tokenize([ctx_init]))[0, 1:1 + mg].clone()
        self.instance_ctx = torch.randn(len(labels), mi, d) * 0.02
        # one class prompt per training class, with Mg + Mi context rows
        self.pre, self.suf, self.eot = layout(model, ["%s %s %s." % (ctx_init, " ".join(["X"] * mi), c) for c in self.classes],
                                              mg + mi)
        self.by_class = [[i for i in range(len(labels)) if labels[i] == c] for c in range(len(self.classes))]

    def parameters(self):
        return [self.global_ctx, self.instance_ctx]

    def train_prompt_features(self, ids):
        """Normalised text features of the prompts of training images ids."""
        ids = torch.tensor(ids)
        cls = torch.tensor([self.labels[i] for i in ids.tolist()])
        prompts = torch.cat([self.pre[cls], self.global_ctx.unsqueeze(0).expand(len(ids), -1, -1), self.instance_ctx[ids],
                             self.suf[cls]], dim=1)
        t = encode_text(self.model, prompts, self.eot[cls])
        return t / t.norm(dim=-1, keepdim=True)

    def training_logits(self, feats, selection):
        """feats [B, E] of the batch images; selection[b][c] = the K sample ids drawn for image b, class c (ascending).
        Every distinct selected prompt is encoded once; logits [B, C*K] class-major."""
        union = sorted({i for per in selection for ids in per for i in ids})
        t = self.train_prompt_features(union)
        pos = {sid: n for n, sid in enumerate(union)}
        rows = []
        for b in range(len(selection)):
            cols = [pos[i] for c in range(len(self.classes)) for i in selection[b][c]]
            rows.append(self.scale * (t[cols] @ feats[b]))
        return torch.stack(rows)

    def targets(self, batch_ids, selection, k):
        """The position of each image's own prompt among its training logits."""
        return torch.tensor([self.labels[sid] * k + selection[b][self.labels[sid]].index(sid) for b, sid in enumerate(batch_ids)])

    def eval_logits(self, feats, eval_classes, top_k):
        with torch.no_grad():
            novel = [c for c in eval_classes if c not in self.classes]
            if novel:
                nov_pre, nov_suf, nov_eot = layout(self.model, ["%s %s." % (self.ctx_init, c) for c in novel], self.mg)
            out = torch.zeros(feats.shape[0], len(eval_classes))
            for j, name in enumerate(eval_classes):
                if name in self.classes:
                    t = self.train_prompt_features(self.by_class[self.classes.index(name)])  # [shots, E]
                    for b in range(feats.shape[0]):
                        sims = t @ feats[b]
                        top = sims.topk(top_k).indices
                        avg = t[top].mean(dim=0)
                        avg = avg / avg.norm()
                        out[b, j] = self.scale * (avg @ feats[b])
                else:  # a novel class: [SOS][global ctx][class tokens][.][EOT]
                    i = novel.index(name)
                    p = torch.cat([nov_pre[i:i + 1], self.global_ctx.unsqueeze(0), nov_suf[i:i + 1]], dim=1)
                    t = encode_text(self.model, p, nov_eot[i:i + 1])
                    t = t / t.norm(dim=-1, keepdim=True)
                    out[:, j] = self.scale * (feats @ t[0])
            return out


def draw_selection(rng, by_class, labels, batch_ids, k):
    """Per batch image, per class, k distinct prompts; the image's own always among its class's."""
    selection = []
    for sid in batch_ids:
        per_class = []
        for c, pool in enumerate(by_class):
            if c == labels[sid]:
                others = [i for i in pool if i != sid]
                pick = [sid] + list(rng.choice(others, k - 1, replace=False))
            else:
                pick = list(rng.choice(pool, k, replace=False))
            per_class.append(sorted(int(i) for i in pick))
        selection.append(per_class)
    return selection


def main():
    torch.manual_seed(0)
    model = load_model()
    for p in model.parameters():
        p.requires_grad_(False)
    feats = image_features(model)  # [4, E], the batch's images
    method = InstancePrompts(model, CLASSES, LABELS)
    global_ctx, instance_ctx = method.parameters()
    save_file({"global_ctx": global_ctx.contiguous(), "instance_ctx": instance_ctx.contiguous()},
              os.path.join(DIR, "instance_init.safetensors"))
    global_ctx.requires_grad_(True)
    instance_ctx.requires_grad_(True)
    # the fixed selection written into the golden
    selection = draw_selection(np.random.default_rng(11), method.by_class, LABELS, BATCH_IDS, K)
    targets = method.targets(BATCH_IDS, selection, K)

    eval_init = method.eval_logits(feats, EVAL_CLASSES, TOP_K)
    opt = torch.optim.SGD([global_ctx, instance_ctx], lr=LR, momentum=MOMENTUM, weight_decay=WD)
    steps = []
    for s in range(STEPS + 1):
        opt.zero_grad()
        logits = method.training_logits(feats, selection)
        loss = F.cross_entropy(logits, targets)
        step = {"loss": loss.item(), "logits": logits.detach().tolist()}
        if s < STEPS:
            loss.backward()
            step["grads"] = {"global_ctx": global_ctx.grad.reshape(-1).tolist(),
                             "instance_ctx": instance_ctx.grad.reshape(-1).tolist()}
            opt.step()
        steps.append(step)
    eval_final = method.eval_logits(feats, EVAL_CLASSES, TOP_K)
    d = model.token_embedding.weight.shape[1]

    golden = {
        "method": "instance",
        "reference": "tools/golden/instance_golden.py (the issue's spec in PyTorch; no public code exists)",
        "torch": torch.__version__,
        "probe": {"nCtx": MG, "ctxInit": CTX_INIT, "nCtxInstance": MI, "candidatesPerClass": K, "topK": TOP_K},
        "init": "instance_init.safetensors",
        "parameters": {"global_ctx": [MG, d], "instance_ctx": [N, MI, d]},
        "trainingClasses": CLASSES,
        "trainingLabels": LABELS,
        "batchSampleIds": BATCH_IDS,
        "batchLabels": [LABELS[i] for i in BATCH_IDS],
        "imageFeatures": feats.tolist(),
        "selection": selection,
        "targets": targets.tolist(),
        "evalClasses": EVAL_CLASSES,
        "evalLogitsInit": eval_init.tolist(),
        "evalLogitsFinal": eval_final.tolist(),
        "steps": steps,
    }
    with open(os.path.join(DIR, "instance.json"), "w") as f:
        json.dump(golden, f, indent=1)
    print("losses", [round(s["loss"], 6) for s in steps])
    print("eval init", eval_init.argmax(1).tolist(), "final", eval_final.argmax(1).tolist())


if __name__ == "__main__":
    main()
