#!/usr/bin/env bash
# Decoded+augmented images/s at 224x224: Java BatchLoader (1 and 2 threads) vs torchvision
# DataLoader (1 and 2 workers) on the same synthetic files (~N images of ~SIZE px, half PNG, half JPEG).
# Usage: tools/bench/data_pipeline_bench.sh [N=320] [SIZE=400] [EPOCHS=2]
# Creates .venv with torch/torchvision/pillow on first use (tools/bench/ensure_venv.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-320}; SIZE=${2:-400}; EPOCHS=${3:-2}
OUT=bench-results/data-pipeline
mkdir -p "$OUT"
./mvnw -o -q -pl ml test-compile
CP_FILE="$OUT/classpath.txt"
./mvnw -o -q -pl ml dependency:build-classpath -Dmdep.outputFile="$PWD/$CP_FILE" -Dmdep.includeScope=test >/dev/null
CP="ml/target/classes:ml/target/test-classes:$(cat "$CP_FILE")"
MAIN=ai.promptline.ml.data.bench.DataPipelineBench
[ -f "$OUT/images-$N-$SIZE/split_promptline_Bench.json" ] || java -cp "$CP" $MAIN gen "$OUT/images-$N-$SIZE" "$N" "$SIZE"
PY=${PYTHON:-$(tools/bench/ensure_venv.sh)}
{
  echo "# $(date -u +%FT%TZ) N=$N SIZE=$SIZE EPOCHS=$EPOCHS cores=$(nproc)"
  for t in 1 2; do java -Xmx2g -cp "$CP" $MAIN run "$OUT/images-$N-$SIZE" "$t" "$EPOCHS"; done
  if [ -x "$PY" ]; then
    for w in 1 2; do "$PY" tools/bench/torchvision_pipeline.py "$OUT/images-$N-$SIZE" "$w" "$EPOCHS"; done
  else
    echo "torchvision: skipped ($PY not found)"
  fi
} | tee "$OUT/results.txt"
