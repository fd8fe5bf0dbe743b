// zstd for delta bodies: one-shot compression, and a streaming decompressor that never
// produces more than the size the (untrusted) header declared.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/expected.h"

namespace outpost::package {

// One zstd frame (content size recorded, no checksum: the delta header hashes the frame),
// compressed against `prefix` (matches may point into it; the decompressor needs the same).
Expected<std::vector<uint8_t>> ZstdCompress(std::span<const uint8_t> bytes, int level,
                                            std::span<const uint8_t> prefix = {});

// Decompresses exactly one frame into exactly `declared_bytes` bytes. Memory grows with the
// output actually produced, and decompression stops at the first byte beyond the declared
// size, so a small frame that expands enormously costs at most declared_bytes + 1.
Expected<std::vector<uint8_t>> ZstdDecompressBounded(std::span<const uint8_t> frame,
                                                     uint64_t declared_bytes,
                                                     std::span<const uint8_t> prefix = {});

}  // namespace outpost::package
