#!/usr/bin/env bash
# Pruning results in one command: release build, then bench/compression.py (every zoo
# Fashion-MNIST model pruned to several MAC budgets, with and without the least-squares refit,
# fp32 and int8, scored on the 10,000 test images). Writes build/compression/results.md and
# results.json; see docs/compression.md. About 30 minutes on 2 cores; add --distill for the
# distilled students (PyTorch, scripts/setup.sh --models; much longer).
#
# Usage: bench/compression.sh [bench/compression.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in *" --distill "*) scripts/setup.sh --models ;; *) scripts/setup.sh ;; esac
scripts/build.sh release
exec /usr/bin/python3 bench/compression.py "$@"
