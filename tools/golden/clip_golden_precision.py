#!/usr/bin/env python3
"""Low-precision reference outputs for the Java CLIP (ai.promptline.ml.clip.Precision).

Reuses the reference model (OpenAI's clip.model.CLIP) and portable weights of clip_golden.py and
applies the reference recipe: clip.model.convert_weights for fp16. For bf16 the reference has no
switch (convert_weights hard-codes .half()), so the tensors that convert_weights casts are found
by running it on a copy, and exactly those are cast from fp32 to bfloat16 (one rounding, as
convert_weights would with .bfloat16()). The reference LayerNorm subclass computes in fp32 and
casts back; embeddings and masks are cast to the model dtype by the reference code. Records, for
the tiny ViT and the tiny ModifiedResNet of clip_golden.py and the same inputs, torch-on-CPU
outputs:
  dtypes: the in-memory dtype of every state-dict entry after convert_weights,
  image/text: features (cast to fp32 for the file),
  logits: exp(logit_scale) * cos in fp32 from those features (what ClipModel.logits computes),
  logitsInDtype: the reference forward's own logits, normalised and multiplied in fp16/bf16,
  coop (ViT only): text features of "X X X X dog." with rows 1..4 replaced by the fp32 ctx cast to
  the model dtype (what ClipModel does at the splice).

Usage:
  .venv/bin/python tools/golden/clip_golden_precision.py  # writes ml/src/test/resources/golden/clip/clip_golden_precision.json
"""
import json
import os
import sys

import copy

import torch
from clip.model import convert_weights

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_golden as g  # noqa: E402

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def converted(model, dtype):
    """The reference convert_weights; for bf16 the same tensors, cast from fp32 to bfloat16."""
    if dtype == torch.float16:
        convert_weights(model)
        return model
    probe = copy.deepcopy(model)
    convert_weights(probe)
    halves = {n for n, t in probe.state_dict().items() if t.dtype == torch.float16}
    for n, t in model.named_parameters():
        if n in halves:
            t.data = t.data.to(dtype)
    assert {n for n, t in model.state_dict().items() if t.dtype == dtype} == halves
    return model


def outputs(c, tok, dtype, with_coop):
    model = converted(g.build(c, g.random_state_dict(c, g.SEED)), dtype)
    ids = tok.tokenize(g.TEXTS, c["contextLength"])
    px = g.pixels("pixels", 2, c["imageResolution"], g.SEED)
    out = {"dtypes": {k: str(v.dtype).replace("torch.", "") for k, v in model.state_dict().items()}}
    with torch.no_grad():
        img = model.encode_image(px)
        txt = model.encode_text(ids)
        assert img.dtype == dtype and txt.dtype == dtype
        # Promptline keeps similarities in fp32 (features leave the towers as fp32); the reference's
        # own forward normalises and multiplies in the model dtype: both are recorded
        f, t = img.float(), txt.float()
        fp32_logits = model.logit_scale.exp() * (f / f.norm(dim=1, keepdim=True)) @ (t / t.norm(dim=1, keepdim=True)).t()
        out.update(image=g.r(f), text=g.r(t), logits=g.r(fp32_logits), logitsInDtype=g.r(model(px, ids)[0].float()))
        if with_coop:
            cids = tok.tokenize(["X X X X dog."], c["contextLength"])
            ctx = g.values("ctx", (4, c["textWidth"]), "random", 0.02, g.SEED).to(dtype)
            emb = model.token_embedding(cids).type(dtype)
            emb = torch.cat([emb[:, :1], ctx.unsqueeze(0), emb[:, 5:]], 1)
            out["coop"] = g.r(g.text_from_embeddings(model, emb, cids.argmax(-1)).float())
    return out


def main():
    torch.manual_seed(0)
    tok = g.Tokenizer()
    golden = {"torch": torch.__version__, "texts": g.TEXTS, "seed": g.SEED}
    for key, c in (("vit", g.VIT), ("rn", g.RN)):
        golden[key] = {"config": c}
        for label, dtype in DTYPES.items():
            golden[key][label] = outputs(c, tok, dtype, key == "vit")
    path = os.path.join(g.OUT, "clip_golden_precision.json")
    with open(path, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print("%8d  %s" % (os.path.getsize(path), path))


if __name__ == "__main__":
    main()
