// Differential updates between two compiled models (.opm): the new model's constant buffers
// whose content hash matches a buffer of the old model are copied from it, everything else is
// carried as literal bytes, zstd-compressed. Format: docs/delta-format.md.
//
// An opaque `envelope` travels with the delta (for a package: the bytes around the model), so
// that one file rebuilds a whole package. Nothing in the envelope is interpreted here.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/expected.h"
#include "package/delta_header.h"

namespace outpost::package {

// What ApplyModelDelta will accept. The declared body (envelope plus instructions) may not
// exceed max_model_bytes + max_envelope_bytes either.
struct DeltaLimits {
  uint64_t max_model_bytes = 1ull << 31;
  uint64_t max_envelope_bytes = 1 << 20;
};

// Delta from old_model to new_model (.opm bytes; both must pass the runtime's reader and
// match their stored content hashes); `envelope` is carried verbatim.
Expected<std::vector<uint8_t>> MakeModelDelta(std::span<const uint8_t> old_model,
                                              std::span<const uint8_t> new_model,
                                              std::span<const uint8_t> envelope,
                                              int zstd_level = 19);

struct DeltaInfo {
  uint16_t format_major = 0;
  uint16_t format_minor = 0;
  Hash256 base_hash{};    // BLAKE2b-256 of the model the delta applies to
  Hash256 target_hash{};  // BLAKE2b-256 of the model it rebuilds
  uint64_t base_bytes = 0;
  uint64_t target_bytes = 0;
  uint64_t envelope_bytes = 0;
  uint64_t body_bytes = 0;        // decompressed
  uint64_t compressed_bytes = 0;  // the zstd frame
  uint64_t delta_bytes = 0;       // the whole delta file
  uint32_t tensors_copied = 0;
  uint32_t tensors_sent = 0;
  uint64_t bytes_copied = 0;
};

// Reads and checks the header only (magic, version, header hash, file length); does not
// decompress anything.
Expected<DeltaInfo> ReadModelDeltaInfo(std::span<const uint8_t> delta);

struct AppliedDelta {
  std::vector<uint8_t> model, envelope;
  DeltaInfo info;
};

// Rebuilds the new model from the old one. Refused, with one reason: a delta for another base
// (checked right after the header, before any decompression), a header beyond `limits`, a
// corrupt or oversized body, an instruction out of range, or a result whose BLAKE2b-256 is not
// the target's.
Expected<AppliedDelta> ApplyModelDelta(std::span<const uint8_t> old_model,
                                       std::span<const uint8_t> delta,
                                       const DeltaLimits& limits = {});

}  // namespace outpost::package
