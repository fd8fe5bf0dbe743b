// PAD and SLICE, for every dtype (the bytes are moved unchanged).
//
// PAD: pads are [begin of every axis..., end of every axis...] (ONNX order). A negative pad
// crops; cropping happens first and the remaining padding is relative to the cropped tensor
// (as in onnxruntime), so REFLECT and EDGE mirror the cropped edge. REFLECT follows NumPy
// (edge not repeated; pads longer than the axis keep reflecting back and forth).
// The pad value of CONSTANT mode is options.value converted to the tensor's type: quantized
// for a per-tensor quantized tensor (0.0 becomes the zero point), exact for integer tensors.
//
// SLICE: start and step per input axis, output dims stored; every index is checked in prepare.
#include <math.h>
#include <string.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

struct PadData {
  int32_t rank;
  opm::PadMode mode;
  int64_t out_dims[kMaxRank];
  int64_t in_strides[kMaxRank];
  int64_t crop[kMaxRank];    // first input index kept
  int64_t kept[kMaxRank];    // input length kept after cropping
  int64_t before[kMaxRank];  // output cells before the kept input
  alignas(8) uint8_t value[8];
};

// The pad value as raw element bytes; fails if it has no exact representation.
bool ConvertPadValue(const TensorView& t, float value, uint8_t out[8]) {
  if (t.dtype == DType::FLOAT32) {
    memcpy(out, &value, 4);
    return true;
  }
  int64_t lo = 0, hi = 0;
  switch (t.dtype) {
    case DType::INT8:
      lo = -128, hi = 127;
      break;
    case DType::UINT8:
      lo = 0, hi = 255;
      break;
    case DType::INT16:
      lo = -32768, hi = 32767;
      break;
    case DType::INT32:
      lo = INT32_MIN, hi = INT32_MAX;
      break;
    case DType::INT64:
      lo = INT64_MIN, hi = INT64_MAX;
      break;
    case DType::BOOL:
      lo = 0, hi = 1;
      break;
    default:
      return false;
  }
  double q = value;
  if (t.quant.present()) {
    if (t.quant.count != 1) return false;  // per-channel: no single pad value
    // real = scale * (q - zero_point), rounded half to even like QuantizeLinear, saturated.
    q = rint(static_cast<double>(value) / t.quant.scale[0]) +
        static_cast<double>(t.quant.zero_point[0]);
    if (!(q == q)) return false;
    q = q < static_cast<double>(lo) ? static_cast<double>(lo) : q;
    q = q > static_cast<double>(hi) ? static_cast<double>(hi) : q;
  } else if (!(q == rint(q)) || q < static_cast<double>(lo) || q > static_cast<double>(hi)) {
    return false;
  }
  if (q >= 9223372036854775808.0) return false;  // 2^63: beyond int64
  const int64_t v = static_cast<int64_t>(q);
  switch (DTypeSize(t.dtype)) {
    case 1: {
      const uint8_t b = static_cast<uint8_t>(v);
      memcpy(out, &b, 1);
      return true;
    }
    case 2: {
      const int16_t s = static_cast<int16_t>(v);
      memcpy(out, &s, 2);
      return true;
    }
    case 4: {
      const int32_t w = static_cast<int32_t>(v);
      memcpy(out, &w, 4);
      return true;
    }
    default:
      memcpy(out, &v, 8);
      return true;
  }
}

Status PreparePad(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::CheckMoveOperands(ctx, 1, 1, 1, 1));
  const auto* o = ctx.options<opm::PadOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  const int rank = x.rank;
  OUTPOST_KERNEL_CHECK(ctx, o->mode() >= opm::PadMode::MIN && o->mode() <= opm::PadMode::MAX,
                       Status::kCorruptModel, "unknown pad mode %d", static_cast<int>(o->mode()));
  OUTPOST_KERNEL_CHECK(ctx, y.rank == rank, Status::kShapeMismatch, "output has rank %d, input %d",
                       y.rank, rank);
  const uint32_t num_pads = o->pads() != nullptr ? o->pads()->size() : 0;
  OUTPOST_KERNEL_CHECK(ctx, num_pads == 2u * rank, Status::kCorruptModel,
                       "pads must have %d entries (begins, then ends), has %u", 2 * rank, num_pads);
  PadData* d = ctx.op_data<PadData>();
  d->rank = rank;
  d->mode = o->mode();
  ContiguousStrides(x, d->in_strides);
  for (int i = 0; i < rank; ++i) {
    const int64_t begin = o->pads()->Get(i), end = o->pads()->Get(i + rank);
    const int64_t dim = x.dims[i];
    OUTPOST_KERNEL_CHECK(ctx, y.dims[i] == dim + begin + end, Status::kShapeMismatch,
                         "output axis %d is %d, pads give %lld", i, y.dims[i],
                         static_cast<long long>(dim + begin + end));
    d->crop[i] = begin < 0 ? -begin : 0;
    d->kept[i] = dim - d->crop[i] - (end < 0 ? -end : 0);
    d->before[i] = begin > 0 ? begin : 0;
    d->out_dims[i] = y.dims[i];
    OUTPOST_KERNEL_CHECK(ctx, d->kept[i] >= 1, Status::kShapeMismatch,
                         "negative pads crop away all of axis %d", i);
  }
  if (d->mode == opm::PadMode::CONSTANT)
    OUTPOST_KERNEL_CHECK(ctx, ConvertPadValue(x, o->value(), d->value), Status::kUnsupported,
                         "pad value %f has no exact %s representation", o->value(),
                         DTypeName(x.dtype));
  return Status::kOk;
}

// Index into the kept range [0, n) for a position j outside it; -1 for constant padding.
inline int64_t MapOutside(int64_t j, int64_t n, opm::PadMode mode) {
  if (mode == opm::PadMode::EDGE) return j < 0 ? 0 : n - 1;
  if (mode == opm::PadMode::REFLECT) {
    if (n == 1) return 0;
    const int64_t period = 2 * (n - 1);
    int64_t r = j % period;
    if (r < 0) r += period;
    return r < n ? r : period - r;
  }
  return -1;
}

template <size_t kSize>
Status PadImpl(KernelContext& ctx) {
  const PadData* d = ctx.op_data<PadData>();
  const uint8_t* x = ctx.input(0).as<uint8_t>();
  uint8_t* y = ctx.output(0).as<uint8_t>();
  if (d->rank == 0) {
    memcpy(y, x, kSize);
    return Status::kOk;
  }
  const int last = d->rank - 1;
  const int64_t n = d->out_dims[last];
  const int64_t rows = ctx.output(0).num_elements() / n;
  const int64_t before = d->before[last], kept = d->kept[last];
  int64_t idx[kMaxRank] = {0};
  for (int64_t r = 0; r < rows; ++r, y += n * kSize) {
    // Input offset of this output row, or -1 when the row lies in constant padding.
    int64_t src = d->crop[last];
    for (int k = 0; k < last && src >= 0; ++k) {
      int64_t j = idx[k] - d->before[k];
      if (j < 0 || j >= d->kept[k]) j = MapOutside(j, d->kept[k], d->mode);
      src = j < 0 ? -1 : src + (d->crop[k] + j) * d->in_strides[k];
    }
    if (src < 0) {
      ref::FillElements<kSize>(y, d->value, n);
    } else {
      const uint8_t* xr = x + src * kSize;
      for (int64_t o = 0; o < before; ++o) {
        const int64_t j = MapOutside(o - before, kept, d->mode);
        memcpy(y + o * kSize, j < 0 ? d->value : xr + j * kSize, kSize);
      }
      memcpy(y + before * kSize, xr, static_cast<size_t>(kept) * kSize);
      for (int64_t o = before + kept; o < n; ++o) {
        const int64_t j = MapOutside(o - before, kept, d->mode);
        memcpy(y + o * kSize, j < 0 ? d->value : xr + j * kSize, kSize);
      }
    }
    for (int k = last - 1; k >= 0; --k) {
      if (++idx[k] < d->out_dims[k]) break;
      idx[k] = 0;
    }
  }
  return Status::kOk;
}

Status EvalPad(KernelContext& ctx) {
  OUTPOST_DISPATCH_ELEMENT_SIZE(DTypeSize(ctx.input(0).dtype), PadImpl, ctx);
}

struct SliceData {
  int32_t rank;
  int32_t dims[kMaxRank];     // output dims
  int64_t strides[kMaxRank];  // input stride per output step: step * input stride
  int64_t start;              // input offset of the first output element
};

Status PrepareSlice(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::CheckMoveOperands(ctx, 1, 1, 1, 1));
  const auto* o = ctx.options<opm::SliceOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  const int rank = x.rank;
  OUTPOST_KERNEL_CHECK(ctx, y.rank == rank, Status::kShapeMismatch, "output has rank %d, input %d",
                       y.rank, rank);
  const uint32_t num_starts = o->starts() != nullptr ? o->starts()->size() : 0;
  const uint32_t num_steps = o->steps() != nullptr ? o->steps()->size() : 0;
  OUTPOST_KERNEL_CHECK(ctx, num_starts == uint32_t(rank), Status::kCorruptModel,
                       "starts must have one entry per axis (%d), has %u", rank, num_starts);
  // Absent (or empty) steps mean 1 on every axis.
  OUTPOST_KERNEL_CHECK(ctx, num_steps == 0 || num_steps == uint32_t(rank), Status::kCorruptModel,
                       "steps must have one entry per axis (%d), has %u", rank, num_steps);
  SliceData* d = ctx.op_data<SliceData>();
  int64_t in_strides[kMaxRank];
  ContiguousStrides(x, in_strides);
  d->rank = rank;
  d->start = 0;
  for (int i = 0; i < rank; ++i) {
    const int64_t start = o->starts()->Get(i);
    const int64_t step = num_steps ? o->steps()->Get(i) : 1;
    OUTPOST_KERNEL_CHECK(ctx, step != 0, Status::kCorruptModel, "step of axis %d is 0", i);
    // Indices are monotonic along an axis: the first and last one bound all the others.
    const int64_t last = start + (y.dims[i] - 1) * step;
    OUTPOST_KERNEL_CHECK(ctx, start >= 0 && start < x.dims[i] && last >= 0 && last < x.dims[i],
                         Status::kShapeMismatch,
                         "axis %d: %d elements from %lld step %lld leave the input of size %d", i,
                         y.dims[i], static_cast<long long>(start), static_cast<long long>(step),
                         x.dims[i]);
    d->dims[i] = y.dims[i];
    d->strides[i] = step * in_strides[i];
    d->start += start * in_strides[i];
  }
  return Status::kOk;
}

template <size_t kSize>
Status SliceImpl(KernelContext& ctx) {
  const SliceData* d = ctx.op_data<SliceData>();
  const uint8_t* x = ctx.input(0).as<uint8_t>();
  uint8_t* y = ctx.output(0).as<uint8_t>();
  if (d->rank == 0) {
    memcpy(y, x, kSize);
    return Status::kOk;
  }
  const int last = d->rank - 1;
  const int64_t n = d->dims[last];
  const int64_t rows = ctx.output(0).num_elements() / n;
  int32_t idx[kMaxRank] = {0};
  int64_t src = d->start;
  for (int64_t r = 0; r < rows; ++r) {
    ref::CopyStrided<kSize>(y + r * n * kSize, x + src * kSize, n, d->strides[last]);
    for (int k = last - 1; k >= 0; --k) {
      src += d->strides[k];
      if (++idx[k] < d->dims[k]) break;
      src -= d->strides[k] * d->dims[k];
      idx[k] = 0;
    }
  }
  return Status::kOk;
}

Status EvalSlice(KernelContext& ctx) {
  OUTPOST_DISPATCH_ELEMENT_SIZE(DTypeSize(ctx.input(0).dtype), SliceImpl, ctx);
}

}  // namespace

OUTPOST_MOVE_KERNEL(Pad, "pad", PAD, sizeof(PadData), PreparePad, EvalPad)
OUTPOST_MOVE_KERNEL(Slice, "slice", SLICE, sizeof(SliceData), PrepareSlice, EvalSlice)

}  // namespace kernels
}  // namespace outpost
