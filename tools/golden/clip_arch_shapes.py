#!/usr/bin/env python3
"""State-dict layouts (names and shapes, no values) of every OpenAI CLIP architecture, as the
reference implementations build them, for ClipArchitecturesTest.

For each registered architecture the geometry comes from open_clip's own model config
(open_clip/model_configs/<name>.json), and two reference models are built on the meta device (no
memory is allocated):
  openai:   clip.model.CLIP from OpenAI's `clip` package (pip: openai-clip) -- the layout of the
            released .pt files after build_model();
  openclip: open_clip.model.CLIP with quick_gelu -- the layout of open_clip checkpoints.
Non-persistent buffers are not part of a state dict and are not listed.

Usage:
  .venv/bin/python tools/golden/clip_arch_shapes.py   # writes ml/src/test/resources/golden/clip/clip_arch_shapes.json.gz
"""
import gzip
import json
import os

import clip  # noqa: F401  (OpenAI's package; version recorded below)
import open_clip
import torch
from clip.model import CLIP as OpenAiClip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "ml", "src", "test", "resources", "golden", "clip", "clip_arch_shapes.json.gz")

# registry name -> open_clip config name
ARCHS = {"RN50": "RN50", "RN101": "RN101", "RN50x4": "RN50x4", "RN50x16": "RN50x16", "RN50x64": "RN50x64",
         "ViT-B/32": "ViT-B-32", "ViT-B/16": "ViT-B-16", "ViT-L/14": "ViT-L-14",
         "ViT-L/14@336px": "ViT-L-14-336"}


def shapes(model):
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def main():
    out = {"torch": torch.__version__, "open_clip": open_clip.__version__,
           "clip": "openai-clip " + __import__("importlib.metadata").metadata.version("openai-clip"),
           "architectures": {}}
    for name, oc in ARCHS.items():
        cfg = open_clip.get_model_config(oc)
        v, t = cfg["vision_cfg"], cfg["text_cfg"]
        with torch.device("meta"):
            ref = OpenAiClip(cfg["embed_dim"], v["image_size"], tuple(v["layers"]) if isinstance(v["layers"], list) else v["layers"],
                             v["width"], v.get("patch_size"), t["context_length"], t["vocab_size"], t["width"], t["heads"], t["layers"])
            ocm = open_clip.model.CLIP(cfg["embed_dim"], v, t, quick_gelu=True)
        out["architectures"][name] = {"openclipConfig": oc, "openai": shapes(ref), "openclip": shapes(ocm)}
        print("%-15s %4d tensors (openai)  %4d (open_clip)" % (name, len(out["architectures"][name]["openai"]),
                                                             len(out["architectures"][name]["openclip"])))
    with gzip.GzipFile(OUT, "wb", mtime=0) as f:
        f.write(json.dumps(out, separators=(",", ":")).encode("utf-8"))
    print("%8d  %s" % (os.path.getsize(OUT), OUT))


if __name__ == "__main__":
    main()
