// Serializes a model description (FlatBuffers object API) plus its constant payloads into the
// .opm file layout: 64-byte header, FlatBuffer, 64-byte aligned data segment.
#pragma once

#include <cstdint>
#include <vector>

#include "opm_generated.h"

namespace outpost::emit {

// `model.buffers` is rebuilt from `payloads` (one Buffer per payload, same index, each the
// plain data): offsets are assigned in the data segment and each stored buffer's BLAKE2b-256
// hash is recorded. Tensors refer to payloads by index through Tensor.buffer. With
// `sparse_storage`, a tensor's data of at least 256 elements whose zeros make the
// SPARSE_BITMAP encoding (schema/opm.fbs) at most 3/4 of its size is stored that way.
std::vector<uint8_t> WriteOpmBytes(opm::ModelT model,
                                   const std::vector<std::vector<uint8_t>>& payloads,
                                   bool sparse_storage = true);

// The SPARSE_BITMAP encoding of `dense` (elements of `element_size` bytes; an element is zero
// when all its bytes are).
std::vector<uint8_t> EncodeSparseBitmap(const std::vector<uint8_t>& dense, size_t element_size);

// BLAKE2b-256 of `data`: the content address of a constant tensor.
std::vector<uint8_t> ContentHash(const uint8_t* data, size_t size);

}  // namespace outpost::emit
