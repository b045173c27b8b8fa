#!/usr/bin/env python3
"""Golden values for ai.promptline.ml.train.AdamW, computed by torch.optim.AdamW itself.

Cases on the quadratic loss sum(0.5 * a * (p - t)^2) over two parameters (the same problem as
train_golden.py's SGD cases), with the learning rate changed between steps as a warm-up + cosine
schedule does, plus one parameter that never receives a gradient (AdamW must leave it alone: no
decoupled weight decay without a gradient). Records the parameters after every step.

Usage: .venv/bin/python tools/golden/adamw_golden.py   # writes ml/src/test/resources/golden/train/adamw.json
"""
import json
import math
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "ml", "src", "test", "resources", "golden", "train", "adamw.json")


def values(n, a, b):
    return [round(math.sin(a * (i + 1)) * b + 0.1 * math.cos(3.7 * i), 6) for i in range(n)]


def case(betas, eps, weight_decay, lrs):
    shapes = [[2, 3], [4], [3]]
    init = [values(6, 1.3, 0.8), values(4, 0.7, 1.5), values(3, 0.2, 2.0)]
    target = [values(6, 2.1, 0.5), values(4, 0.4, -0.9)]
    curv = [[0.5 + 0.25 * i for i in range(6)], [2.0, 0.3, 1.1, 4.0]]
    params = [torch.tensor(v, dtype=torch.float32).reshape(s).requires_grad_(True) for v, s in zip(init, shapes)]
    ts = [torch.tensor(v, dtype=torch.float32).reshape(s) for v, s in zip(target, shapes)]
    cs = [torch.tensor(v, dtype=torch.float32).reshape(s) for v, s in zip(curv, shapes)]
    opt = torch.optim.AdamW(params, lr=lrs[0], betas=betas, eps=eps, weight_decay=weight_decay)
    steps = []
    for lr in lrs:
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss = sum((0.5 * c * (p - t) ** 2).sum() for p, t, c in zip(params[:2], ts, cs))  # params[2] unused
        loss.backward()
        opt.step()
        steps.append({"lr": lr, "loss": loss.item(), "params": [p.detach().reshape(-1).tolist() for p in params]})
    return {"betas": list(betas), "eps": eps, "weightDecay": weight_decay, "shapes": shapes, "init": init,
            "target": target, "curvature": curv, "steps": steps}


def main():
    warm_cos = [5e-4 * (i + 1) / 3 for i in range(3)] + [0.5 * 5e-4 * (1 + math.cos(math.pi * i / 6)) for i in range(7)]
    golden = {"torch": torch.__version__,
              "cases": [case((0.9, 0.98), 1e-6, 0.2, warm_cos),     # CLIP's recipe
                        case((0.9, 0.999), 1e-8, 0.01, [0.1] * 6),  # torch defaults, large steps
                        case((0.8, 0.9), 1e-3, 0.0, [0.05, 0.01, 0.2, 0.05])]}
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
    print(OUT)


if __name__ == "__main__":
    main()
