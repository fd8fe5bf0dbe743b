#!/usr/bin/env bash
# The benchmark in one command: release build, peer runtimes, large zoo models, then
# bench/bench.py (compile, quantize, measure Outpost, ONNX Runtime, OpenCV DNN, PyTorch).
# Writes build/bench/results.md and results.json; see docs/performance.md.
#
# Usage: bench/run.sh [--quick] [--outpost BIN] [other bench/bench.py options]
#   --quick         small models, few runs: a smoke test (skips the large models' export)
#   --outpost BIN   use this outpost binary instead of building build/release
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf 'bench/run.sh: %s\n' "$*" >&2; }

quick=0
have_bin=0
outpost=build/release/tools/outpost/outpost
prev=""
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --outpost) have_bin=1 ;;
    --outpost=*) have_bin=1; outpost="${arg#--outpost=}" ;;
  esac
  if [ "$prev" = "--outpost" ]; then outpost="$arg"; fi
  prev="$arg"
done

if [ $have_bin -eq 0 ]; then
  step "building release (scripts/build.sh release)"
  scripts/build.sh release
fi
step "installing peers (scripts/setup.sh --peers)"
scripts/setup.sh --peers
if [ $quick -eq 0 ]; then
  # MobileNetV2 and ResNet18 at 224x224; skipped when already current.
  step "exporting the large zoo models (models/zoo.py export-large)"
  /usr/bin/python3 models/zoo.py export-large
fi
/usr/bin/python3 bench/bench.py "$@"
if [ $quick -eq 0 ]; then
  # Would XNNPACK run any convolution faster? Layer by layer on the large models (bench.py
  # compiled and quantized them into build/bench/models).
  step "XNNPACK against Outpost, convolution by convolution (bench/xnnpack_decision.py)"
  models=()
  for m in resnet18 resnet18_int8 mobilenet_v2 mobilenet_v2_int8; do
    if [ -f "build/bench/models/$m.opm" ]; then models+=("build/bench/models/$m.opm"); fi
  done
  if [ ${#models[@]} -gt 0 ]; then
    /usr/bin/python3 bench/xnnpack_decision.py "${models[@]}" --outpost "$outpost" \
      --threads 1 --rounds 3 --json build/bench/xnnpack.json | tee build/bench/xnnpack.md
  fi
fi
