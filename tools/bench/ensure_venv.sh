#!/usr/bin/env bash
# Creates .venv (git-ignored) with the reference Python stack that the golden scripts, the
# reference test stage and the benchmarks compare against: the PyTorch that DJL's engine bundles
# (2.7.1), its torchvision, Pillow, and the reference CLIP implementations: OpenAI's `clip`
# package (openai-clip), open_clip and transformers. Prints the python path on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
PINS="torch==2.7.1 torchvision==0.22.1 pillow numpy safetensors ftfy==6.3.1 regex openai-clip==1.0.1 open-clip-torch==3.3.0 transformers==5.24.0"
if [ ! -f .venv/.pins ] || [ "$(cat .venv/.pins)" != "$PINS" ]; then
  echo "reference venv: installing $PINS into .venv (PyPI; the torch wheel is large)" >&2
  [ -x .venv/bin/python ] || python3 -m venv .venv >&2
  rm -f .venv/.pins
  # two tries: a dropped connection during the multi-GB download should not fail a test run
  .venv/bin/pip install -q --disable-pip-version-check $PINS >&2 || .venv/bin/pip install -q --disable-pip-version-check $PINS >&2
  .venv/bin/python -c "import torch, clip, open_clip, transformers, safetensors, PIL" >&2
  echo "$PINS" > .venv/.pins
fi
echo "$PWD/.venv/bin/python"
