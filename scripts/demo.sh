#!/usr/bin/env bash
# The main job, end to end on a fresh Debian 12 machine: install dependencies, build, then
# compile a zoo model from ONNX, inspect it, evaluate it on the Fashion-MNIST test set,
# quantize it to int8 with calibration and evaluate that, prune it to half its MACs and quantize
# that (docs/compression.md), and benchmark all three; then run the
# real-time pipeline (synthetic camera -> shapes detector -> NMS -> JSON lines) and print its
# per-stage profile; ask the Advisor which hardware fits the int8 model and whether it belongs
# on the edge; then the fleet (scripts/fleet_demo.sh): a fleet server and two device agents on
# loopback, a canary rollout by delta and a bad version halted and rolled back; last, the cost
# of ownership of such a fleet, with the message and update sizes that run measured.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh release
outpost=build/release/tools/outpost/outpost
out=build/demo
mkdir -p "$out"
data=/usr/share/datasets/fashion-mnist

step() { printf '\n== %s\n' "$*"; }

step "compile models/zoo/fashion_cnn/model.onnx -> $out/fashion_cnn.opm"
"$outpost" compile models/zoo/fashion_cnn/model.onnx -o "$out/fashion_cnn.opm"

step "inspect"
"$outpost" inspect "$out/fashion_cnn.opm"

step "run one test image (the model's self-test, then a real input)"
"$outpost" run "$out/fashion_cnn.opm" --self-test
"$outpost" run "$out/fashion_cnn.opm" --input models/zoo/fashion_cnn/input.npy

step "evaluate on the 10,000 Fashion-MNIST test images"
"$outpost" eval "$out/fashion_cnn.opm" \
  --images "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz"

step "quantize to int8 (1000 calibration images from the training set)"
"$outpost" quantize models/zoo/fashion_cnn/model.onnx -o "$out/fashion_cnn_int8.opm" \
  --calib "$data/train-images-idx3-ubyte.gz" --calib-limit 1000 --method minmax

step "evaluate the int8 model on the same 10,000 test images"
"$outpost" eval "$out/fashion_cnn_int8.opm" \
  --images "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz"

step "prune to half the MACs (channels chosen and the next layers refitted on 1000 training images), then int8"
"$outpost" prune models/zoo/fashion_cnn/model.onnx -o "$out/fashion_cnn_half.opm" --target-macs 50% \
  --calib "$data/train-images-idx3-ubyte.gz" --calib-limit 1000 \
  --val "$data/t10k-images-idx3-ubyte.gz" --val-labels "$data/t10k-labels-idx1-ubyte.gz"
"$outpost" quantize "$out/fashion_cnn_half.opm" -o "$out/fashion_cnn_half_int8.opm" \
  --calib "$data/train-images-idx3-ubyte.gz" --calib-limit 1000 --method minmax
"$outpost" eval "$out/fashion_cnn_half_int8.opm" \
  --images "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz"

step "benchmark fp32, int8, then pruned int8"
"$outpost" bench "$out/fashion_cnn.opm" --runs 200
"$outpost" bench "$out/fashion_cnn_int8.opm" --runs 200
"$outpost" bench "$out/fashion_cnn_half_int8.opm" --runs 200

step "advisor: which hardware runs the int8 model within 20 ms, 256 MiB, 5 W and 100 USD"
"$outpost" plan "$out/fashion_cnn_int8.opm" --latency-ms 20 --ram-mb 256 --power-w 5 --unit-cost 100

step "advisor: edge or cloud, for example answers of a camera on a factory line"
"$outpost" decide --latency-ms 20 --private-data no --offline-autonomy yes --cross-device no \
  --link-uptime 0.99 --input-bytes 784 --inferences-per-day 864000 --uplink-mbps 10 --devices 200 \
  --model "$out/fashion_cnn_int8.opm" --target rpi4-4gb

step "real-time pipeline: the shapes detector on the synthetic camera (300 frames at 30 fps)"
"$outpost" compile models/zoo/shapes_detector/model.onnx -o "$out/shapes_detector.opm"
# A copy next to the model: a pipeline file's paths are relative to its folder, and the
# detections go to $out/detections.jsonl.
cp examples/pipelines/synthetic_detect.json "$out/"
"$outpost" run "$out/synthetic_detect.json" --json "$out/pipeline_report.json"

step "fleet: a server and two device agents on loopback; a canary rollout, a bad version halted"
scripts/fleet_demo.sh --outpost "$outpost" --work "$out/fleet"

step "advisor: cost of ownership of 1000 devices over 5 years, with the fleet run's message and update sizes"
fleet="$out/fleet"
"$outpost" diff "$fleet/models/classifier-1.0.0.opk" "$fleet/models/classifier-1.1.0.opk" \
  --key "$fleet/keys/release.pub" -o "$out/classifier-1.0.0-to-1.1.0.delta"
"$outpost" cost --target rpi4-4gb --devices 1000 --years 5 --fleet-db "sqlite:$fleet/fleet/fleet.db" \
  --package "$fleet/models/classifier-1.1.0.opk" --delta "$out/classifier-1.0.0-to-1.1.0.delta" --delta-updates
