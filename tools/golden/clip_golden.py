#!/usr/bin/env python3
"""Reference outputs for the Java CLIP (ai.promptline.ml.clip).

The reference model below is written from methods.md section 2 with stock PyTorch modules
(nn.MultiheadAttention, F.multi_head_attention_forward for the attention pool, nn.BatchNorm2d in
eval mode) and the OpenAI state-dict names, so load_state_dict() doubles as a name check.

Weights come from the same portable generator as ClipWeights.random (SplitMix64 per tensor seeded
by seed ^ fnv1a64(name), uniform with the requested std), so the committed goldens hold only inputs
and outputs; the Java test rebuilds identical weights. Two micro models are also written to disk in
the three checkpoint formats (HF-named safetensors, torch.save zip, TorchScript archive with fp16
storages and BatchNorm buffers) to test the loaders on files produced by PyTorch itself.

Usage:
  .venv/bin/python tools/golden/clip_golden.py            # writes ml/src/test/resources/golden/clip/
  .venv/bin/python tools/golden/clip_golden.py --vit-b16  # also full ViT-B/16 geometry goldens
"""
import argparse
import ast
import gzip
import html
import json
import math
import os
import re
from collections import OrderedDict
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "ml", "src", "test", "resources", "golden", "clip")
VOCAB = os.path.join(ROOT, "ml", "src", "main", "resources", "ai", "promptline", "ml", "clip",
                     "bpe_simple_vocab_16e6.txt.gz")
PROMPTS = os.path.join(ROOT, "..", "shared", "data", "clip", "prompts.md")

# ----------------------------------------------------------------------------- portable PRNG

M64 = (1 << 64) - 1


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001b3) & M64
    return h


def uniform_stream(seed, name, n):
    """SplitMix64 stream -> doubles in [0,1), identical to ClipWeights.values."""
    state = np.uint64((seed ^ fnv1a64(name)) & M64)
    with np.errstate(over="ignore"):
        steps = (np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        z = state + steps
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)


def values(name, shape, kind, std, seed):
    n = int(np.prod(shape)) if len(shape) else 1
    if kind == "zero":
        v = np.zeros(n)
    elif kind == "logit":
        v = np.array([math.log(1 / 0.07)])
    else:
        a = std * math.sqrt(3.0)
        base = 1.0 if kind == "one_plus" else 0.0
        v = base + (2 * uniform_stream(seed, name, n) - 1) * a
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


# ----------------------------------------------------------------------------- state-dict layout

def specs(c):
    """(name, shape, kind, std) in the order of ClipWeights.specs."""
    s = []
    tw = c["textWidth"]
    s.append(("positional_embedding", (c["contextLength"], tw), "random", 0.01))
    s.append(("text_projection", (tw, c["embedDim"]), "random", 1.0 / math.sqrt(tw)))
    s.append(("logit_scale", (), "logit", 0))
    if c["visionKind"] == "VIT":
        w, p = c["visionWidth"], c["visionPatchSize"]
        g = c["imageResolution"] // p
        scale = 1.0 / math.sqrt(w)
        s.append(("visual.class_embedding", (w,), "random", scale))
        s.append(("visual.positional_embedding", (g * g + 1, w), "random", scale))
        s.append(("visual.proj", (w, c["embedDim"]), "random", scale))
        s.append(("visual.conv1.weight", (w, 3, p, p), "random", 1.0 / math.sqrt(3.0 * p * p)))
        ln("visual.ln_pre", w, s)
        blocks("visual.transformer.", w, c["visionLayers"], s)
        ln("visual.ln_post", w, s)
    else:
        w = c["visionWidth"]
        conv("visual.conv1", w // 2, 3, 3, s); bn("visual.bn1", w // 2, s)
        conv("visual.conv2", w // 2, w // 2, 3, s); bn("visual.bn2", w // 2, s)
        conv("visual.conv3", w, w // 2, 3, s); bn("visual.bn3", w, s)
        inplanes = w
        for stage in range(4):
            planes = w << stage
            stride = 1 if stage == 0 else 2
            for b in range(c["resnetStages"][stage]):
                p = "visual.layer%d.%d." % (stage + 1, b)
                conv(p + "conv1", planes, inplanes, 1, s); bn(p + "bn1", planes, s)
                conv(p + "conv2", planes, planes, 3, s); bn(p + "bn2", planes, s)
                conv(p + "conv3", planes * 4, planes, 1, s); bn(p + "bn3", planes * 4, s)
                if b == 0 and (stride > 1 or inplanes != planes * 4):
                    conv(p + "downsample.1", planes * 4, inplanes, 1, s)
                    bn(p + "downsample.2", planes * 4, s)
                inplanes = planes * 4
        embed = w * 32
        grid = c["imageResolution"] // 32
        std = 1.0 / math.sqrt(embed)
        a = "visual.attnpool."
        s.append((a + "positional_embedding", (grid * grid + 1, embed), "random", std))
        for proj in ("k_proj", "q_proj", "v_proj"):
            s.append((a + proj + ".weight", (embed, embed), "random", std))
            s.append((a + proj + ".bias", (embed,), "random", 0.02))
        s.append((a + "c_proj.weight", (c["embedDim"], embed), "random", std))
        s.append((a + "c_proj.bias", (c["embedDim"],), "random", 0.02))
    blocks("transformer.", tw, c["textLayers"], s)
    s.append(("token_embedding.weight", (c["vocabSize"], tw), "random", 0.02))
    ln("ln_final", tw, s)
    return s


def ln(p, w, s):
    s.append((p + ".weight", (w,), "one_plus", 0.1))
    s.append((p + ".bias", (w,), "random", 0.1))


def conv(p, out, inp, k, s):
    s.append((p + ".weight", (out, inp, k, k), "random", math.sqrt(2.0 / (inp * k * k))))


def bn(p, ch, s):
    s.append((p + ".weight", (ch,), "one_plus", 0.1))
    s.append((p + ".bias", (ch,), "random", 0.1))
    s.append((p + ".running_mean", (ch,), "random", 0.1))
    s.append((p + ".running_var", (ch,), "one_plus", 0.2))
    s.append((p + ".num_batches_tracked", (), "zero", 0))


def blocks(prefix, w, layers, s):
    attn = 1.0 / math.sqrt(w)
    proj = attn / math.sqrt(2.0 * layers)
    fc = 1.0 / math.sqrt(2.0 * w)
    for i in range(layers):
        p = "%sresblocks.%d." % (prefix, i)
        s.append((p + "attn.in_proj_weight", (3 * w, w), "random", attn))
        s.append((p + "attn.in_proj_bias", (3 * w,), "random", 0.02))
        s.append((p + "attn.out_proj.weight", (w, w), "random", proj))
        s.append((p + "attn.out_proj.bias", (w,), "random", 0.02))
        ln(p + "ln_1", w, s)
        s.append((p + "mlp.c_fc.weight", (4 * w, w), "random", fc))
        s.append((p + "mlp.c_fc.bias", (4 * w,), "random", 0.02))
        s.append((p + "mlp.c_proj.weight", (w, 4 * w), "random", proj))
        s.append((p + "mlp.c_proj.bias", (w,), "random", 0.02))
        ln(p + "ln_2", w, s)


def random_state_dict(c, seed):
    sd = OrderedDict()
    for name, shape, kind, std in specs(c):
        t = values(name, shape, kind, std, seed)
        if name.endswith("num_batches_tracked"):
            t = t.long()
        sd[name] = t
    return sd


# ----------------------------------------------------------------------------- reference model

class LayerNorm(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln_1 = LayerNorm(d)
        self.mlp = nn.Sequential(OrderedDict(
            [("c_fc", nn.Linear(d, 4 * d)), ("gelu", QuickGELU()), ("c_proj", nn.Linear(4 * d, d))]))
        self.ln_2 = LayerNorm(d)

    def forward(self, x, mask):
        h = self.ln_1(x)
        mask = None if mask is None else mask.to(dtype=x.dtype)  # reference: attn_mask.to(x.dtype)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, d, layers, heads):
        super().__init__()
        self.resblocks = nn.ModuleList([Block(d, heads) for _ in range(layers)])

    def forward(self, x, mask=None, deep=None, deep_at_end=False):
        # x: [L, N, D] sequence-first, as the reference
        for i, b in enumerate(self.resblocks):
            if deep is not None and i in deep:
                t = deep[i].unsqueeze(1).expand(-1, x.shape[1], -1)
                n = t.shape[0]
                x = torch.cat([x[:-n], t], 0) if deep_at_end else torch.cat([x[:1], t, x[1 + n:]], 0)
            x = b(x, mask)
        return x


class ViT(nn.Module):
    def __init__(self, res, patch, w, layers, heads, out):
        super().__init__()
        g = res // patch
        scale = w ** -0.5
        self.conv1 = nn.Conv2d(3, w, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(w))
        self.positional_embedding = nn.Parameter(scale * torch.randn(g * g + 1, w))
        self.ln_pre = LayerNorm(w)
        self.transformer = Transformer(w, layers, heads)
        self.ln_post = LayerNorm(w)
        self.proj = nn.Parameter(scale * torch.randn(w, out))

    def forward(self, x, prompts=None, deep=None, mask=None, readout=None):
        x = self.conv1(x).flatten(2).permute(0, 2, 1)
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = torch.cat([cls, x], 1) + self.positional_embedding.to(x.dtype)
        if prompts is not None:
            x = torch.cat([x, prompts.unsqueeze(0).expand(x.shape[0], -1, -1)], 1)
        x = self.ln_pre(x).permute(1, 0, 2)
        x = self.transformer(x, mask=mask, deep=deep, deep_at_end=True).permute(1, 0, 2)
        if readout is None:
            return self.ln_post(x[:, 0]) @ self.proj
        return self.ln_post(x[:, readout]) @ self.proj


class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            # OpenAI names: downsample.0 = AvgPool, .1 = conv, .2 = BN
            self.downsample = nn.Sequential(
                nn.AvgPool2d(stride), nn.Conv2d(inplanes, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.avgpool(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class AttentionPool(nn.Module):
    def __init__(self, grid, embed, heads, out):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, embed) / embed ** 0.5)
        self.k_proj = nn.Linear(embed, embed)
        self.q_proj = nn.Linear(embed, embed)
        self.v_proj = nn.Linear(embed, embed)
        self.c_proj = nn.Linear(embed, out)
        self.heads = heads

    def forward(self, x):
        x = x.flatten(2).permute(2, 0, 1)
        x = torch.cat([x.mean(0, keepdim=True), x], 0) + self.positional_embedding[:, None, :].to(x.dtype)
        x, _ = F.multi_head_attention_forward(
            query=x[:1], key=x, value=x, embed_dim_to_check=x.shape[-1], num_heads=self.heads,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight,
            v_proj_weight=self.v_proj.weight, in_proj_weight=None,
            in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
            out_proj_weight=self.c_proj.weight, out_proj_bias=self.c_proj.bias,
            use_separate_proj_weight=True, training=False, need_weights=False)
        return x.squeeze(0)


class ResNet(nn.Module):
    def __init__(self, stages, out, heads, res, w):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w // 2, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w // 2)
        self.conv2 = nn.Conv2d(w // 2, w // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(w // 2)
        self.conv3 = nn.Conv2d(w // 2, w, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(w)
        self.avgpool = nn.AvgPool2d(2)
        inplanes = w
        for i, n in enumerate(stages):
            planes = w << i
            layer = []
            for b in range(n):
                layer.append(Bottleneck(inplanes, planes, (1 if i == 0 else 2) if b == 0 else 1))
                inplanes = planes * 4
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*layer))
        self.attnpool = AttentionPool(res // 32, w * 32, heads, out)

    def forward(self, x):
        x = x.type(self.conv1.weight.dtype)
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.avgpool(F.relu(self.bn3(self.conv3(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.attnpool(x)


class CLIP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        if c["visionKind"] == "VIT":
            self.visual = ViT(c["imageResolution"], c["visionPatchSize"], c["visionWidth"],
                              c["visionLayers"], c["visionHeads"], c["embedDim"])
        else:
            self.visual = ResNet(c["resnetStages"], c["embedDim"], c["visionHeads"],
                                 c["imageResolution"], c["visionWidth"])
        tw = c["textWidth"]
        self.transformer = Transformer(tw, c["textLayers"], c["textHeads"])
        self.token_embedding = nn.Embedding(c["vocabSize"], tw)
        self.positional_embedding = nn.Parameter(torch.empty(c["contextLength"], tw))
        self.ln_final = LayerNorm(tw)
        self.text_projection = nn.Parameter(torch.empty(tw, c["embedDim"]))
        self.logit_scale = nn.Parameter(torch.ones([]))
        L = c["contextLength"]
        self.register_buffer("attn_mask", torch.full((L, L), float("-inf")).triu(1), persistent=False)

    @property
    def dtype(self):
        return self.visual.conv1.weight.dtype  # fp32 unless convert_weights() was applied

    def encode_image(self, image):
        return self.visual(image.type(self.dtype))

    def encode_text_embeddings(self, x, eot, mask=None, deep=None, readout=None):
        x = x.type(self.dtype) + self.positional_embedding[: x.shape[1]].type(self.dtype)
        x = x.permute(1, 0, 2)
        x = self.transformer(x, mask=self.attn_mask if mask is None else mask, deep=deep)
        x = self.ln_final(x.permute(1, 0, 2))
        if readout is not None:
            return x[torch.arange(x.shape[0])[:, None], readout] @ self.text_projection
        return x[torch.arange(x.shape[0]), eot] @ self.text_projection

    def encode_text(self, text):
        return self.encode_text_embeddings(self.token_embedding(text), text.argmax(-1))

    def forward(self, image, text):
        f = self.encode_image(image)
        t = self.encode_text(text)
        f = f / f.norm(dim=1, keepdim=True)
        t = t / t.norm(dim=1, keepdim=True)
        return self.logit_scale.exp() * f @ t.t()


def convert_weights(model, dtype=torch.float16):
    """The reference convert_weights (methods.md 2.6), with the target dtype as a parameter:
    Conv/Linear weights+biases, MHA in/q/k/v projection weights and in_proj_bias, and the
    text_projection / proj parameters; embeddings, LayerNorm, BatchNorm and logit_scale stay fp32."""
    def cast(m):
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            m.weight.data = m.weight.data.to(dtype)
            if m.bias is not None:
                m.bias.data = m.bias.data.to(dtype)
        if isinstance(m, nn.MultiheadAttention):
            for attr in ["in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight",
                         "in_proj_bias", "bias_k", "bias_v"]:
                t = getattr(m, attr)
                if t is not None:
                    t.data = t.data.to(dtype)
        for name in ["text_projection", "proj"]:
            if hasattr(m, name):
                t = getattr(m, name)
                if t is not None:
                    t.data = t.data.to(dtype)
    model.apply(cast)
    return model


def build(c, sd):
    m = CLIP(c)
    m.load_state_dict(sd, strict=True)
    return m.eval()


# ----------------------------------------------------------------------------- tokenizer port

def bytes_to_unicode():
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) \
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    codes = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(keep, [chr(c) for c in codes]))


class Tokenizer:
    """Python port of the reference simple_tokenizer (ftfy + html + regex), for expected ids."""

    def __init__(self, path=VOCAB):
        import ftfy  # noqa: F401  (reference cleaning)
        import regex
        self.byte_encoder = bytes_to_unicode()
        lines = gzip.open(path).read().decode("utf-8").split("\n")
        merges = [tuple(l.split()) for l in lines[1:49152 - 256 - 2 + 1]]
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m) for m in merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = {v: i for i, v in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
        self.pat = regex.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = [(word[i], word[i + 1]) for i in range(len(word) - 1)]
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == best[0] and word[i + 1] == best[1]:
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        r = " ".join(word)
        self.cache[token] = r
        return r

    def encode(self, text):
        import ftfy
        text = ftfy.fix_text(text)
        text = html.unescape(html.unescape(text)).strip()
        text = re.sub(r"\s+", " ", text).strip().lower()
        ids = []
        for tok in self.pat.findall(text):
            tok = "".join(self.byte_encoder[b] for b in tok.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(tok).split(" "))
        return ids

    def tokenize(self, texts, L=77):
        out = torch.zeros(len(texts), L, dtype=torch.long)
        for i, t in enumerate(texts):
            ids = [49406] + self.encode(t) + [49407]
            out[i, : len(ids)] = torch.tensor(ids)
        return out


def prompt_sets():
    """(dataset, classes, templates) from prompts.md, parsed with ast (no exec)."""
    src = open(PROMPTS, encoding="utf-8").read()
    out = []
    for sec in re.split(r"^## ", src, flags=re.M)[1:]:
        name = sec.split("\n", 1)[0].strip()
        block = re.search(r"```(?:bash|python)?\n(.*?)```", sec, re.S)
        if not block:
            continue
        found = {}
        for node in ast.parse(block.group(1)).body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                found[node.targets[0].id] = ast.literal_eval(node.value)
        classes = []
        for c in found["classes"]:
            classes.extend(c if isinstance(c, list) else [c])
        out.append((name, classes, found["templates"]))
    return out


# ----------------------------------------------------------------------------- goldens

VIT = dict(visionKind="VIT", embedDim=32, imageResolution=32, visionWidth=128, visionLayers=2,
           resnetStages=[], visionPatchSize=8, visionHeads=2, contextLength=77, vocabSize=49408,
           textWidth=128, textLayers=2, textHeads=2)
RN = dict(visionKind="RESNET", embedDim=32, imageResolution=64, visionWidth=8, visionLayers=0,
          resnetStages=[1, 1, 1, 1], visionPatchSize=0, visionHeads=4, contextLength=77,
          vocabSize=49408, textWidth=64, textLayers=2, textHeads=1)
# micro models written to disk (small vocab/context so that the files stay small)
MICRO_VIT = dict(visionKind="VIT", embedDim=16, imageResolution=16, visionWidth=64, visionLayers=1,
                 resnetStages=[], visionPatchSize=8, visionHeads=1, contextLength=8, vocabSize=64,
                 textWidth=64, textLayers=1, textHeads=1)
MICRO_RN = dict(visionKind="RESNET", embedDim=16, imageResolution=32, visionWidth=2, visionLayers=0,
                resnetStages=[1, 1, 1, 1], visionPatchSize=0, visionHeads=1, contextLength=8,
                vocabSize=64, textWidth=64, textLayers=1, textHeads=1)

TEXTS = ["a photo of a dog.", "a photo of a Apply_Eye_Makeup.", "X X X X airplane.", "  Hello   World! &amp; "]
SEED = 2024


def r(t):
    return [float("%.7g" % v) for v in t.detach().reshape(-1).tolist()]


def pixels(name, n, res, seed):
    return values(name, (n, 3, res, res), "random", 1.0, seed)


def golden_model(c, tok, seed, with_hooks):
    model = build(c, random_state_dict(c, seed))
    ids = tok.tokenize(TEXTS, c["contextLength"])
    px = pixels("pixels", 2, c["imageResolution"], seed)
    out = {"config": c, "seed": seed, "pixelsName": "pixels", "numImages": 2}
    with torch.no_grad():
        img = model.encode_image(px)
        txt = model.encode_text(ids)
        logits = model(px, ids)
        out.update(ids=ids.tolist(), image=r(img), text=r(txt), logits=r(logits))
        if with_hooks:
            # CoOp: rows 1..4 of the token embedding of "X X X X dog." replaced by ctx, EOT pooling
            cids = tok.tokenize(["X X X X dog."], c["contextLength"])
            ctx = values("ctx", (4, c["textWidth"]), "random", 0.02, seed)
            emb = model.token_embedding(cids)
            emb = torch.cat([emb[:, :1], ctx.unsqueeze(0), emb[:, 5:]], 1)
            out["coop"] = {"ids": cids.tolist(), "ctxName": "ctx", "text": r(model.encode_text_embeddings(emb, cids.argmax(-1)))}
            # MaPLe-style deep text prompts: positions 1..2 replaced before layer 1
            deep = values("deepText", (2, c["textWidth"]), "random", 0.02, seed)
            t = model.encode_text_embeddings(model.token_embedding(ids), ids.argmax(-1), deep={1: deep})
            out["deepText"] = {"name": "deepText", "text": r(t)}
            # VPT/MaPLe vision: 2 appended prompts, last 2 tokens replaced before layer 1
            vp = values("visionPrompts", (2, c["visionWidth"]), "random", 0.02, seed)
            vd = values("visionDeep", (2, c["visionWidth"]), "random", 0.02, seed)
            out["deepVision"] = {"appended": "visionPrompts", "deep": "visionDeep",
                                 "image": r(model.visual(px, prompts=vp, deep={1: vd}))}
            # RPO vision: K appended prompts, columns of the prompts masked, read the prompt rows
            K = 3
            rp = values("rpoPrompts", (K, c["visionWidth"]), "random", 0.5, seed)
            n_tok = (c["imageResolution"] // c["visionPatchSize"]) ** 2 + 1
            mask = torch.zeros(n_tok + K, n_tok + K)
            mask[:, n_tok:] = float("-inf")
            rows = torch.arange(n_tok, n_tok + K)
            out["rpoVision"] = {"prompts": "rpoPrompts", "k": K,
                                "image": r(model.visual(px, prompts=rp, mask=mask, readout=rows))}
    if with_hooks:
        out["gradients"] = gradients(model, c, tok, px, seed)
    return out


def gradients(model, c, tok, px, seed):
    """d(sum(features * w))/d(prompt) for CoOp ctx and for appended + deep vision prompts."""
    with torch.enable_grad():
        cids = tok.tokenize(["X X X X dog.", "X X X X cat."], c["contextLength"])
        ctx = values("ctx", (4, c["textWidth"]), "random", 0.02, seed).requires_grad_(True)
        emb = model.token_embedding(cids).detach()
        emb = torch.cat([emb[:, :1], ctx.unsqueeze(0).expand(2, -1, -1), emb[:, 5:]], 1)
        wt = values("gradText", (2, c["embedDim"]), "random", 1.0, seed)
        (model.encode_text_embeddings(emb, cids.argmax(-1)) * wt).sum().backward()
        vp = values("visionPrompts", (2, c["visionWidth"]), "random", 0.02, seed).requires_grad_(True)
        vd = values("visionDeep", (2, c["visionWidth"]), "random", 0.02, seed).requires_grad_(True)
        wi = values("gradImage", (2, c["embedDim"]), "random", 1.0, seed)
        (model.visual(px, prompts=vp, deep={1: vd}) * wi).sum().backward()
    return {"ids": cids.tolist(), "ctx": r(ctx.grad), "visionPrompts": r(vp.grad), "visionDeep": r(vd.grad)}


def to_hf(sd, c):
    """OpenAI names -> HuggingFace CLIPModel names (q/k/v split, projections transposed)."""
    hf = OrderedDict()
    for k, v in sd.items():
        m = re.match(r"^(visual\.)?transformer\.resblocks\.(\d+)\.(.*)$", k)
        if m:
            tower = "vision_model" if m.group(1) else "text_model"
            p = "%s.encoder.layers.%s." % (tower, m.group(2))
            rest = m.group(3)
            if rest.startswith("attn.in_proj_"):
                kind = rest.rsplit("_", 1)[1]
                for name, part in zip("qkv", v.chunk(3, 0)):
                    hf[p + "self_attn.%s_proj.%s" % (name, kind)] = part.clone()
                continue
            rest = (rest.replace("attn.out_proj", "self_attn.out_proj").replace("ln_1", "layer_norm1")
                    .replace("ln_2", "layer_norm2").replace("mlp.c_fc", "mlp.fc1").replace("mlp.c_proj", "mlp.fc2"))
            hf[p + rest] = v
            continue
        name = {
            "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
            "positional_embedding": "text_model.embeddings.position_embedding.weight",
            "ln_final.weight": "text_model.final_layer_norm.weight",
            "ln_final.bias": "text_model.final_layer_norm.bias",
            "visual.class_embedding": "vision_model.embeddings.class_embedding",
            "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
            "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
            "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
            "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
            "visual.ln_post.weight": "vision_model.post_layernorm.weight",
            "visual.ln_post.bias": "vision_model.post_layernorm.bias",
            "logit_scale": "logit_scale",
        }.get(k)
        if k == "text_projection":
            hf["text_projection.weight"] = v.t().contiguous()
        elif k == "visual.proj":
            hf["visual_projection.weight"] = v.t().contiguous()
        else:
            hf[name] = v
    hf["text_model.embeddings.position_ids"] = torch.arange(c["contextLength"]).unsqueeze(0)
    return hf


def half_round(sd):
    """OpenAI releases store conv/linear/attention weights and projections in fp16."""
    out = OrderedDict()
    for k, v in sd.items():
        if v.is_floating_point() and ("weight" in k or "bias" in k or k.endswith("proj")) \
                and "ln_" not in k and "bn" not in k and "downsample.2" not in k and "embedding" not in k:
            out[k] = v.half()
        else:
            out[k] = v
    return out


def micro_files(tok):
    from safetensors.torch import save_file
    res = {}
    ids = torch.tensor([[49406 % 64, 5, 9, 63, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 63]])
    # ViT micro: HF-named safetensors stored in fp16 (outputs computed from the rounded weights)
    sd = OrderedDict((k, v.half().float() if v.is_floating_point() else v)
                     for k, v in random_state_dict(MICRO_VIT, 11).items())
    model = build(MICRO_VIT, sd)
    px = pixels("pixels", 2, MICRO_VIT["imageResolution"], 11)
    with torch.no_grad():
        res["microVit"] = {"config": MICRO_VIT, "ids": ids.tolist(), "pixelsName": "pixels", "seed": 11,
                           "image": r(model.encode_image(px)), "text": r(model.encode_text(ids))}
    hf = OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in to_hf(sd, MICRO_VIT).items())
    save_file(hf, os.path.join(OUT, "micro_vit_hf.safetensors"))
    # RN micro: TorchScript archive with fp16 weights and BatchNorm buffers, like the OpenAI .pt
    # files, and the same state dict through torch.save (OrderedDict pickle)
    sd = half_round(random_state_dict(MICRO_RN, 12))
    model = build(MICRO_RN, OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in sd.items()))
    px = pixels("pixels", 2, MICRO_RN["imageResolution"], 12)
    with torch.no_grad():
        res["microRn"] = {"config": MICRO_RN, "ids": ids.tolist(), "pixelsName": "pixels", "seed": 12,
                          "image": r(model.encode_image(px)), "text": r(model.encode_text(ids))}
        traced = torch.jit.trace(model, (px, ids))
    for name, p in traced.named_parameters():
        if sd[name].dtype == torch.float16:
            p.data = p.data.half()
    torch.jit.save(traced, os.path.join(OUT, "micro_rn_torchscript.pt"))
    # torch.save(OrderedDict) with shared storages, strided views, offsets and several dtypes
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sample = OrderedDict([
        ("module.a", base), ("module.t", base.t()), ("module.s", base[1:, 2:]),
        ("module.h", torch.tensor([1.5, -2.25], dtype=torch.float16)),
        ("module.bf", torch.tensor([3.0, -0.5], dtype=torch.bfloat16)),
        ("module.i", torch.tensor([7, -8], dtype=torch.int64)),
        ("module.p", nn.Parameter(torch.tensor([[0.25]])))])
    torch.save(sample, os.path.join(OUT, "torch_save_sample.pt"))
    return res


def tokenizer_goldens(tok):
    sets = []
    for name, classes, templates in prompt_sets():
        prompts = [t.format(c) for t in templates for c in classes]
        ids = [tok.encode(p) for p in prompts]
        sets.append({"dataset": name, "classes": classes, "templates": templates, "ids": ids})
    return sets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vit-b16", action="store_true", help="also write goldens for the full ViT-B/16 geometry (portable weights, outputs only)")
    args = ap.parse_args()
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    tok = Tokenizer()
    golden = {"texts": TEXTS,
              "vit": golden_model(VIT, tok, SEED, True),
              "rn": golden_model(RN, tok, SEED, False)}
    golden.update(micro_files(tok))
    with open(os.path.join(OUT, "clip_golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    with gzip.GzipFile(os.path.join(OUT, "tokenizer_golden.json.gz"), "wb", mtime=0) as f:
        f.write(json.dumps(tokenizer_goldens(tok), separators=(",", ":")).encode("utf-8"))
    if args.vit_b16:
        c = dict(VIT, embedDim=512, imageResolution=224, visionWidth=768, visionLayers=12, visionPatchSize=16,
                 visionHeads=12, textWidth=512, textLayers=12, textHeads=8)
        g = golden_model(c, tok, SEED, False)
        del g["ids"]  # same texts as the tiny goldens
        with gzip.GzipFile(os.path.join(OUT, "clip_golden_vitb16.json.gz"), "wb", mtime=0) as f:
            f.write(json.dumps(g, separators=(",", ":")).encode("utf-8"))
    for fn in sorted(os.listdir(OUT)):
        print("%8d  %s" % (os.path.getsize(os.path.join(OUT, fn)), fn))


if __name__ == "__main__":
    main()
