// libFuzzer target for the model delta reader. A delta is refused early when its hashes do
// not match, so mutated seeds alone would rarely get past the header; each input is therefore
// used three ways against the fixed base model (valid_small.opm):
//   1. as a whole delta file (header checks, base check, hashes);
//   2. as a decompressed body, compressed and sealed with a valid header (the instruction
//      interpreter and the checks after it);
//   3. as a compressed body, sealed as-is (the bounded zstd decompressor).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <vector>

#include "package/delta_header.h"
#include "package/delta_zstd.h"
#include "package/model_delta.h"

using namespace outpost::package;

namespace {

std::vector<uint8_t>* g_base = nullptr;

uint64_t Read16(const uint8_t* p) { return p[0] | (p[1] << 8); }

// Sizes small enough that no input makes the fuzzer itself run out of memory.
DeltaLimits Limits() {
  DeltaLimits l;
  l.max_model_bytes = 1 << 20;
  l.max_envelope_bytes = 1 << 12;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::ifstream in(OUTPOST_FUZZ_BASE_MODEL, std::ios::binary);
  g_base = new std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  if (g_base->empty()) __builtin_trap();  // the fuzzer would test nothing
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  (void)ApplyModelDelta(*g_base, input, Limits());
  (void)ReadModelDeltaInfo(input);
  if (size < 8) return 0;

  // The first 8 bytes choose header fields; the rest is the body.
  DeltaHeader h;
  h.base_hash = Blake2b256(*g_base);
  h.base_bytes = g_base->size();
  h.target_bytes = Read16(data) * 4;
  h.envelope_bytes = Read16(data + 2) % 64;
  h.tensors_copied = data[4] % 8;
  h.bytes_copied = Read16(data + 5) * 4;
  const std::span<const uint8_t> rest = input.subspan(8);
  if (auto compressed = ZstdCompress(rest, 1); compressed.ok()) {
    h.body_bytes = rest.size();
    (void)ApplyModelDelta(*g_base, AssembleDelta(h, *compressed), Limits());
  }
  h.body_bytes = Read16(data + 6) * 16;
  h.prefix_bytes = (data[4] >> 3) * 512;  // up to past the end of the base
  (void)ApplyModelDelta(*g_base, AssembleDelta(h, rest), Limits());
  return 0;
}
