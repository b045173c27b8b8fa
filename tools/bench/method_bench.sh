#!/usr/bin/env bash
# Training-step time and peak memory per prompt-learning method: Promptline (Java, DJL + PyTorch
# engine) vs the reference PyTorch code, same machine, random-weight CLIP with ViT-B/16 widths and
# LAYERS blocks per tower, fp32, same thread count, batch and classes. A benchmark, not a test.
#   LAYERS=2 BATCH=4 CLASSES=10 STEPS=5 THREADS=2 tools/bench/method_bench.sh
#   METHODS="coop maple" tools/bench/method_bench.sh
# Each method runs in its own JVM and its own Python process (peak memory is per method).
# Reference checkouts: REFERENCE_COOP, REFERENCE_MAPLE, REFERENCE_RPO, REFERENCE_DASSL (see
# method_bench_reference.py; defaults under /tmp/refwork when present, else that column is n/a).
# prismer has no public classification code: its reference column is the spec golden
# tools/golden/prismer_golden.py (PyTorch), with one random expert of ViT-B/32 widths on both sides.
# Raw JSON lines and logs: $OUT_DIR (default: a new temp dir, printed at the end).
# Creates .venv with torch==2.7.1 on first use (tools/bench/ensure_venv.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
LAYERS=${LAYERS:-2}
BATCH=${BATCH:-4}
CLASSES=${CLASSES:-10}
STEPS=${STEPS:-5}
THREADS=${THREADS:-2}
METHODS=${METHODS:-coop cocoop maple ivlp deep-text vpt rpo mrpo instance prismer}
OUT_DIR=${OUT_DIR:-$(mktemp -d -t method-bench.XXXXXX)}
mkdir -p "$OUT_DIR"
./mvnw -o -q -pl ml compile dependency:build-classpath -Dmdep.outputFile=target/method-bench.cp -Dmdep.includeScope=runtime
CP="ml/target/classes:$(cat ml/target/method-bench.cp)"
PY=$(tools/bench/ensure_venv.sh)
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE=$(load)
START=$(date +%s)
: > "$OUT_DIR/results.jsonl"
for m in $METHODS; do
  echo "method_bench: $m (Promptline)" >&2
  if java -Xmx2g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
      -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" tools/bench/method_bench_djl.java \
      "$m" "$LAYERS" "$BATCH" "$CLASSES" "$STEPS" "$THREADS" > "$OUT_DIR/$m.promptline.out" 2> "$OUT_DIR/$m.promptline.log"; then
    grep '^{"impl"' "$OUT_DIR/$m.promptline.out" | tail -1 >> "$OUT_DIR/results.jsonl" || true
  else
    echo "{\"impl\":\"promptline\",\"method\":\"$m\",\"failed\":\"$OUT_DIR/$m.promptline.log\"}" >> "$OUT_DIR/results.jsonl"
  fi
  echo "method_bench: $m (reference)" >&2
  if "$PY" tools/bench/method_bench_reference.py "$m" "$LAYERS" "$BATCH" "$CLASSES" "$STEPS" "$THREADS" \
      > "$OUT_DIR/$m.reference.out" 2> "$OUT_DIR/$m.reference.log"; then
    grep '^{"impl"' "$OUT_DIR/$m.reference.out" | tail -1 >> "$OUT_DIR/results.jsonl" || true
  else
    echo "{\"impl\":\"reference\",\"method\":\"$m\",\"failed\":\"$OUT_DIR/$m.reference.log\"}" >> "$OUT_DIR/results.jsonl"
  fi
done
LOAD_AFTER=$(load)
"$PY" - "$OUT_DIR/results.jsonl" "$LAYERS" "$BATCH" "$CLASSES" "$STEPS" "$THREADS" "$LOAD_BEFORE" "$LOAD_AFTER" "$(( $(date +%s) - START ))" "$METHODS" <<'EOF'
import json, sys
path, layers, batch, classes, steps, threads, before, after, secs, methods = sys.argv[1:]
rows = {}
for line in open(path):
    line = line.strip()
    if line:
        r = json.loads(line)
        rows[(r["method"], r["impl"])] = r

def cell(r, key, fmt="{:.1f}"):
    if r is None:
        return "missing"
    if "error" in r:
        return r["error"]
    if "failed" in r:
        return "failed (" + r["failed"] + ")"
    v = r.get(key)
    return "n/a" if v is None else fmt.format(v)

def ratio(a, b, key_a, key_b=None):
    try:
        return "{:.2f}".format(a[key_a] / b[key_b or key_a])
    except (TypeError, KeyError, ZeroDivisionError):
        return "n/a"

ms = methods.split()
print(f"Prompt-learning training step: random CLIP with ViT-B/16 widths, {layers} block(s) per tower, fp32, "
      f"batch {batch}, {classes} classes, {threads} threads; median of {steps} steps after 2 warm-up steps; "
      f"peak = VmHWM of the method's own process.")
print("Ratios are Promptline / reference: <= 1.0 means Promptline is as fast (as small) or better.")
print("coop, cocoop, deep-text: Promptline trains on cached image features, the reference runs its frozen image "
      "encoder every step (each side's real training step; see the cached-features table). cocoop: the reference's "
      "step is its per-image loop (B text passes of C prompts), Promptline's is one batched text pass of B x C "
      "prompts; both columns are those step times.")
if "instance" in ms:
    print("instance: no public code; the reference column is tools/golden/instance_golden.py (the spec in PyTorch, "
          "cached features, N = CLASSES x INSTANCE_SHOTS training prompts, K = 2 candidates per class, the union of "
          "selected prompts encoded once per step).")
print()
print("| method | Promptline ms/step | reference ms/step | time ratio (Promptline/reference) | Promptline peak MB | reference peak MB | memory ratio |")
print("|---|---|---|---|---|---|---|")
for m in ms:
    j, r = rows.get((m, "promptline")), rows.get((m, "reference"))
    print(f"| {m} | {cell(j, 'step_ms_median')} | {cell(r, 'step_ms_median')} | {ratio(j, r, 'step_ms_median')} "
          f"| {cell(j, 'peak_rss_mb', '{:.0f}')} | {cell(r, 'peak_rss_mb', '{:.0f}')} | {ratio(j, r, 'peak_rss_mb')} |")
feat = [m for m in ms if m in ("coop", "cocoop", "deep-text")]
if feat:
    print()
    print("Reference with its image features cached too (model.image_encoder replaced by this batch's precomputed output):")
    print()
    print("| method | Promptline ms/step | reference ms/step, cached features | time ratio |")
    print("|---|---|---|---|")
    for m in feat:
        j, r = rows.get((m, "promptline")), rows.get((m, "reference"))
        print(f"| {m} | {cell(j, 'step_ms_median')} | {cell(r, 'step_ms_median_cached')} | {ratio(j, r, 'step_ms_median', 'step_ms_median_cached')} |")
print()
print("Fastest timed step (less sensitive to other processes than the median; same runs):")
print()
print("| method | Promptline min ms | reference min ms | time ratio |" + (" reference min ms, cached features | time ratio |" if feat else ""))
print("|---|---|---|---|" + ("---|---|" if feat else ""))
for m in ms:
    j, r = rows.get((m, "promptline")), rows.get((m, "reference"))
    extra = ""
    if feat:
        extra = (f" {cell(r, 'step_ms_min_cached')} | {ratio(j, r, 'step_ms_min', 'step_ms_min_cached')} |" if m in feat else " | |")
    print(f"| {m} | {cell(j, 'step_ms_min')} | {cell(r, 'step_ms_min')} | {ratio(j, r, 'step_ms_min')} |" + extra)
print()
print("Training-phase peak (VmHWM reset right before the first warm-up step: resident model + what the steps add):")
print()
print("| method | Promptline MB | reference MB | memory ratio |")
print("|---|---|---|---|")
for m in ms:
    j, r = rows.get((m, "promptline")), rows.get((m, "reference"))
    print(f"| {m} | {cell(j, 'peak_rss_train_mb', '{:.0f}')} | {cell(r, 'peak_rss_train_mb', '{:.0f}')} | {ratio(j, r, 'peak_rss_train_mb')} |")
print()
print(f"load average (1/5/15 min) before: {before}; after: {after}; wall time {secs} s")
print(f"raw results: {path}")
EOF
