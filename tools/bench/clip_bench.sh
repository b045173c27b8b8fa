#!/usr/bin/env bash
# CLIP encoder throughput: Java (DJL + PyTorch engine) vs reference PyTorch eager, ViT-B/16 geometry,
# random weights, same precision, thread count and batch sizes. A benchmark, not a test.
#   THREADS=2 IMG_BATCH=8 TXT_BATCH=32 ITERS=3 PRECISION=fp32 tools/bench/clip_bench.sh
# PRECISION=fp16|bf16: both sides use the reference convert_weights recipe (Java bf16 is emulated
# in fp32 storage, see ml/.../clip/README.md, so its bf16 timing is not a bf16-kernel timing).
# Creates .venv with torch==2.7.1 on first use (tools/bench/ensure_venv.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${THREADS:-2}
IMG_BATCH=${IMG_BATCH:-8}
TXT_BATCH=${TXT_BATCH:-32}
ITERS=${ITERS:-3}
PRECISION=${PRECISION:-fp32}
./mvnw -o -q -pl ml compile dependency:build-classpath -Dmdep.outputFile=target/clip-bench.cp -Dmdep.includeScope=runtime
CP="ml/target/classes:$(cat ml/target/clip-bench.cp)"
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
java -Xmx6g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" tools/bench/clip_bench_djl.java "$IMG_BATCH" "$TXT_BATCH" "$ITERS" "$PRECISION"
PY=$(tools/bench/ensure_venv.sh)
"$PY" tools/bench/clip_bench.py "$IMG_BATCH" "$TXT_BATCH" "$ITERS" "$THREADS" "$PRECISION"
