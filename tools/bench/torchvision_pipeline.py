#!/usr/bin/env python3
"""torchvision reference for tools/bench/data_pipeline_bench.sh: the Dassl/CoOp train transform
(RandomResizedCrop(224, BICUBIC), RandomHorizontalFlip, ToTensor, Normalize with CLIP mean/std) in a
DataLoader(batch_size=32, shuffle=True, drop_last=True, num_workers=W) over the same image files the
Java benchmark reads. Prints images/s over EPOCHS passes after one warm-up pass.

Usage: torchvision_pipeline.py DIR WORKERS EPOCHS
"""
import json
import os
import sys
import time

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]


class SplitDataset(Dataset):
    def __init__(self, root):
        with open(os.path.join(root, "split_promptline_Bench.json")) as f:
            self.items = json.load(f)["train"]
        self.root = os.path.join(root, "images")
        self.tf = T.Compose([
            T.RandomResizedCrop(224, scale=(0.08, 1.0), interpolation=T.InterpolationMode.BICUBIC),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize(MEAN, STD),
        ])

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label, _ = self.items[i]
        img = Image.open(os.path.join(self.root, path)).convert("RGB")
        return self.tf(img), label


def worker_init(_):
    torch.set_num_threads(1)


def main():
    root, workers, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(1)
    ds = SplitDataset(root)
    dl = DataLoader(ds, batch_size=32, shuffle=True, drop_last=True, num_workers=workers,
                    worker_init_fn=worker_init, persistent_workers=workers > 0)
    for _ in dl:  # warm-up
        pass
    t0 = time.perf_counter()
    n = 0
    for _ in range(epochs):
        for x, y in dl:
            n += x.shape[0]
    sec = time.perf_counter() - t0
    print(f"torchvision workers={workers} images={n} seconds={sec:.2f} images_per_s={n / sec:.1f}")


if __name__ == "__main__":
    main()
