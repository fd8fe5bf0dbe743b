#!/usr/bin/env bash
# Installs every build, test and tooling dependency of Outpost from Debian 12 packages.
# Idempotent: re-running installs nothing new. Uses sudo when not root.
# Usage: scripts/setup.sh [--models]
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  # model format and ONNX import
  flatbuffers-compiler libflatbuffers-dev protobuf-compiler libprotobuf-dev libonnx-dev
  # host libraries
  libsodium-dev libzstd-dev zlib1g-dev nlohmann-json3-dev libcli11-dev libstb-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev valgrind
  # data: Fashion-MNIST and the ONNX backend conformance tests
  dataset-fashion-mnist libonnx-testdata
)

# `--models` adds what regenerating the model zoo needs (PyTorch, torchvision, onnx).
if [ "${1:-}" = "--models" ]; then
  packages+=(python3-torch python3-torchvision python3-onnx python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
