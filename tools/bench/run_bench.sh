#!/usr/bin/env bash
# Weir vs TensorFlow vs ONNX Runtime benchmark (run by hand, never in CI).
#
#   bash tools/bench/run_bench.sh [--quick] [other bench.py flags, e.g. --only gemm,mlp_b1]
#
# Creates (or reuses) a virtual environment under out/bench-venv with pinned TensorFlow (CPU),
# ONNX Runtime and onnx, builds //tools:weir, snapshots the binary (so a colleague's rebuild
# mid-run cannot swap it) and runs tools/bench/bench.py. Results: out/bench/results.{md,json}.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

VENV="${BENCH_VENV:-$ROOT/out/bench-venv}"
OUT="${BENCH_OUT:-$ROOT/out/bench}"
# Versions that install on Python 3.11 (Debian 12) and work together (TF 2.15 needs numpy < 2).
PINS=(tensorflow-cpu==2.15.1 onnxruntime==1.17.3 onnx==1.16.0 "numpy<2")

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "== installing python3-venv"
  as_root apt-get update -qq
  as_root apt-get install -y -qq python3-venv
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import tensorflow, onnxruntime, onnx' >/dev/null 2>&1; then
  echo "== installing ${PINS[*]} (about 300 MB, once)"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q "${PINS[@]}"
fi

echo "== building //tools:weir //tools:onednn_sgemm"
bazel build //tools:weir //tools:onednn_sgemm
mkdir -p "$OUT"
cp -f bazel-bin/tools/weir "$OUT/weir"
cp -f bazel-bin/tools/onednn_sgemm "$OUT/onednn_sgemm"
chmod u+w "$OUT/weir" "$OUT/onednn_sgemm"

# The environment sets OPENBLAS_CORETYPE, which halves numpy/OpenBLAS speed; never measure
# the peers with it. TF's C++ logs are noise here.
unset OPENBLAS_CORETYPE
export TF_CPP_MIN_LOG_LEVEL=2

echo "== running tools/bench/bench.py $*"
exec "$VENV/bin/python" tools/bench/bench.py --weir "$OUT/weir" --onednn-sgemm "$OUT/onednn_sgemm" \
  --out "$OUT" "$@"
