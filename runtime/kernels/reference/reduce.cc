// REDUCE_MEAN, float32, ONNX ReduceMean: mean over `axes` (negative allowed; absent or empty
// means every axis), keep_dims keeps reduced axes as 1. The sum is kept in double so that large
// reductions (e.g. a mean over a 224x224 image) stay accurate.
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

// A set of axes of the input, walked as a nested loop.
struct AxisSet {
  int32_t count;
  int32_t dims[kMaxRank];
  int64_t strides[kMaxRank];  // input strides
};

struct ReduceData {
  AxisSet kept;  // in output order
  AxisSet reduced;
  int64_t reduced_elements;
};

Status PrepareReduceMean(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::FLOAT32));
  const auto* o = ctx.options<opm::ReduceOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  bool reduce[kMaxRank] = {false};
  if (o->axes() == nullptr || o->axes()->size() == 0) {
    for (int i = 0; i < x.rank; ++i) reduce[i] = true;
  } else {
    OUTPOST_KERNEL_CHECK(ctx, o->axes()->size() <= uint32_t(x.rank), Status::kCorruptModel,
                         "%u axes for rank %d", o->axes()->size(), x.rank);
    for (int32_t raw : *o->axes()) {
      int a = 0;
      OUTPOST_KERNEL_CHECK(ctx, ref::NormalizeAxis(raw, x.rank, &a), Status::kCorruptModel,
                           "axis %d out of range for rank %d", raw, x.rank);
      OUTPOST_KERNEL_CHECK(ctx, !reduce[a], Status::kCorruptModel, "axis %d repeated", raw);
      reduce[a] = true;
    }
  }
  int64_t strides[kMaxRank];
  ContiguousStrides(x, strides);
  ReduceData* d = ctx.op_data<ReduceData>();
  d->kept.count = d->reduced.count = 0;
  int32_t want[kMaxRank];
  int want_rank = 0;
  d->reduced_elements = 1;
  for (int i = 0; i < x.rank; ++i) {
    AxisSet& s = reduce[i] ? d->reduced : d->kept;
    s.dims[s.count] = x.dims[i];
    s.strides[s.count] = strides[i];
    ++s.count;
    if (reduce[i]) d->reduced_elements *= x.dims[i];
    if (!reduce[i] || o->keep_dims()) want[want_rank++] = reduce[i] ? 1 : x.dims[i];
  }
  bool same = y.rank == want_rank;
  for (int i = 0; same && i < want_rank; ++i) same = y.dims[i] == want[i];
  OUTPOST_KERNEL_CHECK(ctx, same, Status::kShapeMismatch,
                       "output has rank %d; reducing gives rank %d (keep_dims=%d) with other dims",
                       y.rank, want_rank, o->keep_dims() ? 1 : 0);
  return Status::kOk;
}

// Sum over the reduced axes starting at input offset `base`; the innermost reduced axis is the
// inner loop.
double SumReduced(const float* x, int64_t base, const AxisSet& r) {
  if (r.count == 0) return x[base];
  const int last = r.count - 1;
  const int64_t n = r.dims[last], stride = r.strides[last];
  int64_t rows = 1;
  for (int i = 0; i < last; ++i) rows *= r.dims[i];
  int32_t idx[kMaxRank] = {0};
  int64_t off = base;
  double sum = 0.0;
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t i = 0; i < n; ++i) sum += x[off + i * stride];
    for (int k = last - 1; k >= 0; --k) {
      off += r.strides[k];
      if (++idx[k] < r.dims[k]) break;
      off -= r.strides[k] * r.dims[k];
      idx[k] = 0;
    }
  }
  return sum;
}

Status EvalReduceMean(KernelContext& ctx) {
  const ReduceData* d = ctx.op_data<ReduceData>();
  const float* x = ctx.input(0).as<float>();
  float* y = ctx.output(0).as<float>();
  const int64_t total = ctx.output(0).num_elements();
  const double count = static_cast<double>(d->reduced_elements);
  const AxisSet& kept = d->kept;
  int32_t idx[kMaxRank] = {0};
  int64_t base = 0;
  for (int64_t e = 0; e < total; ++e) {
    y[e] = static_cast<float>(SumReduced(x, base, d->reduced) / count);
    for (int k = kept.count - 1; k >= 0; --k) {
      base += kept.strides[k];
      if (++idx[k] < kept.dims[k]) break;
      base -= kept.strides[k] * kept.dims[k];
      idx[k] = 0;
    }
  }
  return Status::kOk;
}

}  // namespace

const KernelRegistration kReduceMeanF32Ref =
    ref::Reference(OpCode::REDUCE_MEAN, DType::FLOAT32, "reduce_mean_f32_ref", sizeof(ReduceData),
                   PrepareReduceMean, EvalReduceMean);

}  // namespace kernels
}  // namespace outpost
