// NumPy .npy files (format versions 1.0, 2.0 and 3.0) and raw little-endian tensor files.
//
// Supported: little-endian (or byte-order-free) C-order arrays of float32, float64, int8,
// uint8, int16, int32, int64 and bool. Fortran-order and big-endian arrays are refused with a
// message saying how to re-save them, rather than silently transposed or byte-swapped.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "io/host_tensor.h"

namespace outpost::io {

struct NpyReadOptions {
  // Narrow float64 arrays (NumPy's default dtype) to float32 on read.
  bool float64_to_float32 = false;
};

// Parses .npy bytes; `name` prefixes error messages (usually the path).
Expected<HostTensor> DecodeNpy(std::span<const uint8_t> bytes, const std::string& name,
                               const NpyReadOptions& options = {});
Expected<HostTensor> ReadNpy(const std::string& path, const NpyReadOptions& options = {});

// Encodes as version 1.0 (2.0 when the header needs more than 64 KiB), header padded so the
// data starts 64-byte aligned, as NumPy does.
std::vector<uint8_t> EncodeNpy(const HostTensor& tensor);
// EncodeNpy, written atomically.
Expected<Unit> WriteNpy(const std::string& path, const HostTensor& tensor);

// True when `bytes` start with the .npy magic string.
bool IsNpy(std::span<const uint8_t> bytes);

// A raw little-endian dump with no header (e.g. `array.astype('<f4').tofile(path)`); its size
// must be exactly what `shape` and `type` need.
Expected<HostTensor> ReadRawTensor(const std::string& path, ElementType type,
                                   std::vector<int64_t> shape);

}  // namespace outpost::io
