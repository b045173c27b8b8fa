#!/usr/bin/env python3
"""Golden values for the training-loop pieces, computed by PyTorch itself.

Writes ml/src/test/resources/golden/train/train.json, read by
ml/src/test/java/ai/promptline/ml/train/SgdGoldenTest.java:

* ``sgd``: torch.optim.SGD (momentum 0.9 / 0, weight decay 5e-4, dampening 0, no Nesterov) on a
  small quadratic loss ``sum(0.5 * a * (p - t)^2)`` over two parameters, with the learning rate
  changed between steps; the parameters after every step.
* ``schedule``: the learning rate of every epoch under Dassl's ConstantWarmupScheduler
  (constant ``cons_lr`` for ``warmup`` epochs) wrapping torch's own CosineAnnealingLR(T_max =
  epochs), stepped once per epoch. The wrapper is written here from its documented behaviour
  (methods.md §1.7); the cosine is torch's recursive implementation, not a closed form.
* ``cross_entropy``: F.cross_entropy (mean) and its gradient for fixed logits and targets.

Usage: python tools/golden/train_golden.py [output.json]   (needs torch; CPU is enough)
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else "ml/src/test/resources/golden/train/train.json"


def values(n, a, b):
    """Deterministic, non-trivial float32 values without any RNG."""
    return [round(math.sin(a * (i + 1)) * b + 0.1 * math.cos(3.7 * i), 6) for i in range(n)]


def sgd_case(momentum, weight_decay, lrs):
    shapes = [[2, 3], [4]]
    init = [values(6, 1.3, 0.8), values(4, 0.7, 1.5)]
    target = [values(6, 2.1, 0.5), values(4, 0.4, -0.9)]
    curv = [[0.5 + 0.25 * i for i in range(6)], [2.0, 0.3, 1.1, 4.0]]
    params = [torch.tensor(v, dtype=torch.float32).reshape(s).requires_grad_(True) for v, s in zip(init, shapes)]
    ts = [torch.tensor(v, dtype=torch.float32).reshape(s) for v, s in zip(target, shapes)]
    cs = [torch.tensor(v, dtype=torch.float32).reshape(s) for v, s in zip(curv, shapes)]
    opt = torch.optim.SGD(params, lr=lrs[0], momentum=momentum, weight_decay=weight_decay, dampening=0, nesterov=False)
    steps = []
    for lr in lrs:
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss = sum((0.5 * c * (p - t) ** 2).sum() for p, t, c in zip(params, ts, cs))
        loss.backward()
        opt.step()
        steps.append({"lr": lr, "loss": loss.item(), "params": [p.detach().reshape(-1).tolist() for p in params]})
    return {
        "momentum": momentum,
        "weight_decay": weight_decay,
        "shapes": shapes,
        "init": init,
        "target": target,
        "curvature": curv,
        "steps": steps,
    }


class ConstantWarmup:
    """Dassl's constant warm-up in front of a successor scheduler, from its documented behaviour:
    during the first ``warmup`` epochs the LR is ``cons_lr``; from then on the successor (built
    first, so the optimiser's LR starts at the base LR in its eyes) is stepped once per epoch."""

    def __init__(self, opt, successor, warmup, cons_lr):
        self.opt, self.successor, self.warmup, self.cons_lr = opt, successor, warmup, cons_lr
        self.epoch = 0
        self._set(cons_lr if warmup > 0 else successor.get_last_lr()[0])

    def _set(self, lr):
        for g in self.opt.param_groups:
            g["lr"] = lr

    def step(self):
        if self.epoch >= self.warmup:
            self.successor.step()
        else:
            self.epoch += 1
            self._set(self.cons_lr if self.epoch < self.warmup else self.successor.get_last_lr()[0])


def schedule_case(base_lr, epochs, warmup=1, cons_lr=1e-5):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9, weight_decay=5e-4)
    sched = ConstantWarmup(opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs), warmup, cons_lr)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])  # the LR every batch of this epoch uses
        opt.step()  # (no grad: a no-op, keeps torch from warning about the call order)
        sched.step()
    return {"base_lr": base_lr, "epochs": epochs, "warmup": warmup, "cons_lr": cons_lr, "lrs": lrs}


def cross_entropy_case():
    logits = torch.tensor([values(4, 0.9, 3.0), values(4, 1.7, 2.0), values(4, 0.2, 5.0)], dtype=torch.float32,
                          requires_grad=True)
    target = torch.tensor([2, 0, 3])
    loss = F.cross_entropy(logits, target)
    loss.backward()
    return {"logits": logits.detach().tolist(), "target": target.tolist(), "loss": loss.item(),
            "grad": logits.grad.tolist()}


def main():
    torch.set_grad_enabled(True)
    lrs = [0.1, 0.1, 0.05, 0.2, 0.0, 1e-5, 0.3, 0.01]
    golden = {
        "torch": torch.__version__,
        "sgd": [sgd_case(0.9, 5e-4, lrs), sgd_case(0.0, 5e-4, lrs), sgd_case(0.9, 0.0, lrs[::-1])],
        "schedule": [schedule_case(0.002, 10), schedule_case(0.0035, 5), schedule_case(0.01, 15),
                     schedule_case(0.002, 200), schedule_case(0.1, 4, warmup=2, cons_lr=1e-3)],
        "cross_entropy": cross_entropy_case(),
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
