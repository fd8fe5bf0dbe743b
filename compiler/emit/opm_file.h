// Serializes a model description (FlatBuffers object API) plus its constant payloads into the
// .opm file layout: 64-byte header, FlatBuffer, 64-byte aligned data segment.
#pragma once

#include <cstdint>
#include <vector>

#include "opm_generated.h"

namespace outpost::emit {

// `model.buffers` is rebuilt from `payloads` (one Buffer per payload, same index): offsets are
// assigned in the data segment and each payload's BLAKE2b-256 hash is recorded. Tensors refer
// to payloads by index through Tensor.buffer.
std::vector<uint8_t> WriteOpmBytes(opm::ModelT model,
                                   const std::vector<std::vector<uint8_t>>& payloads);

// BLAKE2b-256 of `data`: the content address of a constant tensor.
std::vector<uint8_t> ContentHash(const uint8_t* data, size_t size);

}  // namespace outpost::emit
