#!/usr/bin/env python3
"""Golden values for ai.promptline.ml.data.image.Transforms.test(), produced with Pillow + numpy.

Usage (from the repo root, in a venv with pillow and numpy):
  .venv/bin/python tools/golden/pil_transforms_golden.py ml/src/test/resources/golden/pil
Writes the source images (PNG) and pil_transforms.json with the expected normalised CHW tensors.
The transform is torchvision's test pipeline re-stated with PIL only (torch is not needed):
Resize(size) on the shorter side with BICUBIC (long side = int(size * long / short)),
CenterCrop(size) with int(round((dim - size) / 2)), ToTensor (float32 / 255), Normalize (float32).
"""
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def make(w, h, seed, mode="RGB"):
    rs = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), ((xx + yy) * 7) % 256], -1)
    noise = rs.randint(-40, 41, size=(h, w, 3))
    arr = np.clip(base + noise, 0, 255).astype(np.uint8)
    arr[h // 3: h // 2, w // 4: w // 2] = [250, 20, 30]  # a hard-edged block
    img = Image.fromarray(arr, "RGB")
    if mode == "L":
        img = img.convert("L")
    elif mode == "RGBA":
        a = rs.randint(0, 256, size=(h, w)).astype(np.uint8)
        img = Image.fromarray(np.dstack([arr, a]), "RGBA")
    elif mode in ("CMYK", "P"):
        img = img.convert(mode)  # CMYK is saved as an Adobe (inverted) JPEG; P as a palette PNG
    return img


def test_transform(img, size):
    img = img.convert("RGB")
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), Image.BICUBIC)
    top = int(round((new_h - size) / 2.0))
    left = int(round((new_w - size) / 2.0))
    img = img.crop((left, top, left + size, top + size))
    x = np.asarray(img).astype(np.float32) / np.float32(255)
    x = (x - MEAN) / STD
    return x.transpose(2, 0, 1).astype(np.float32)


cases = [
    ("down_wide", 50, 37, "RGB", 32),
    ("down_tall", 37, 61, "RGB", 32),
    ("up_small", 20, 15, "RGB", 32),
    ("square_same", 64, 64, "RGB", 64),
    ("square_down", 96, 96, "RGB", 64),
    ("gray", 40, 30, "L", 32),
    ("rgba", 33, 35, "RGBA", 32),
    ("odd_crop", 45, 33, "RGB", 32),
    ("big", 300, 200, "RGB", 224),
    ("cmyk", 48, 40, "CMYK", 32),
    ("gray_jpeg", 41, 37, "L", 32),
    ("palette", 36, 44, "P", 32),
]
result = {"pillow": PIL.__version__, "cases": []}
for i, (name, w, h, mode, size) in enumerate(cases):
    img = make(w, h, i + 1, mode)
    fname = f"{name}.jpg" if name in ("cmyk", "gray_jpeg") else f"{name}.png"
    img.save(os.path.join(out_dir, fname), **({"quality": 95} if fname.endswith(".jpg") else {}))
    img = Image.open(os.path.join(out_dir, fname))  # transform what a reader decodes from disk
    t = test_transform(img, size)
    flat = t.reshape(-1)
    entry = {"file": fname, "size": size, "sum": float(flat.astype(np.float64).sum())}
    if size <= 64:
        entry["values"] = [round(float(v), 6) for v in flat]
    else:
        idx = list(range(0, flat.size, 97))
        entry["probe_stride"] = 97
        entry["probe"] = [round(float(flat[j]), 6) for j in idx]
    result["cases"].append(entry)

# RandomResizedCrop's deterministic part: F.resized_crop(img, top, left, h, w, [size, size], BICUBIC)
# = img.crop((left, top, left + w, top + h)).resize((size, size), BICUBIC), then ToTensor/Normalize.
big = Image.open(os.path.join(out_dir, "big.png")).convert("RGB")
result["resized_crops"] = []
for top, left, h, w, size in ((13, 27, 150, 170, 48), (0, 0, 200, 300, 32), (190, 290, 10, 10, 24)):
    c = big.crop((left, top, left + w, top + h)).resize((size, size), Image.BICUBIC)
    x = (np.asarray(c).astype(np.float32) / np.float32(255) - MEAN) / STD
    flat = x.transpose(2, 0, 1).reshape(-1)
    result["resized_crops"].append({"file": "big.png", "box": [top, left, h, w], "size": size,
                                    "values": [round(float(v), 6) for v in flat]})

with open(os.path.join(out_dir, "pil_transforms.json"), "w") as f:
    json.dump(result, f, separators=(",", ":"))
print("wrote", len(cases), "cases to", out_dir)
