// The fixed, uncompressed header of a model delta (layout: docs/delta-format.md) and the
// little-endian encoding of its fields. Separate from model_delta.cc so that tests and the
// fuzzer can assemble deltas with chosen (even hostile) header values.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/expected.h"

namespace outpost::package {

using Hash256 = std::array<uint8_t, 32>;

constexpr char kDeltaMagic[8] = {'O', 'P', 'M', 'D', 'E', 'L', 'T', 'A'};
constexpr uint16_t kDeltaFormatMajor = 1;
constexpr uint16_t kDeltaFormatMinor = 0;
// Bytes of the 1.0 header, its trailing header hash included. A later minor version may
// append fields before the header hash and grow header_bytes; this reader skips them.
constexpr uint32_t kDeltaHeaderBytes = 208;
// A header larger than this is not a header written by any 1.x writer.
constexpr uint32_t kDeltaMaxHeaderBytes = 4096;

struct DeltaHeader {
  uint16_t format_major = kDeltaFormatMajor;
  uint16_t format_minor = kDeltaFormatMinor;
  uint32_t header_bytes = kDeltaHeaderBytes;
  Hash256 base_hash{};    // BLAKE2b-256 of the whole old .opm
  Hash256 target_hash{};  // BLAKE2b-256 of the whole new .opm
  uint64_t base_bytes = 0;
  uint64_t target_bytes = 0;
  uint64_t envelope_bytes = 0;
  uint64_t body_bytes = 0;        // decompressed body: envelope then instructions
  uint64_t compressed_bytes = 0;  // the zstd frame that follows the header
  uint32_t tensors_copied = 0;    // constant buffers taken from the base (one COPY each)
  uint32_t tensors_sent = 0;      // constant buffers whose bytes are in the delta
  uint64_t bytes_copied = 0;      // sum of the COPY lengths
  Hash256 body_hash{};            // BLAKE2b-256 of the compressed body
  // The zstd frame is compressed against the first prefix_bytes of the base (its header and
  // graph section), so an unchanged graph costs next to nothing.
  uint64_t prefix_bytes = 0;
};

// BLAKE2b-256 of `bytes` (libsodium's generic hash with a 32-byte output).
Hash256 Blake2b256(std::span<const uint8_t> bytes);

// Lowercase hex of the first `bytes` bytes of a hash, for messages.
std::string ShortHex(const Hash256& hash, size_t bytes = 8);

// header_bytes bytes: the fields, zero padding up to the header hash, and the header hash
// (BLAKE2b-256 of everything before it).
std::vector<uint8_t> EncodeDeltaHeader(const DeltaHeader& header);

// Reads and checks the header at the start of `delta`, in this order: length, magic, major
// version, header size, header hash, then that the file is exactly header + compressed body.
Expected<DeltaHeader> DecodeDeltaHeader(std::span<const uint8_t> delta);

// Header (with body_hash and compressed_bytes filled in from `compressed_body`) + body.
std::vector<uint8_t> AssembleDelta(DeltaHeader header, std::span<const uint8_t> compressed_body);

}  // namespace outpost::package
