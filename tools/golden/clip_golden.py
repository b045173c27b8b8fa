#!/usr/bin/env python3
"""Reference outputs for the Java CLIP (ai.promptline.ml.clip), computed by the reference packages.

The model is OpenAI's own `clip.model.CLIP` (pip: openai-clip), and the tokenizer its
`clip.simple_tokenizer.SimpleTokenizer` / `clip.tokenize`; nothing of CLIP is re-implemented here.
Weights come from a portable generator (SplitMix64 per tensor seeded by seed ^ fnv1a64(name),
uniform with the requested std) that ClipWeights.random reproduces bit for bit, so the committed
goldens hold only inputs and outputs. The generated state dict is loaded with
load_state_dict(strict=True) into the reference model, after checking that its key set and shapes
are exactly the reference's, so a naming error on either side fails here.

Prompt hooks are composed from the reference model's own modules, as the prompt-learning
repositories do: CoOp's TextEncoder (KaiyangZhou/CoOp trainers/coop.py: prompts + positional
embedding, transformer, ln_final, EOT row @ text_projection); deep prompts as MaPLe/VPT replace
tokens before a block (muzairkhattak/multimodal-prompt-learning trainers/maple.py); RPO's
read-only mask is set as the blocks' attn_mask (mlvlab/RPO). Each composition is first checked to
reproduce encode_text / encode_image exactly when no hook is used.

Checkpoint files in the real formats are written by tools/golden/clip_formats.py.

Usage:
  .venv/bin/python tools/golden/clip_golden.py            # writes ml/src/test/resources/golden/clip/
  .venv/bin/python tools/golden/clip_golden.py --vit-b16  # also full ViT-B/16 geometry goldens
"""
import argparse
import ast
import gzip
import json
import math
import os
import re
from collections import OrderedDict

import clip
import numpy as np
import torch
from clip.model import CLIP as RefClip
from clip.simple_tokenizer import SimpleTokenizer
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
                    conv(p + "downsample.0", planes * 4, inplanes, 1, s)
                    bn(p + "downsample.1", planes * 4, s)
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

def reference(c, sd):
    """OpenAI's clip.model.CLIP for config c, holding state dict sd (strict), in eval mode."""
    rn = c["visionKind"] != "VIT"
    m = RefClip(c["embedDim"], c["imageResolution"], tuple(c["resnetStages"]) if rn else c["visionLayers"],
                c["visionWidth"], None if rn else c["visionPatchSize"], c["contextLength"], c["vocabSize"],
                c["textWidth"], c["textHeads"], c["textLayers"])
    ref_heads = c["visionWidth"] * 32 // 64 if rn else c["visionWidth"] // 64
    assert ref_heads == c["visionHeads"], "the reference derives %d vision heads" % ref_heads
    want = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in sd.items()}
    assert want == got, "layout differs from the reference: missing %s, unexpected %s, shapes %s" % (
        sorted(set(want) - set(got))[:5], sorted(set(got) - set(want))[:5],
        [(k, want[k], got[k]) for k in want if k in got and want[k] != got[k]][:5])
    m.load_state_dict(sd, strict=True)
    return m.eval()


def build(c, sd):
    return reference(c, sd)


def run_blocks(transformer, x, deep=None, at_end=False, mask=None):
    """The reference resblocks one by one (LND). deep {i: [n, D]} replaces n tokens before block i:
    positions 1..n (text, MaPLe) or the last n (vision, VPT/MaPLe). mask replaces the blocks'
    attn_mask attribute for this call (RPO)."""
    for i, blk in enumerate(transformer.resblocks):
        if deep is not None and i in deep:
            t = deep[i].to(x.dtype).unsqueeze(1).expand(-1, x.shape[1], -1)
            n = t.shape[0]
            x = torch.cat([x[:-n], t], 0) if at_end else torch.cat([x[:1], t, x[1 + n:]], 0)
        saved = blk.attn_mask
        if mask is not None:
            blk.attn_mask = mask
        try:
            x = blk(x)
        finally:
            blk.attn_mask = saved
    return x


def text_from_embeddings(model, x, eot, deep=None, mask=None, readout=None):
    """CoOp's TextEncoder over the reference modules (prompt embeddings in, features out)."""
    x = x.type(model.dtype) + model.positional_embedding[: x.shape[1]].type(model.dtype)
    x = run_blocks(model.transformer, x.permute(1, 0, 2), deep=deep, mask=mask).permute(1, 0, 2)
    x = model.ln_final(x).type(model.dtype)
    if readout is not None:
        return x[torch.arange(x.shape[0])[:, None], readout] @ model.text_projection
    return x[torch.arange(x.shape[0]), eot] @ model.text_projection


def image_with_prompts(model, px, prompts=None, deep=None, mask=None, readout=None):
    """The reference VisionTransformer's steps with VPT/MaPLe prompts appended after the positional
    embedding (before ln_pre) and RPO readout rows."""
    v = model.visual
    x = v.conv1(px.type(model.dtype))
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
    cls = v.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
    x = torch.cat([cls, x], 1) + v.positional_embedding.to(x.dtype)
    if prompts is not None:
        x = torch.cat([x, prompts.to(x.dtype).unsqueeze(0).expand(x.shape[0], -1, -1)], 1)
    x = v.ln_pre(x).permute(1, 0, 2)
    x = run_blocks(v.transformer, x, deep=deep, at_end=True, mask=mask).permute(1, 0, 2)
    rows = x[:, 0, :] if readout is None else x[:, readout, :]
    return v.ln_post(rows) @ v.proj


def check_compositions(model, px, ids):
    """The hook compositions equal the reference encoders when no hook is used."""
    with torch.no_grad():
        t = text_from_embeddings(model, model.token_embedding(ids), ids.argmax(-1))
        assert torch.equal(t, model.encode_text(ids)), "text composition differs from encode_text"
        if model.visual.__class__.__name__ == "VisionTransformer":
            assert torch.equal(image_with_prompts(model, px), model.encode_image(px)), "vision composition differs"


# ----------------------------------------------------------------------------- tokenizer

class Tokenizer:
    """The reference tokenizer (clip.simple_tokenizer), after checking that it uses the same
    vocabulary file as ClipTokenizer."""

    def __init__(self, path=VOCAB):
        ref_vocab = os.path.join(os.path.dirname(clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
        assert open(ref_vocab, "rb").read() == open(path, "rb").read(), "vocabulary differs from the reference"
        self.ref = SimpleTokenizer(ref_vocab)

    def encode(self, text):
        return self.ref.encode(text)

    def tokenize(self, texts, L=77):
        return clip.tokenize(texts, context_length=L)


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
    check_compositions(model, px, ids)
    out = {"config": c, "seed": seed, "pixelsName": "pixels", "numImages": 2}
    with torch.no_grad():
        img = model.encode_image(px)
        txt = model.encode_text(ids)
        logits, _ = model(px, ids)  # logits_per_image
        out.update(ids=ids.tolist(), image=r(img), text=r(txt), logits=r(logits))
        if with_hooks:
            # CoOp: rows 1..4 of the token embedding of "X X X X dog." replaced by ctx, EOT pooling
            cids = tok.tokenize(["X X X X dog."], c["contextLength"])
            ctx = values("ctx", (4, c["textWidth"]), "random", 0.02, seed)
            emb = model.token_embedding(cids)
            emb = torch.cat([emb[:, :1], ctx.unsqueeze(0), emb[:, 5:]], 1)
            out["coop"] = {"ids": cids.tolist(), "ctxName": "ctx", "text": r(text_from_embeddings(model, emb, cids.argmax(-1)))}
            # MaPLe-style deep text prompts: positions 1..2 replaced before layer 1
            deep = values("deepText", (2, c["textWidth"]), "random", 0.02, seed)
            t = text_from_embeddings(model, model.token_embedding(ids), ids.argmax(-1), deep={1: deep})
            out["deepText"] = {"name": "deepText", "text": r(t)}
            # VPT/MaPLe vision: 2 appended prompts, last 2 tokens replaced before layer 1
            vp = values("visionPrompts", (2, c["visionWidth"]), "random", 0.02, seed)
            vd = values("visionDeep", (2, c["visionWidth"]), "random", 0.02, seed)
            out["deepVision"] = {"appended": "visionPrompts", "deep": "visionDeep",
                                 "image": r(image_with_prompts(model, px, prompts=vp, deep={1: vd}))}
            # RPO vision: K appended prompts, columns of the prompts masked, read the prompt rows
            K = 3
            rp = values("rpoPrompts", (K, c["visionWidth"]), "random", 0.5, seed)
            n_tok = (c["imageResolution"] // c["visionPatchSize"]) ** 2 + 1
            mask = torch.zeros(n_tok + K, n_tok + K)
            mask[:, n_tok:] = float("-inf")
            rows = torch.arange(n_tok, n_tok + K)
            out["rpoVision"] = {"prompts": "rpoPrompts", "k": K,
                                "image": r(image_with_prompts(model, px, prompts=rp, mask=mask, readout=rows))}
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
        (text_from_embeddings(model, emb, cids.argmax(-1)) * wt).sum().backward()
        vp = values("visionPrompts", (2, c["visionWidth"]), "random", 0.02, seed).requires_grad_(True)
        vd = values("visionDeep", (2, c["visionWidth"]), "random", 0.02, seed).requires_grad_(True)
        wi = values("gradImage", (2, c["embedDim"]), "random", 1.0, seed)
        (image_with_prompts(model, px, prompts=vp, deep={1: vd}) * wi).sum().backward()
    return {"ids": cids.tolist(), "ctx": r(ctx.grad), "visionPrompts": r(vp.grad), "visionDeep": r(vd.grad)}


def torch_save_sample():
    """torch.save(OrderedDict) with shared storages, strided views, offsets and several dtypes."""
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sample = OrderedDict([
        ("module.a", base), ("module.t", base.t()), ("module.s", base[1:, 2:]),
        ("module.h", torch.tensor([1.5, -2.25], dtype=torch.float16)),
        ("module.bf", torch.tensor([3.0, -0.5], dtype=torch.bfloat16)),
        ("module.i", torch.tensor([7, -8], dtype=torch.int64)),
        ("module.p", nn.Parameter(torch.tensor([[0.25]])))])
    torch.save(sample, os.path.join(OUT, "torch_save_sample.pt"))


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
    torch_save_sample()
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
