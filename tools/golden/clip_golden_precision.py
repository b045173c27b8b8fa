#!/usr/bin/env python3
"""Low-precision reference outputs for the Java CLIP (ai.promptline.ml.clip.Precision).

Reuses the reference model and portable weights of clip_golden.py, applies the reference recipe
(convert_weights to fp16 or bf16; the LayerNorm subclass computes in fp32 and casts back;
embeddings and masks cast to the model dtype) and records, for the tiny ViT and the tiny
ModifiedResNet of clip_golden.py and the same inputs, torch-on-CPU outputs:
  dtypes: the in-memory dtype of every state-dict entry after convert_weights,
  image/text: features (cast to fp32 for the file), logits,
  coop (ViT only): text features of "X X X X dog." with rows 1..4 replaced by the fp32 ctx cast to
  the model dtype (what ClipModel does at the splice).

Usage:
  .venv/bin/python tools/golden/clip_golden_precision.py  # writes ml/src/test/resources/golden/clip/clip_golden_precision.json
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_golden as g  # noqa: E402

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def outputs(c, tok, dtype, with_coop):
    model = g.convert_weights(g.build(c, g.random_state_dict(c, g.SEED)), dtype)
    ids = tok.tokenize(g.TEXTS, c["contextLength"])
    px = g.pixels("pixels", 2, c["imageResolution"], g.SEED)
    out = {"dtypes": {k: str(v.dtype).replace("torch.", "") for k, v in model.state_dict().items()}}
    with torch.no_grad():
        img = model.encode_image(px)
        txt = model.encode_text(ids)
        assert img.dtype == dtype and txt.dtype == dtype
        out.update(image=g.r(img.float()), text=g.r(txt.float()), logits=g.r(model(px, ids).float()))
        if with_coop:
            cids = tok.tokenize(["X X X X dog."], c["contextLength"])
            ctx = g.values("ctx", (4, c["textWidth"]), "random", 0.02, g.SEED).to(dtype)
            emb = model.token_embedding(cids).type(dtype)
            emb = torch.cat([emb[:, :1], ctx.unsqueeze(0), emb[:, 5:]], 1)
            out["coop"] = g.r(model.encode_text_embeddings(emb, cids.argmax(-1)).float())
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
