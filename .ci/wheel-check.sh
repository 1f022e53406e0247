#!/usr/bin/env bash
# The README's pip route on a fresh virtualenv: build the wheel, install the CPU torch first, then the
# wheel with the web extra; `styleforge --help`, one generate, and the explorer answering on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
TORCH_INDEX=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
.venv/bin/python -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" .
"$PYTHON" -m venv "$work/venv"
pip="$work/venv/bin/python -m pip"
$pip install --quiet --upgrade pip
# 1. the CPU build of torch, from its own index (as the README says); 2. the wheel and its extra.
$pip install --quiet --retries 1 "torch==$TORCH_VERSION" --index-url "$TORCH_INDEX" || $pip install --quiet "torch==$TORCH_VERSION"
$pip install --quiet "$(ls "$work"/dist/styleforge-*.whl)[web]"
sf="$work/venv/bin/styleforge"
"$sf" --help > /dev/null
"$sf" new --preset tiny --out "$work/tiny.safetensors"
"$sf" generate --model "$work/tiny.safetensors" --seeds 0-1 --outdir "$work/out"
ls "$work"/out/*.png > /dev/null
port=$("$work/venv/bin/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$sf" serve --model "$work/tiny.safetensors" --port "$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do
  if "$work/venv/bin/python" -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/api/info', timeout=2)" 2>/dev/null; then
    echo "wheel check: installed $(ls "$work"/dist), generated 2 images, the explorer answered on 127.0.0.1:$port"
    exit 0
  fi
  sleep 1
done
echo "wheel check: the explorer did not answer"; cat "$work/serve.log"; exit 1
