#!/usr/bin/env bash
# Contrastive pretraining step of the tiny CLIP: Promptline (Java, DJL + PyTorch engine, the real
# ClipPretrainer) vs the same model in PyTorch eager (reference clip.model.CLIP), same machine and
# thread count. Median wall time per step after 2 warm-up steps, and the ratio. Not a test.
#   STEPS=12 BATCH=256 THREADS=2 tools/bench/pretrain_bench.sh
# Creates .venv with torch==2.7.1 on first use (tools/bench/ensure_venv.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${STEPS:-12}
BATCH=${BATCH:-256}
THREADS=${THREADS:-2}
./mvnw -o -q -pl ml compile dependency:build-classpath -Dmdep.outputFile=target/pretrain-bench.cp -Dmdep.includeScope=runtime
CP="ml/target/classes:$(cat ml/target/pretrain-bench.cp)"
PY=$(tools/bench/ensure_venv.sh)
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
J=$(java -Xmx4g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" tools/bench/pretrain_bench_djl.java "$STEPS" "$BATCH" | grep '^{"impl"' | tail -1)
R=$("$PY" tools/bench/pretrain_bench_reference.py "$STEPS" "$BATCH" "$THREADS" | grep '^{"impl"' | tail -1)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$PY" - "$J" "$R" "$THREADS" <<'PY'
import json, sys
j, r, threads = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
print(f"tiny CLIP pretraining step, batch {j['batch']}, {threads} threads, median of {j['steps'] - 2} steps")
print(f"{'':12} {'s/step':>8} {'images/s':>9}")
print(f"{'Promptline':12} {j['median_step_s']:8.3f} {j['images_per_s']:9.1f}")
print(f"{'PyTorch':12} {r['median_step_s']:8.3f} {r['images_per_s']:9.1f}   (torch {r['torch']}, eager)")
print(f"ratio Promptline / PyTorch step time: {j['median_step_s'] / r['median_step_s']:.2f}")
PY
