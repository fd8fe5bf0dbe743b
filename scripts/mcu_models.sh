#!/usr/bin/env bash
# The zoo's microcontroller models as firmware sources: keyword spotting (DS-CNN) and anomaly
# detection (FC autoencoder), quantized to int8 and exported with `outpost export-c`.
# Usage: scripts/mcu_models.sh OUTPOST_BIN OUT_DIR
# Writes OUT_DIR/{kws,ad}.opm and OUT_DIR/{kws,ad}_{model.h,model.cc,main.cc}. Both models' batch
# norms were measured on N(0,1) inputs, so the calibration set is 200 N(0,1) samples (fixed seed).
set -euo pipefail
outpost="$1"
out="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import sys
import numpy as np
out = sys.argv[1]
rng = np.random.default_rng(20261129)
np.save(f"{out}/kws_calib.npy", rng.standard_normal((200, 1, 49, 10), dtype=np.float32))
np.save(f"{out}/ad_calib.npy", rng.standard_normal((200, 640), dtype=np.float32))
PY
for m in kws:kws_dscnn ad:ad_autoencoder; do
  name="${m%%:*}"
  zoo="${m#*:}"
  "$outpost" quantize "$root/models/zoo/$zoo/model.onnx" -o "$out/$name.opm" \
    --calib "$out/${name}_calib.npy" > "$out/${name}_quantize.txt"
  "$outpost" export-c "$out/$name.opm" -o "$out" --name "$name"
done
