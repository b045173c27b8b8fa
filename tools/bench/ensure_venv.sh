#!/usr/bin/env bash
# Creates .venv (git-ignored) with the reference Python stack the benchmarks and golden scripts
# compare against: the PyTorch version that DJL's engine bundles (2.7.1), its torchvision, Pillow.
# Sourced by the benchmark scripts; prints the python path on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
PINS="torch==2.7.1 torchvision==0.22.1 pillow numpy safetensors ftfy==6.3.1 regex"
if [ ! -f .venv/.pins ] || [ "$(cat .venv/.pins)" != "$PINS" ]; then
  echo "bench: creating .venv with $PINS (PyPI; the torch wheel is large)" >&2
  python3 -m venv .venv >&2
  .venv/bin/pip install -q $PINS >&2
  echo "$PINS" > .venv/.pins
fi
echo "$PWD/.venv/bin/python"
