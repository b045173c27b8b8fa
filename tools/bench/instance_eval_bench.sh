#!/usr/bin/env bash
# Test-time cost of `instance` (top-K averaging over every training image's prompt) vs CoOp (one
# prompt per class), same classes and test batches: random-weight CLIP with ViT-B/16 widths and
# LAYERS blocks per tower, fp32. A benchmark, not a test.
#   LAYERS=2 CLASSES=100 SHOTS=16 TEST_BATCH=100 BATCHES=5 THREADS=2 tools/bench/instance_eval_bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
LAYERS=${LAYERS:-2}
CLASSES=${CLASSES:-100}
SHOTS=${SHOTS:-16}
TEST_BATCH=${TEST_BATCH:-100}
BATCHES=${BATCHES:-5}
THREADS=${THREADS:-2}
./mvnw -o -q -pl ml compile dependency:build-classpath -Dmdep.outputFile=target/method-bench.cp -Dmdep.includeScope=runtime
CP="ml/target/classes:$(cat ml/target/method-bench.cp)"
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
OUT=$(java -Xmx4g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" tools/bench/instance_eval_bench_djl.java \
  "$LAYERS" "$CLASSES" "$SHOTS" "$TEST_BATCH" "$BATCHES" "$THREADS")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "$OUT"
python3 - "$OUT" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
c, i = r["coop"], r["instance"]
print(f"Evaluation, {r['classes']} classes, {r['shots']} shots ({r['classes'] * r['shots']} instance prompts), "
      f"test batch {r['test_batch']}, {r['batches']} batches, {r['layers']} block(s) per tower, {r['threads']} threads")
print("| | CoOp | instance | instance / CoOp |")
print("|---|---|---|---|")
for k, label in [("first_batch_ms", "first test batch, ms"), ("later_batch_ms_median", "each later test batch (median), ms"),
                 ("total_ms", f"bind + {r['batches']} batches, ms"), ("prompts_encoded", "text prompts encoded")]:
    print(f"| {label} | {c[k]:.1f} | {i[k]:.1f} | {i[k] / c[k]:.2f} |")
PY
