// The constant buffers of a .opm model with their content hashes recomputed: what a delta
// addresses. The stored hashes are compared with the bytes, never taken on trust.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "package/delta_header.h"

namespace outpost::package {

struct OpmBuffer {
  uint64_t offset = 0;  // in the file
  uint64_t size = 0;
  Hash256 hash{};       // BLAKE2b-256 of the bytes, equal to the hash the model stores
};

// Verifies `opm` with the runtime's reader (the device's trust boundary), then hashes every
// constant buffer. Errors are prefixed with `name` ("old model", "new model").
Expected<std::vector<OpmBuffer>> ReadVerifiedBuffers(std::span<const uint8_t> opm,
                                                     const std::string& name);

}  // namespace outpost::package
