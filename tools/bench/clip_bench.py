#!/usr/bin/env python3
"""Throughput of the reference CLIP -- OpenAI's own clip.model.CLIP from the `clip` package
(pip: openai-clip), eager PyTorch; fp32, fp16 via the reference convert_weights, bf16 via the same
tensors cast to bfloat16 -- with ViT-B/16 geometry and random weights; one JSON line."""
import json
import os
import sys
import time

import clip
import torch
from clip.model import CLIP

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from clip_golden_precision import converted  # noqa: E402


def median_time(fn, iters):
    fn()
    ts = []
    for _ in range(iters):
        s = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - s)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    img_batch, txt_batch, iters, threads = (int(a) for a in sys.argv[1:5])
    precision = sys.argv[5] if len(sys.argv) > 5 else "fp32"
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    # ViT-B/16: embed 512, 224 px, 12 layers, width 768, patch 16; text 77 x 49408, width 512, 8 heads, 12 layers
    model = CLIP(512, 224, 12, 768, 16, 77, 49408, 512, 8, 12).eval()  # reference initialize_parameters
    if precision != "fp32":
        converted(model, {"fp16": torch.float16, "bf16": torch.bfloat16}[precision])
    px = torch.randn(img_batch, 3, 224, 224)
    texts = ["a photo of a %s number %d." % ("dog" if i % 2 == 0 else "small red car", i) for i in range(txt_batch)]
    ids = clip.tokenize(texts)
    with torch.inference_mode():
        img = median_time(lambda: model.encode_image(px), iters)
        txt = median_time(lambda: model.encode_text(ids), iters)
    print(json.dumps({"impl": "openai-clip (clip.model.CLIP)", "images_per_s": round(img_batch / img, 3),
                      "sequences_per_s": round(txt_batch / txt, 3), "img_batch": img_batch,
                      "txt_batch": txt_batch, "precision": precision, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
