#!/usr/bin/env python3
"""Golden for the `prismer` method (ml/src/main/java/ai/promptline/ml/methods/Prismer.java).

No public classification code of Prismer exists (NVlabs/prismer is captioning/VQA), so this script
follows the method's spec line by line in plain PyTorch, on the shared inputs of
tools/golden/method_probe_inputs.py (tiny CLIP, img0..3.png, classes, targets). The building blocks
are re-written from the spec, after NVlabs/prismer@4f27ab37e8ff5436707c5badd0ec744980608edd:
  - model/modules/utils.py Adaptor (norm_late=False): x + up_proj(SquaredReLU(down_proj(adaptor_ln(x)))),
    nn.Linear default init, placed after the attention residual and before the MLP of a block
    (model/modules/vit.py Transformer.forward);
  - model/modules/resampler.py PerceiverResampler: latents = W^-0.5 * randn(L, W); per block
    latents += MHA(q=ln_1(latents), kv=cat[ln_1(latents), ln_2(x)]); latents += mlp(ln_ff(latents)),
    mlp = c_fc(W->4W) -> SquaredReLU -> c_proj(4W->W), nn.MultiheadAttention (sequence-first).
Platform choices (see ml/README.md, methods): x = the output tokens of frozen expert CLIP image towers
(ViT: all tokens after the last block and ln_post; ModifiedResNet: the final feature map), each through
its own Linear expert_proj.i to the resampler width, concatenated along the token axis; output = mean of
the latents -> resampler_head Linear(W -> E), zero-initialised, added to the adapted CLIP image feature
before L2 normalisation; text = fixed "a photo of a {}." prompts of the classes.

Two experts of other widths than the main model, random like the main tiny CLIP: a ViT (width 128,
1 layer) and a ModifiedResNet (stem width 4, 128 output channels), saved compact like the main model.
Protocol as the other method goldens: fixed initial tensors (<name>_init.safetensors, reference names),
model in eval mode, SGD(lr 0.05, momentum 0.9, weight_decay 5e-4) on every trainable tensor, 3 steps of
cross-entropy; loss, logits and gradients before each step and loss/logits after the last. Also the
no-expert ablation (adaptors only).

Usage: /work/main/.venv/bin/python tools/golden/prismer_golden.py
"""
import json
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from clip.model import CLIP
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import clip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "ml", "src", "test", "resources", "golden", "methods")
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


# ------------------------------------------------------------------------------------------ models

def load_compact(path, model):
    sd = load_file(path)
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    ids = sd.pop("token_embedding.ids")
    rows = sd.pop("token_embedding.rows")
    table = torch.zeros(int(meta["token_embedding.vocab"]), rows.shape[1])
    table[ids] = rows
    sd["token_embedding.weight"] = table
    model.load_state_dict(sd)
    return model.float().eval()


def save_compact(model, path):
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    table = sd.pop("token_embedding.weight")
    ids = torch.tensor([0, 49406, 49407], dtype=torch.int64)  # text tower unused: a few rows
    sd["token_embedding.ids"] = ids
    sd["token_embedding.rows"] = table[ids].contiguous()
    save_file(sd, path, metadata={"token_embedding.vocab": str(table.shape[0])})


def randomise(m, g):
    """Norms, biases and BatchNorm statistics random, as method_probe_inputs.py does for the main model."""
    with torch.no_grad():
        for name, t in m.state_dict().items():
            leaf = name.rsplit(".", 1)[-1]
            if ("ln_" in name or ".bn" in name) and leaf == "weight":
                t.copy_(1 + 0.2 * torch.rand(t.shape, generator=g))
            elif leaf == "running_var":
                t.copy_(1 + 0.2 * torch.rand(t.shape, generator=g))
            elif leaf in ("bias", "running_mean") or "ln_" in name:
                t.copy_(0.1 * torch.randn(t.shape, generator=g))


def experts():
    torch.manual_seed(3)
    g = torch.Generator().manual_seed(3)
    vit = CLIP(24, 32, 1, 128, 8, 77, 49408, 64, 1, 1).eval()  # ViT, width 128 (2 heads), 1 layer
    rn = CLIP(24, 32, (1, 1, 1, 1), 4, None, 77, 49408, 64, 1, 1).eval()  # ModifiedResNet, 128 channels
    for m in (vit, rn):
        randomise(m, g)
    return [("vit", vit), ("rn", rn)]


# ------------------------------------------------------------------------------------------ spec

class SquaredReLU(nn.Module):
    def forward(self, x):
        return torch.square(torch.relu(x))


class Adaptor(nn.Module):
    """x + up_proj(SquaredReLU(down_proj(adaptor_ln(x)))), nn.Linear/LayerNorm default init."""

    def __init__(self, d, hidden):
        super().__init__()
        self.adaptor = nn.Sequential(OrderedDict([
            ("down_proj", nn.Linear(d, hidden)), ("sq_relu", SquaredReLU()), ("up_proj", nn.Linear(hidden, d))]))
        self.adaptor_ln = nn.LayerNorm(d)

    def forward(self, x):
        return self.adaptor(self.adaptor_ln(x)) + x


class PerceiverBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, 4 * width)), ("sq_relu", SquaredReLU()), ("c_proj", nn.Linear(4 * width, width))]))
        self.ln_1 = nn.LayerNorm(width)
        self.ln_2 = nn.LayerNorm(width)
        self.ln_ff = nn.LayerNorm(width)

    def forward(self, x, latents):  # sequence-first [T, N, W], [L, N, W]
        q = self.ln_1(latents)
        kv = torch.cat([self.ln_1(latents), self.ln_2(x)], dim=0)
        latents = latents + self.attn(q, kv, kv, need_weights=False)[0]
        latents = latents + self.mlp(self.ln_ff(latents))
        return latents


class Resampler(nn.Module):
    def __init__(self, width, depth, heads, n_latents):
        super().__init__()
        self.latents = nn.Parameter(width ** -0.5 * torch.randn(n_latents, width))
        self.perceiver_blocks = nn.Sequential(*[PerceiverBlock(width, heads) for _ in range(depth)])

    def forward(self, x):  # [N, T, W] -> [N, L, W]
        x = x.permute(1, 0, 2)
        lat = self.latents.unsqueeze(1).expand(-1, x.shape[1], -1)
        for b in self.perceiver_blocks:
            lat = b(x, lat)
        return lat.permute(1, 0, 2)


class PrismerCls(nn.Module):
    def __init__(self, clip_model, expert_models, adaptor_layers, bottleneck, latents, depth, width, heads):
        super().__init__()
        v = clip_model.visual
        d = v.conv1.weight.shape[0]
        layers = len(v.transformer.resblocks)
        self.first = layers - adaptor_layers
        hidden = d if bottleneck == 0 else bottleneck
        # reference names: transformer.resblocks.<l>.1.adaptor.* as NVlabs/prismer's ViT
        self.adaptors = nn.ModuleDict({str(l): Adaptor(d, hidden) for l in range(self.first, layers)})
        self.experts = expert_models
        if expert_models:
            width = d if width == 0 else width
            self.expert_proj = nn.ModuleList([nn.Linear(token_width(e), width) for _, e in expert_models])
            self.resampler = Resampler(width, depth, heads, latents)
            self.resampler_head = nn.Linear(width, v.proj.shape[1])
            nn.init.zeros_(self.resampler_head.weight)
            nn.init.zeros_(self.resampler_head.bias)

    def named_trainables(self):
        out = OrderedDict()
        for l, a in self.adaptors.items():
            for n, p in a.named_parameters():
                out["transformer.resblocks.%s.1.%s" % (l, n)] = p
        if self.experts:
            for n, p in self.expert_proj.named_parameters():
                out["expert_proj." + n] = p
            for n, p in self.resampler.named_parameters():
                out["resampler." + n] = p
            for n, p in self.resampler_head.named_parameters():
                out["resampler_head." + n] = p
        return out


def token_width(m):
    v = m.visual
    return v.conv1.weight.shape[0] if hasattr(v, "class_embedding") else v.layer4[-1].conv3.weight.shape[0]


def vit_tokens(v, x, adapt=None):
    """CLIP ViT: patches, CLS, pos, ln_pre, blocks (optional adaptor after attention), ln_post over all tokens."""
    x = v.conv1(x)
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
    cls = v.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
    x = torch.cat([cls, x], dim=1) + v.positional_embedding.to(x.dtype)
    x = v.ln_pre(x).permute(1, 0, 2)
    for i, blk in enumerate(v.transformer.resblocks):
        x = x + blk.attention(blk.ln_1(x))
        if adapt is not None:
            x = adapt(i, x)
        x = x + blk.mlp(blk.ln_2(x))
    return v.ln_post(x.permute(1, 0, 2))


def rn_tokens(v, x):
    """ModifiedResNet stem and stages; the final map as tokens [N, HW, C]."""
    x = v.relu1(v.bn1(v.conv1(x)))
    x = v.relu2(v.bn2(v.conv2(x)))
    x = v.relu3(v.bn3(v.conv3(x)))
    x = v.avgpool(x)
    x = v.layer4(v.layer3(v.layer2(v.layer1(x))))
    return x.flatten(2).permute(0, 2, 1)


def expert_tokens(m, px):
    v = m.visual
    with torch.no_grad():  # frozen experts, no gradients
        return vit_tokens(v, px) if hasattr(v, "class_embedding") else rn_tokens(v, px)


def logits_of(model, clip_model, text, px):
    v = clip_model.visual

    def adapt(i, x):
        return model.adaptors[str(i)](x) if str(i) in model.adaptors else x

    image = vit_tokens(v, px, adapt)[:, 0, :] @ v.proj
    if model.experts:
        x = torch.cat([p(expert_tokens(e, px)) for p, (_, e) in zip(model.expert_proj, model.experts)], dim=1)
        image = image + model.resampler_head(model.resampler(x).mean(dim=1))
    image = image / image.norm(dim=-1, keepdim=True)
    return clip_model.logit_scale.exp() * image @ text.t()


# ------------------------------------------------------------------------------------------ run

def pixels(inputs):
    """The test transform on the 32 x 32 images: resize/centre-crop to 32 are the identity, so ToTensor + CLIP normalisation."""
    out = []
    for name in inputs["images"]:
        img = Image.open(os.path.join(OUT, name)).convert("RGB")
        a = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
        out.append((a - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1))
    return torch.stack(out)


def run(name, clip_model, expert_models, probe, inputs, px):
    torch.manual_seed(0)
    model = PrismerCls(clip_model, expert_models, probe["adaptorLayersN"], probe["bottleneck"], probe["latents"],
                       probe["resamplerDepth"], probe["resamplerWidth"], probe["resamplerHeads"])
    params = model.named_trainables()
    save_file({k: p.detach().clone().contiguous() for k, p in params.items()}, os.path.join(OUT, name + "_init.safetensors"))
    prompts = ["a photo of a %s." % c for c in inputs["classes"]]
    with torch.no_grad():
        t = clip_model.encode_text(clip.tokenize(prompts))
        text = t / t.norm(dim=-1, keepdim=True)
    targets = torch.tensor(inputs["targets"])
    opt = torch.optim.SGD(list(params.values()), lr=inputs["lr"], momentum=inputs["momentum"],
                          weight_decay=inputs["weightDecay"])
    steps = []
    for s in range(inputs["steps"] + 1):
        logits = logits_of(model, clip_model, text, px)
        loss = F.cross_entropy(logits, targets)
        entry = {"loss": loss.item(), "logits": logits.detach().tolist()}
        if s < inputs["steps"]:
            opt.zero_grad()
            loss.backward()
            entry["grads"] = {k: p.grad.flatten().tolist() for k, p in params.items()}
            opt.step()
        steps.append(entry)
    probe = {k: v for k, v in probe.items() if k != "adaptorLayersN"}
    golden = {"method": "prismer", "reference": "none public: tools/golden/prismer_golden.py (spec after "
              "NVlabs/prismer@4f27ab37e8ff5436707c5badd0ec744980608edd model/modules/{utils,resampler,vit}.py)",
              "probe": probe, "init": name + "_init.safetensors",
              "experts": [{"name": n, "file": "prismer_expert_%s.safetensors" % n} for n, _ in expert_models],
              "parameters": {k: list(p.shape) for k, p in params.items()}, "prompts": prompts, "steps": steps}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(short(golden), f)
    print(name, "losses", ["%.6f" % e["loss"] for e in steps])


def short(o):
    """Floats to 8 significant digits (float32 values; relative change <= 5e-8), to keep the file small."""
    if isinstance(o, float):
        return float("%.8g" % o)
    if isinstance(o, list):
        return [short(x) for x in o]
    if isinstance(o, dict):
        return {k: short(v) for k, v in o.items()}
    return o


def main():
    with open(os.path.join(OUT, "inputs.json")) as f:
        inputs = json.load(f)
    c = inputs["config"]
    main_clip = load_compact(os.path.join(OUT, "tiny_clip_compact.safetensors"),
                             CLIP(c["embedDim"], c["imageResolution"], c["visionLayers"], c["visionWidth"], c["patch"],
                                  77, 49408, c["textWidth"], c["textHeads"], c["textLayers"]))
    for p in main_clip.parameters():
        p.requires_grad_(False)
    ex = experts()
    for n, m in ex:
        for p in m.parameters():
            p.requires_grad_(False)
        save_compact(m, os.path.join(OUT, "prismer_expert_%s.safetensors" % n))
    px = pixels(inputs)
    run("prismer", main_clip, ex, {"adaptorLayers": "2", "adaptorLayersN": 2, "bottleneck": 32, "latents": 4,
                                   "resamplerDepth": 2, "resamplerWidth": 32, "resamplerHeads": 4}, inputs, px)
    run("prismer-noexpert", main_clip, [], {"adaptorLayers": "all", "adaptorLayersN": 3, "bottleneck": 0, "latents": 64,
                                            "resamplerDepth": 4, "resamplerWidth": 0, "resamplerHeads": 8}, inputs, px)


if __name__ == "__main__":
    main()
