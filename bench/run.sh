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
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --outpost|--outpost=*) have_bin=1 ;;
  esac
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
exec /usr/bin/python3 bench/bench.py "$@"
