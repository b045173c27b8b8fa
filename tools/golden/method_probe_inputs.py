#!/usr/bin/env python3
"""Shared inputs of the method parity goldens (ml/src/test/resources/golden/methods/): a tiny CLIP
that the reference repositories' own `clip` copies load, four images, class names and targets.

The model is OpenAI's clip.model.CLIP (pip: openai-clip) with ViT geometry small enough for CI
(32 px, patch 8 -> 16 patches + CLS, width 64 = 1 head, 3 layers per tower, embed 32) and the real
77 x 49408 text interface, so every reference tokenizer and prompt construction works unchanged.
Weights: reference init, with norms, biases and every used token-embedding row randomised; the
rows of tokens no golden uses stay zero, and the file stores only the used rows
(tiny_clip_compact.safetensors; tests expand it to the full checkpoint, bit for bit).

The method goldens themselves are produced by running the reference repositories' code
(KaiyangZhou/CoOp, muzairkhattak/multimodal-prompt-learning, mlvlab/RPO) on these inputs outside
this repository; only their numbers are committed (see EDITS.md next to them).

Usage: .venv/bin/python tools/golden/method_probe_inputs.py
"""
import json
import os

import clip
import numpy as np
import torch
from clip.model import CLIP
from PIL import Image
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "ml", "src", "test", "resources", "golden", "methods")
CLASSES = ["cat", "dog", "red car", "sunflower field"]
TARGETS = [3, 0, 1, 2]
# every word any method's prompt may contain; their token rows get random values
WORDS = ("a photo of a X . , _ centered satellite the itap " + " ".join(CLASSES)).split()


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261201)
    g = torch.Generator().manual_seed(20261201)
    m = CLIP(32, 32, 3, 64, 8, 77, 49408, 64, 1, 3).eval()
    keep = {49406, 49407, 0}
    for w in WORDS + [" ".join(CLASSES)]:
        keep.update(int(t) for t in clip.tokenize([w])[0] if t != 0)
    with torch.no_grad():
        for name, t in m.state_dict().items():
            leaf = name.rsplit(".", 1)[-1]
            if "ln_" in name and leaf == "weight":
                t.copy_(1 + 0.2 * torch.rand(t.shape, generator=g))
            elif leaf == "bias" or "ln_" in name:
                t.copy_(0.1 * torch.randn(t.shape, generator=g))
        emb = m.token_embedding.weight
        rows = torch.tensor(sorted(keep))
        mask = torch.zeros(emb.shape[0], dtype=torch.bool)
        mask[rows] = True
        emb[~mask] = 0
        emb[rows] = 0.02 * torch.randn(len(rows), emb.shape[1], generator=g)
    # stored compactly: the token embedding as its non-zero rows (tests expand it to the full
    # 49408 x 64 table the reference code loads; every other row is zero)
    sd = {k: v.contiguous() for k, v in m.state_dict().items()}
    table = sd.pop("token_embedding.weight")
    ids = torch.tensor(sorted(keep), dtype=torch.int64)
    sd["token_embedding.ids"] = ids
    sd["token_embedding.rows"] = table[ids].contiguous()
    save_file(sd, os.path.join(OUT, "tiny_clip_compact.safetensors"),
              metadata={"token_embedding.vocab": str(table.shape[0])})
    rng = np.random.default_rng(7)
    names = []
    for i in range(4):
        yy, xx = np.mgrid[0:32, 0:32]
        base = np.stack([(xx * (3 + i) + yy * 5) % 256, (yy * (7 - i) + 40 * i) % 256, (xx * yy + 60 * i) % 256], -1)
        img = np.clip(base + rng.integers(-30, 30, base.shape), 0, 255).astype(np.uint8)
        names.append("img%d.png" % i)
        Image.fromarray(img, "RGB").save(os.path.join(OUT, names[-1]))
    with open(os.path.join(OUT, "inputs.json"), "w") as f:
        json.dump({"weights": "tiny_clip.safetensors", "images": names, "classes": CLASSES, "targets": TARGETS,
                   "keptTokenIds": sorted(keep), "lr": 0.05, "momentum": 0.9, "weightDecay": 5e-4, "steps": 3,
                   "config": {"embedDim": 32, "imageResolution": 32, "visionLayers": 3, "visionWidth": 64,
                              "patch": 8, "textWidth": 64, "textHeads": 1, "textLayers": 3}}, f, indent=1)
    for fn in sorted(os.listdir(OUT)):
        print("%9d  %s" % (os.path.getsize(os.path.join(OUT, fn)), fn))


if __name__ == "__main__":
    main()
