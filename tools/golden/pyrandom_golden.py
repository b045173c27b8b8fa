#!/usr/bin/env python3
"""Golden values for ai.promptline.ml.data.PyRandom and FewShot, produced by CPython itself.

Usage: python3 tools/golden/pyrandom_golden.py [SHARED_DIR] > ml/src/test/resources/golden/pyrandom.json
Needs CPython 3.11 (random.sample / _randbelow as documented there). The few-shot part re-implements
Dassl's generate_fewshot_dataset (group by label in first-appearance order, random.sample per class,
all items when the class is smaller than K) and runs it on the real CoOp split files.
"""
import json
import random
import sys
from collections import OrderedDict

shared = sys.argv[1] if len(sys.argv) > 1 else "/work/shared"
out = {"python": sys.version.split()[0], "seeds": [], "fewshot": []}

SEEDS = [0, 1, 2, 3, 42, -7, 2**32 - 1, 2**32, 12345678901234567890, 2**100 + 17]
for s in SEEDS:
    r = random.Random(s)
    e = {"seed": str(s)}
    e["getrandbits"] = [[k, str(r.getrandbits(k))] for k in (1, 5, 31, 32, 33, 63, 64, 100)]
    e["random"] = [repr(r.random()) for _ in range(5)]
    e["randbelow"] = [[n, r._randbelow(n)] for n in (1, 2, 3, 10, 1000, 2**31 + 5)]
    # sample: small populations use the pool algorithm, large ones the set algorithm
    e["sample"] = []
    for n, k in ((10, 3), (10, 10), (21, 5), (22, 5), (30, 16), (100, 16), (1000, 4), (5000, 100), (86, 6), (85, 6)):
        e["sample"].append([n, k, r.sample(range(n), k)])
    lst = list(range(20))
    r.shuffle(lst)
    e["shuffle20"] = lst
    e["randrange"] = [r.randrange(10), r.randrange(5, 50), r.randrange(0, 100, 7), r.randrange(50, 0, -3)]
    out["seeds"].append(e)


def fewshot(items, k):
    tracker = OrderedDict()
    for it in items:
        tracker.setdefault(it[1], []).append(it)
    res = []
    for label, group in tracker.items():
        res.extend(random.sample(group, k) if len(group) >= k else group)
    return res


for name in ("EuroSAT", "OxfordPets"):
    with open(f"{shared}/data/coop-splits/split_zhou_{name}.json") as f:
        split = json.load(f)
    for k in (1, 2, 4, 16):
        for seed in (1, 2, 3):
            random.seed(seed)
            train = fewshot(split["train"], k)
            val = fewshot(split["val"], min(k, 4))
            out["fewshot"].append({"dataset": name, "shots": k, "seed": seed,
                                   "train": [t[0] for t in train], "val": [v[0] for v in val]})

json.dump(out, sys.stdout, separators=(",", ":"))
