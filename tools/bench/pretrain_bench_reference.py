"""Reference side of tools/bench/pretrain_bench.sh: one contrastive pretraining step of the same
tiny CLIP in PyTorch eager, built with the reference package (openai-clip's clip.model.CLIP, whose
initialize_parameters is the recipe's init): symmetric cross-entropy over the batch, AdamW
(0.9, 0.98, eps 1e-6) with weight decay on matrices/embeddings only, logit scale clamp at ln 100.
Inputs are random tensors (the Java side also renders its corpus, on a background thread), so
the comparison is conservative for Promptline. Prints one JSON line. Not a test."""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from clip.model import CLIP

steps, batch, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
# PretrainConfig.tinyClip(): embed 128, 48 px, 3 vision layers, width 128, patch 8, context 32,
# vocab 49408, text width 128, 2 heads, 3 text layers
model = CLIP(128, 48, 3, 128, 8, 32, 49408, 128, 2, 3).float()
decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "ln_" not in n and not n.endswith("bias") and n != "logit_scale"]
no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "ln_" not in n and not n.endswith("bias") and n != "logit_scale")]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.2}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=1e-3, betas=(0.9, 0.98), eps=1e-6)
images = torch.randn(batch, 3, 48, 48)
tokens = torch.randint(1, 400, (batch, 32))
tokens[:, 0] = 49406
tokens[:, 14] = 49407
tokens[:, 15:] = 0
labels = torch.arange(batch)
times = []
for _ in range(steps):
    t0 = time.perf_counter()
    img = F.normalize(model.encode_image(images), dim=-1)
    txt = F.normalize(model.encode_text(tokens), dim=-1)
    logits = model.logit_scale.exp() * img @ txt.t()
    loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
    opt.zero_grad(set_to_none=False)
    loss.backward()
    opt.step()
    with torch.no_grad():
        model.logit_scale.clamp_(0, math.log(100))
    times.append(time.perf_counter() - t0)
warm = sorted(times[min(2, len(times) - 1):])
median = warm[len(warm) // 2]
print(json.dumps({"impl": "reference", "steps": steps, "batch": batch, "median_step_s": round(median, 4),
                  "images_per_s": round(batch / median, 1), "torch": torch.__version__}))
