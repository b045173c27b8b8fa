#!/usr/bin/env python3
"""Golden values for ai.promptline.ml.pretrain.ContrastiveStep, computed by the reference model.

A micro CLIP built by the reference package (openai-clip's clip.model.CLIP, with its own
initialize_parameters; ViT 16 px, patch 8, width 64, 1+1 layers, context 16) trains three steps of
CLIP's contrastive objective in PyTorch: symmetric cross-entropy over the batch at
logit_scale.exp(), loss.backward(), torch.optim.AdamW((0.9, 0.98), eps 1e-6) with two parameter
groups (weight decay 0.2 on tensors of rank >= 2 except LayerNorm weights; none on gains, biases,
logit_scale, as open_clip's exclude rule), then logit_scale.clamp_(0, ln 100), with a different
learning rate each step (warm-up then decay).

Edits, each written down: (1) token-embedding rows of ids outside the batch's captions are zeroed
after initialisation (Promptline starts unused rows at zero and trains only the used ones; with
zero rows the full-table AdamW of torch gives the identical result, which this golden checks);
(2) logit_scale starts at ln(100) + 0.02 so the clamp is exercised on the first step.

Writes ml/src/test/resources/golden/pretrain/contrastive_step.safetensors: the initial weights with
the token table stored as its used rows (token_embedding.rows + token_embedding.ids), the batch
(batch.pixels, batch.tokens), the losses (golden.loss), and the weights after the three steps
(prefix after.). Usage: .venv/bin/python tools/golden/pretrain_golden.py
"""
import math
import os

import clip
import torch
import torch.nn.functional as F
from clip.model import CLIP
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "ml", "src", "test", "resources", "golden", "pretrain", "contrastive_step.safetensors")
LRS = [1e-3, 2e-3, 5e-4]

torch.manual_seed(20261201)
model = CLIP(32, 16, 1, 64, 8, 16, 49408, 64, 1, 1).float()
captions = ["a photo of a red circle.", "a small blue striped square", "there is a green star on the left",
            "a blurry photo of a large yellow dotted crescent.", "an image of a black cross", "a pink outlined hexagon"]
tokens = clip.tokenize(captions, context_length=16)
used = sorted(set(tokens.flatten().tolist()) | {0})
with torch.no_grad():
    keep = torch.zeros(49408, dtype=torch.bool)
    keep[used] = True
    model.token_embedding.weight[~keep] = 0
    model.logit_scale.fill_(math.log(100) + 0.02)
pixels = torch.randn(len(captions), 3, 16, 16)


def compact(sd):
    out = {k: v.detach().clone().contiguous() for k, v in sd.items()}
    table = out.pop("token_embedding.weight")
    ids = torch.tensor(used, dtype=torch.int64)
    out["token_embedding.rows"] = table[ids].contiguous()
    out["token_embedding.ids"] = ids
    # every other row must still be zero: the claim that unused rows stay zero
    rest = table.clone()
    rest[ids] = 0
    assert rest.abs().max().item() == 0.0
    return out


tensors = {("init." + k): v for k, v in compact(model.state_dict()).items()}
names = dict(model.named_parameters())
decayed = [p for n, p in names.items() if p.ndim >= 2 and "ln_" not in n]
others = [p for n, p in names.items() if not (p.ndim >= 2 and "ln_" not in n)]
opt = torch.optim.AdamW([{"params": decayed, "weight_decay": 0.2}, {"params": others, "weight_decay": 0.0}],
                        lr=LRS[0], betas=(0.9, 0.98), eps=1e-6)
labels = torch.arange(len(captions))
losses = []
for lr in LRS:
    for g in opt.param_groups:
        g["lr"] = lr
    img = F.normalize(model.encode_image(pixels), dim=-1)
    txt = F.normalize(model.encode_text(tokens), dim=-1)
    logits = model.logit_scale.exp() * img @ txt.t()
    loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
    opt.zero_grad()
    loss.backward()
    if not losses:  # the first step's gradients, for a tight check before AdamW's normalisation
        for n, p in names.items():
            g = p.grad.detach().clone()
            if n == "token_embedding.weight":
                g = g[torch.tensor(used, dtype=torch.int64)]
                n = "token_embedding.rows"
            tensors["grad1." + n] = g.contiguous()
    opt.step()
    with torch.no_grad():
        model.logit_scale.clamp_(0, math.log(100))
    losses.append(loss.item())
tensors.update({("after." + k): v for k, v in compact(model.state_dict()).items()})
tensors["batch.pixels"] = pixels.contiguous()
tensors["batch.tokens"] = tokens.to(torch.int64).contiguous()
tensors["golden.loss"] = torch.tensor(losses, dtype=torch.float32)
tensors["golden.lr"] = torch.tensor(LRS, dtype=torch.float64)
os.makedirs(os.path.dirname(OUT), exist_ok=True)
save_file(tensors, OUT, metadata={"generator": "tools/golden/pretrain_golden.py", "torch": torch.__version__,
                                  "reference": "openai-clip clip.model.CLIP + torch.optim.AdamW"})
print("losses", losses, "->", OUT, os.path.getsize(OUT), "bytes")
