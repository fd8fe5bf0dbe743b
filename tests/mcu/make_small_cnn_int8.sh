#!/usr/bin/env bash
# Regenerates tests/mcu/small_cnn_int8.opm, the model the firmware self-test runs: the float
# model of tests/fuzz/corpus/valid_small.opm (conv 3x3, relu, reshape, fully connected,
# softmax on a 1x3x8x8 input) quantized to int8 with int8 inputs and outputs, calibrated on 64
# seeded normal samples; the quantizer embeds the self-test (the first sample and its output).
# Usage: tests/mcu/make_small_cnn_int8.sh [OUTPOST_CLI]   (default build/release/tools/outpost/outpost)
set -euo pipefail
cd "$(dirname "$0")/../.."
outpost="${1:-build/release/tools/outpost/outpost}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 -c "
import numpy as np
rng = np.random.default_rng(7)
np.save('$tmp/calib.npy', rng.standard_normal((64, 3, 8, 8)).astype(np.float32))
"
"$outpost" quantize tests/fuzz/corpus/valid_small.opm --calib "$tmp/calib.npy" --int8-io \
  -o tests/mcu/small_cnn_int8.opm
