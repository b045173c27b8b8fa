#!/usr/bin/env python3
"""Throughput of the reference PyTorch CLIP (eager; fp32, or fp16/bf16 via convert_weights) with
ViT-B/16 geometry; one JSON line."""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from clip_golden import CLIP, VIT, Tokenizer, convert_weights  # noqa: E402


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
    c = dict(VIT, embedDim=512, imageResolution=224, visionWidth=768, visionLayers=12, visionPatchSize=16,
             visionHeads=12, textWidth=512, textLayers=12, textHeads=8)
    model = CLIP(c).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    if precision != "fp32":
        convert_weights(model, {"fp16": torch.float16, "bf16": torch.bfloat16}[precision])
    px = torch.randn(img_batch, 3, 224, 224)
    tok = Tokenizer()
    texts = ["a photo of a %s number %d." % ("dog" if i % 2 == 0 else "small red car", i) for i in range(txt_batch)]
    ids = tok.tokenize(texts)
    with torch.inference_mode():
        img = median_time(lambda: model.encode_image(px), iters)
        txt = median_time(lambda: model.encode_text(ids), iters)
    print(json.dumps({"impl": "pytorch", "images_per_s": round(img_batch / img, 3),
                      "sequences_per_s": round(txt_batch / txt, 3), "img_batch": img_batch,
                      "txt_batch": txt_batch, "precision": precision, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
