#!/usr/bin/env bash
# Every test, on a fresh Debian 12 machine: install dependencies, generate the large zoo
# models with PyTorch, then
#   1. release build: unit tests, ONNX conformance, model zoo, CLI end to end;
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build (clang): the same tests but the
#      slowest;
#   3. 64-bit ARM cross build: the kernel tests under qemu-aarch64;
#   4. bare-metal Cortex-M4 and Cortex-M55 builds: firmware images under qemu-system-arm (the
#      runtime's self-test on a committed int8 model, the zoo's keyword-spotting and anomaly
#      models exported by the release build's `outpost export-c` and checked bit for bit against
#      the host, their instruction counts, the footprint of the runtime core);
#   5. clang/libFuzzer build: the model reader, then the Y4M and WAV parsers, the package reader,
#      the model delta reader and the fleet server's JSON input, fuzzed for a bounded time from
#      their corpora.
# Usage: scripts/test.sh [--quick]   (--quick: release tests only)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${OUTPOST_FUZZ_SECONDS:-60}"
phase() { printf '\n== [%4ds] %s\n' "$SECONDS" "$*"; }
logs=build/logs
mkdir -p "$logs"

scripts/setup.sh --models --arm64 --mcu
# The large zoo models (MobileNetV2, ResNet18 at 224x224) are generated, not committed.
/usr/bin/python3 models/zoo.py export-large

phase "release build and tests"
scripts/build.sh release
ctest --preset release -j 2

if [ "${1:-}" = "--quick" ]; then exit 0; fi

phase "asan+ubsan build and tests"
scripts/build.sh asan
ctest --preset asan -j 2 -LE slow

phase "aarch64 cross build: kernel tests under qemu-aarch64"
scripts/build.sh aarch64
ctest --preset aarch64 -j 2

phase "Cortex-M bare-metal build: firmware images, instruction counts and footprint under qemu-system-arm"
for preset in cortex-m4 cortex-m55; do
  scripts/build.sh "$preset"
  ctest --preset "$preset" -j 2
  # The footprint table (flash and RAM of each image, the runtime core alone).
  ctest --preset "$preset" -R mcu_footprint -V 2>&1 | sed -n 's/^[0-9]*: \(board\|  \|runtime core\)/\1/p'
done

phase "libFuzzer build"
scripts/build.sh fuzz

phase "fuzzing the model reader for ${fuzz_seconds}s, the other readers for a third of that each"
corpus=build/fuzz/corpus
rm -rf "$corpus" && mkdir -p "$corpus"
cp tests/fuzz/corpus/*.opm tests/fuzz/corpus/bad/*.opm "$corpus"/
# Compiled zoo models from the release tests make realistic seeds.
find build/release -name '*.opm' -size -2M -exec cp {} "$corpus"/ \; 2>/dev/null || true
# The model reader on one core, the other readers one after the other on the second.
build/fuzz/fuzz_model_load -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" > "$logs/fuzz_model_load.log" 2>&1 &
model_fuzz_pid=$!
# The other readers of untrusted bytes, a third of the time each: the media parsers of the
# pipeline's sources (video and audio files), the package reader (signature, manifest,
# decryption, model checks), the model delta reader (against the fixed base
# tests/fuzz/corpus/valid_small.opm) and the fleet server's parsers of JSON input.
other_seconds=$(( (fuzz_seconds + 2) / 3 ))
for reader in y4m wav package delta fleet_json; do
  reader_corpus="build/fuzz/corpus_$reader"
  rm -rf "$reader_corpus" && mkdir -p "$reader_corpus"
  cp "tests/fuzz/corpus/$reader"/* "$reader_corpus"/
  "build/fuzz/fuzz_$reader" -max_total_time="$other_seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$reader_corpus" 2>&1 | tail -n 3
  echo "fuzz: $reader reader, no crash in ${other_seconds}s"
done
model_fuzz_status=0
wait "$model_fuzz_pid" || model_fuzz_status=$?
tail -n 12 "$logs/fuzz_model_load.log"
if [ "$model_fuzz_status" -ne 0 ]; then
  echo "fuzz: the model reader failed (whole log: $logs/fuzz_model_load.log)" >&2
  exit 1
fi
echo "fuzz: model reader, no crash in ${fuzz_seconds}s"
phase "all tests passed"
