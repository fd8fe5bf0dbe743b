// Tensor views: shape, dtype, quantization and a data pointer into the arena or the model.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "opm_generated.h"

namespace outpost {

using DType = opm::DType;
using OpCode = opm::OpCode;

constexpr int kMaxRank = 6;

// Bytes of one element; 0 for an unknown dtype.
constexpr size_t DTypeSize(DType t) {
  switch (t) {
    case DType::FLOAT32: return 4;
    case DType::INT8: return 1;
    case DType::UINT8: return 1;
    case DType::INT16: return 2;
    case DType::INT32: return 4;
    case DType::INT64: return 8;
    case DType::BOOL: return 1;
    case DType::FLOAT16: return 2;
  }
  return 0;
}

const char* DTypeName(DType t);
const char* OpName(OpCode op);

// Quantization parameters, pointing into the model (zero copy). Per-tensor when axis < 0.
// A per-channel tensor may store a single zero point for all its channels (format 1.3):
// symmetric weights have zero everywhere, and 8 bytes per channel is a tenth of a small
// depthwise model's file. Read per-channel zero points through zp(c).
struct QuantParams {
  const float* scale = nullptr;
  const int64_t* zero_point = nullptr;
  int32_t count = 0;             // number of scales
  int32_t zero_point_count = 0;  // count, or 1 when one zero point serves every channel
  int32_t axis = -1;
  bool present() const { return count > 0; }
  int64_t zp(int32_t c) const { return zero_point[zero_point_count == 1 ? 0 : c]; }
};

struct TensorView {
  void* data = nullptr;
  size_t bytes = 0;
  DType dtype = DType::FLOAT32;
  int32_t rank = 0;
  int32_t dims[kMaxRank] = {0};
  QuantParams quant;
  bool is_constant = false;
  // A constant left in its stored SPARSE_BITMAP encoding (schema/opm.fbs: the bitmap, then the
  // nonzero elements) because the only kernels reading it read that form in place
  // (KernelRegistration::reads_sparse_weights); `data` is then null.
  const uint8_t* sparse = nullptr;

  int64_t num_elements() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  // Dimension counted from the end when i < 0 (dim(-1) is the innermost).
  int32_t dim(int i) const { return i < 0 ? dims[rank + i] : dims[i]; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
  bool SameShape(const TensorView& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] != o.dims[i]) return false;
    return true;
  }
};

}  // namespace outpost
