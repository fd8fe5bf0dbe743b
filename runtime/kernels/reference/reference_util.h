// Helpers private to the reference kernels: window arithmetic that never forms an out-of-range
// index, axis normalization, option checks, and byte-wise element copies for the data-movement
// kernels (one implementation per element size serves every dtype of that size).
#pragma once

#include <stdint.h>
#include <string.h>

#include "runtime/kernels/kernel_util.h"

namespace outpost {
namespace kernels {
namespace ref {

// C++ division truncates toward zero; window bounds need true floor / ceil. b > 0.
inline int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); }

// Half-open range [begin, end); empty when end <= begin.
struct Range {
  int64_t begin;
  int64_t end;
  int64_t size() const { return end > begin ? end - begin : 0; }
};

// The indices i in [0, count) for which i * step + offset lies in [0, limit). step > 0.
// Computing this once per tap is what lets the inner loops run without bounds checks.
inline Range ValidRange(int64_t offset, int64_t step, int64_t limit, int64_t count) {
  int64_t lo = CeilDiv(-offset, step);
  int64_t hi = FloorDiv(limit - 1 - offset, step) + 1;
  if (lo < 0) lo = 0;
  if (hi > count) hi = count;
  return {lo, hi};
}

// Maps a possibly negative axis into [0, rank). Returns false when out of range.
inline bool NormalizeAxis(int64_t axis, int rank, int* out) {
  if (axis < -rank || axis >= rank) return false;
  *out = static_cast<int>(axis < 0 ? axis + rank : axis);
  return true;
}

// The verifier does not range-check enums, so every enum read from options is checked here.
inline Status CheckActivation(KernelContext& ctx, opm::Activation a) {
  OUTPOST_KERNEL_CHECK(ctx, a >= opm::Activation::MIN && a <= opm::Activation::MAX,
                       Status::kCorruptModel, "unknown fused activation %d", static_cast<int>(a));
  return Status::kOk;
}

// FULLY_CONNECTED's shapes, float and int8 alike: X [N, K], W [O, K], Y [N, O].
inline Status CheckFullyConnectedShapes(KernelContext& ctx) {
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.rank == 2 && w.rank == 2 && y.rank == 2, Status::kShapeMismatch,
                       "input, weights and output must have rank 2, have %d, %d, %d", x.rank,
                       w.rank, y.rank);
  OUTPOST_KERNEL_CHECK(ctx, x.dims[1] == w.dims[1], Status::kShapeMismatch,
                       "input has %d features, weights expect %d", x.dims[1], w.dims[1]);
  OUTPOST_KERNEL_CHECK(ctx, y.dims[0] == x.dims[0] && y.dims[1] == w.dims[0],
                       Status::kShapeMismatch, "output is [%d,%d], expected [%d,%d]", y.dims[0],
                       y.dims[1], x.dims[0], w.dims[0]);
  return Status::kOk;
}

inline bool SameQuantization(const TensorView& a, const TensorView& b) {
  if (a.quant.count != b.quant.count) return false;
  if (a.quant.count == 0) return true;
  if (a.quant.axis != b.quant.axis) return false;
  for (int32_t i = 0; i < a.quant.count; ++i)
    if (a.quant.scale[i] != b.quant.scale[i] || a.quant.zp(i) != b.quant.zp(i))
      return false;
  return true;
}

// Operand checks for the data-movement kernels, which serve every dtype: the dtype is the one
// of input 0 (which the resolver chose the kernel by), inputs in `typed_inputs` and all
// outputs must share it, and because bytes are moved unchanged they must also share its
// quantization (requantizing is a different op).
inline Status CheckMoveOperands(KernelContext& ctx, int min_in, int max_in, int min_out,
                                int max_out, uint32_t typed_inputs = 0xffffffffu) {
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() >= 1 && ctx.has_input(0), Status::kCorruptModel,
                       "input 0 missing");
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_outputs() >= min_out && ctx.num_outputs() <= max_out,
                       Status::kCorruptModel, "expects %d..%d outputs, has %d", min_out, max_out,
                       ctx.num_outputs());
  const TensorView& x = ctx.input(0);
  const int outs = ctx.num_outputs();
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, min_in, max_in, outs, x.dtype, typed_inputs));
  const size_t es = DTypeSize(x.dtype);
  OUTPOST_KERNEL_CHECK(ctx, es == 1 || es == 2 || es == 4 || es == 8, Status::kUnsupported,
                       "dtype %s not supported", DTypeName(x.dtype));
  for (int i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i) && (typed_inputs >> i & 1u))
      OUTPOST_KERNEL_CHECK(ctx, SameQuantization(ctx.input(i), x), Status::kUnsupported,
                           "input %d is quantized differently from input 0", i);
  for (int i = 0; i < outs; ++i)
    OUTPOST_KERNEL_CHECK(ctx, SameQuantization(ctx.output(i), x), Status::kUnsupported,
                         "output %d is quantized differently from input 0", i);
  return Status::kOk;
}

// Copies `n` elements of kSize bytes from a strided source. memcpy of a constant size compiles
// to one load/store and, unlike a typed pointer, does not assume alignment.
template <size_t kSize>
inline void CopyStrided(uint8_t* dst, const uint8_t* src, int64_t n, int64_t src_stride) {
  if (src_stride == 1) {
    memcpy(dst, src, static_cast<size_t>(n) * kSize);
    return;
  }
  const int64_t step = src_stride * static_cast<int64_t>(kSize);  // may be negative
  for (int64_t i = 0; i < n; ++i) memcpy(dst + i * kSize, src + i * step, kSize);
}

template <size_t kSize>
inline void FillElements(uint8_t* dst, const uint8_t* value, int64_t n) {
  for (int64_t i = 0; i < n; ++i) memcpy(dst + i * kSize, value, kSize);
}

// A reference registration: portable (no CPU features) and without scratch memory.
constexpr KernelRegistration Reference(OpCode op, DType dtype, const char* name,
                                       size_t op_data_bytes, Status (*prepare)(KernelContext&),
                                       Status (*eval)(KernelContext&)) {
  return {op,      dtype, KernelFamily::kReference, name, op_data_bytes, nullptr,
          prepare, eval,  0,                         nullptr};
}

}  // namespace ref
}  // namespace kernels
}  // namespace outpost

// Calls FN<element size>(args...) for the element sizes the data-movement kernels support.
#define OUTPOST_DISPATCH_ELEMENT_SIZE(size, FN, ...) \
  do {                                               \
    switch (size) {                                  \
      case 1:                                        \
        return FN<1>(__VA_ARGS__);                   \
      case 2:                                        \
        return FN<2>(__VA_ARGS__);                   \
      case 4:                                        \
        return FN<4>(__VA_ARGS__);                   \
      case 8:                                        \
        return FN<8>(__VA_ARGS__);                   \
      default:                                       \
        return Status::kInternal;                    \
    }                                                \
  } while (0)

// Registrations of a data-movement kernel for every dtype it serves; NAME is the X-macro name,
// LOWER the kernel name prefix shown by profiles.
#define OUTPOST_MOVE_KERNEL(NAME, LOWER, OPC, DATA, PREP, EVAL)                        \
  const KernelRegistration k##NAME##F32Ref =                                           \
      ref::Reference(OpCode::OPC, DType::FLOAT32, LOWER "_f32_ref", DATA, PREP, EVAL); \
  /* unused where int8 has a kernel of its own (Concat: QuantizedConcat rescales) */   \
  [[maybe_unused]] const KernelRegistration k##NAME##I8Ref =                           \
      ref::Reference(OpCode::OPC, DType::INT8, LOWER "_i8_ref", DATA, PREP, EVAL);     \
  const KernelRegistration k##NAME##U8Ref =                                            \
      ref::Reference(OpCode::OPC, DType::UINT8, LOWER "_u8_ref", DATA, PREP, EVAL);    \
  const KernelRegistration k##NAME##I32Ref =                                           \
      ref::Reference(OpCode::OPC, DType::INT32, LOWER "_i32_ref", DATA, PREP, EVAL);   \
  const KernelRegistration k##NAME##I64Ref =                                           \
      ref::Reference(OpCode::OPC, DType::INT64, LOWER "_i64_ref", DATA, PREP, EVAL);   \
  const KernelRegistration k##NAME##I16Ref =                                           \
      ref::Reference(OpCode::OPC, DType::INT16, LOWER "_i16_ref", DATA, PREP, EVAL);   \
  const KernelRegistration k##NAME##BoolRef =                                          \
      ref::Reference(OpCode::OPC, DType::BOOL, LOWER "_bool_ref", DATA, PREP, EVAL);
