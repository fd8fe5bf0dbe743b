#!/usr/bin/env bash
# Installs every build, test and tooling dependency of Outpost from Debian 12 packages.
# Idempotent: re-running installs nothing new. Uses sudo when not root.
# Usage: scripts/setup.sh [--models] [--peers] [--arm64] [--mcu]
#   --models  what regenerating the model zoo needs (PyTorch, torchvision, onnx)
#   --peers   the runtimes Outpost is compared with (bench/run.sh): PyTorch, OpenCV DNN and
#             XNNPACK (Debian) and ONNX Runtime (npm)
#   --arm64   the 64-bit ARM cross build and its emulator: g++-aarch64-linux-gnu, qemu-user,
#             and the arm64 GoogleTest and libsodium (Debian multiarch)
#   --mcu     the bare-metal Cortex-M build and its emulator: gcc-arm-none-eabi with newlib and
#             the C++ headers, qemu-system-arm (docs/microcontrollers.md)
set -euo pipefail

models=0
peers=0
arm64=0
mcu=0
for arg in "$@"; do
  case "$arg" in
    --models) models=1 ;;
    --peers) peers=1 ;;
    --arm64) arm64=1 ;;
    --mcu) mcu=1 ;;
    *) echo "setup: unknown option $arg (use --models, --peers, --arm64, --mcu)" >&2; exit 2 ;;
  esac
done

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  # model format and ONNX import
  flatbuffers-compiler libflatbuffers-dev protobuf-compiler libprotobuf-dev libonnx-dev
  # host libraries
  libsodium-dev libzstd-dev zlib1g-dev nlohmann-json3-dev libcli11-dev libstb-dev
  # network actions of the pipeline: HTTP (cpp-httplib, OpenSSL) and MQTT (+ the broker the tests start)
  libcpp-httplib-dev libmosquitto-dev mosquitto
  # fleet server storage: SQLite (embedded default) and PostgreSQL (client library + the server
  # the tests start on loopback); the fleet dashboard is tested in headless Chromium
  libsqlite3-dev sqlite3 libpq-dev postgresql chromium
  # video files of any format for the pipeline's video source (optional: OUTPOST_LIBAV)
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  # tests and benchmarks; the fleet demo's HTTP calls and JSON (scripts/fleet_demo.sh)
  libgtest-dev libgmock-dev libbenchmark-dev valgrind curl jq
  # OpenCV reference for the area-resize fixture (tests/io/make_area_fixtures.py)
  python3-opencv
  # data: Fashion-MNIST and the ONNX backend conformance tests
  dataset-fashion-mnist libonnx-testdata
)

if [ $models -eq 1 ] || [ $peers -eq 1 ]; then
  packages+=(python3-torch python3-torchvision python3-onnx python3-numpy)
fi
if [ $arm64 -eq 1 ]; then
  packages+=(g++-aarch64-linux-gnu qemu-user libgtest-dev:arm64 libsodium-dev:arm64)
fi
if [ $mcu -eq 1 ]; then
  # The C++ headers only (libstdc++-arm-none-eabi-dev): the runtime links nothing of libstdc++,
  # and its prebuilt libraries (libstdc++-arm-none-eabi-newlib) take 1.5 GB. Without
  # --no-install-recommends (below) these would pull in about 3 GB.
  packages+=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-dev qemu-system-arm)
fi
if [ $peers -eq 1 ]; then
  # OpenCV DNN is a peer; XNNPACK is measured op by op (bench/xnnpack_decision.py).
  packages+=(python3-opencv libxnnpack-dev libpthreadpool-dev)
fi
# Node.js and npm: the machine's own when present (Debian's npm conflicts with other Node
# installs), Debian's otherwise.
if [ $peers -eq 1 ] && ! command -v npm > /dev/null; then
  packages+=(nodejs npm)
fi

# ONNX Runtime comes from npm (onnxruntime-node ships the CPU library). Its install script
# would download optional extras, so scripts are skipped; the pinned version is in
# tools/ort_eval/package.json.
install_peers() {
  [ $peers -eq 1 ] || return 0
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tools/ort_eval"
  if [ -f "$dir/node_modules/onnxruntime-node/package.json" ]; then
    echo "setup: onnxruntime-node already installed"
  else
    echo "setup: installing onnxruntime-node (npm)"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  install_peers
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
# arm64 libraries come from the same archive once dpkg accepts the architecture.
if [ $arm64 -eq 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
install_peers
