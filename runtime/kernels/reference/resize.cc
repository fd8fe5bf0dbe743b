// RESIZE, float32, over all axes: ONNX Resize (opset 11-13) with mode nearest or linear
// (separable N-D linear: bilinear on NCHW images when N and C have scale 1), matching the ONNX
// reference implementation (onnx/backend/test/case/node/resize.py):
//   - the source coordinate is computed in double from `scales` exactly as the reference does,
//     including align_corners / pytorch_half_pixel using length_resized = scale * length_in;
//   - source indices are clamped to the input (the reference's edge padding), so coordinates
//     outside the input take the edge value;
//   - an integer source coordinate takes that element unchanged, so axes with scale 1 (and
//     every coordinate that lands on a pixel) are exact;
//   - linear interpolation nests like the reference: the innermost axis is combined first,
//     all in double, rounded to float once.
// Extra ONNX inputs (roi, scales, sizes) may be present and are not read: the output shape is
// stored and the scales are in the options.
#include <math.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

struct ResizeData {
  int32_t rank;
  opm::ResizeMode mode;
  opm::CoordinateTransform transform;
  opm::NearestMode nearest;
  int64_t in_dims[kMaxRank];
  int64_t out_dims[kMaxRank];
  int64_t in_strides[kMaxRank];
  double scales[kMaxRank];
  double resized_length[kMaxRank];  // scale * input length, as the reference computes it
};

Status PrepareResize(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 4, 1, DType::FLOAT32, /*typed_inputs=*/1u));
  const auto* o = ctx.options<opm::ResizeOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, o->mode() >= opm::ResizeMode::MIN && o->mode() <= opm::ResizeMode::MAX,
                       Status::kUnsupported, "resize mode %d not supported",
                       static_cast<int>(o->mode()));
  OUTPOST_KERNEL_CHECK(ctx,
                       o->coordinate_transform() >= opm::CoordinateTransform::MIN &&
                           o->coordinate_transform() <= opm::CoordinateTransform::MAX,
                       Status::kUnsupported, "coordinate transform %d not supported",
                       static_cast<int>(o->coordinate_transform()));
  OUTPOST_KERNEL_CHECK(
      ctx, o->nearest_mode() >= opm::NearestMode::MIN && o->nearest_mode() <= opm::NearestMode::MAX,
      Status::kUnsupported, "nearest mode %d not supported", static_cast<int>(o->nearest_mode()));
  OUTPOST_KERNEL_CHECK(ctx, x.rank >= 1 && y.rank == x.rank, Status::kShapeMismatch,
                       "input rank %d, output rank %d: must be equal and >= 1", x.rank, y.rank);
  OUTPOST_KERNEL_CHECK(ctx, o->scales() != nullptr && o->scales()->size() == uint32_t(x.rank),
                       Status::kCorruptModel, "scales must have one entry per axis (%d)", x.rank);
  ResizeData* d = ctx.op_data<ResizeData>();
  d->rank = x.rank;
  d->mode = o->mode();
  d->transform = o->coordinate_transform();
  d->nearest = o->nearest_mode();
  ContiguousStrides(x, d->in_strides);
  for (int i = 0; i < x.rank; ++i) {
    const double s = o->scales()->Get(i);
    OUTPOST_KERNEL_CHECK(ctx, s > 0.0 && s < INFINITY, Status::kCorruptModel,
                         "scale of axis %d is %f, must be finite and > 0", i, s);
    // ONNX gives out = floor(in * scale), or scale = out / in when sizes were given (then
    // in * scale is out up to float rounding).
    const double len = s * x.dims[i], out = y.dims[i];
    const double slack = out * 1e-6 > 0.01 ? out * 1e-6 : 0.01;
    OUTPOST_KERNEL_CHECK(ctx, len > out - slack && len < out + 1.0, Status::kShapeMismatch,
                         "axis %d: %d * scale %f does not give the stored size %d", i, x.dims[i], s,
                         y.dims[i]);
    d->in_dims[i] = x.dims[i];
    d->out_dims[i] = y.dims[i];
    d->scales[i] = s;
    d->resized_length[i] = len;
  }
  return Status::kOk;
}

// Source coordinate of output index `x` on axis `a`, clamped to [-1, in] (beyond that every
// index clamps to the same edge element, and the clamp keeps the int conversion defined).
double SourceCoordinate(const ResizeData& d, int a, int64_t x) {
  const double scale = d.scales[a], len = d.resized_length[a];
  const int64_t in = d.in_dims[a];
  double c = 0.0;
  switch (d.transform) {
    case opm::CoordinateTransform::HALF_PIXEL:
      c = (x + 0.5) / scale - 0.5;
      break;
    case opm::CoordinateTransform::ASYMMETRIC:
      c = x / scale;
      break;
    case opm::CoordinateTransform::ALIGN_CORNERS:
      c = len == 1.0 ? 0.0 : static_cast<double>(x * (in - 1)) / (len - 1.0);
      break;
    case opm::CoordinateTransform::PYTORCH_HALF_PIXEL:
      c = len == 1.0 ? -0.5 : (x + 0.5) / scale - 0.5;
      break;
    case opm::CoordinateTransform::TF_HALF_PIXEL_FOR_NN:
      c = (x + 0.5) / scale;
      break;
  }
  if (!(c >= -1.0)) c = -1.0;
  if (c > static_cast<double>(in)) c = static_cast<double>(in);
  return c;
}

inline int64_t Clamp(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

// Input index of output index `x` on axis `a` in nearest mode.
int64_t NearestIndex(const ResizeData& d, int a, int64_t x) {
  const double c = SourceCoordinate(d, a, x);
  const double f = floor(c);
  int64_t i = static_cast<int64_t>(f);
  const double r = c - f;
  if (r != 0.0) {
    switch (d.nearest) {
      case opm::NearestMode::ROUND_PREFER_FLOOR:
        i += r > 0.5 ? 1 : 0;
        break;
      case opm::NearestMode::ROUND_PREFER_CEIL:
        i += r >= 0.5 ? 1 : 0;
        break;
      case opm::NearestMode::FLOOR:
        break;
      case opm::NearestMode::CEIL:
        i += 1;
        break;
    }
  }
  return Clamp(i, d.in_dims[a]);
}

// The two taps of one axis in linear mode; `active` is false when the coordinate is an integer
// and the axis contributes a single element with weight 1.
struct Taps {
  int64_t i0, i1;
  double w0, w1;
  bool active;
};

Taps LinearTaps(const ResizeData& d, int a, int64_t x) {
  const double c = SourceCoordinate(d, a, x);
  const double f = floor(c);
  const double r = c - f;
  const int64_t i = static_cast<int64_t>(f);
  Taps t;
  t.active = r != 0.0;
  t.i0 = Clamp(i, d.in_dims[a]);
  t.i1 = Clamp(i + 1, d.in_dims[a]);
  t.w0 = 1.0 - r;
  t.w1 = r;
  return t;
}

Status EvalNearest(const ResizeData& d, const float* x, float* y, int64_t total) {
  const int last = d.rank - 1;
  int64_t idx[kMaxRank] = {0};
  int64_t src[kMaxRank];  // input offset contributed by each axis
  for (int a = 0; a < d.rank; ++a) src[a] = NearestIndex(d, a, 0) * d.in_strides[a];
  for (int64_t e = 0; e < total; ++e) {
    int64_t off = 0;
    for (int a = 0; a < d.rank; ++a) off += src[a];
    y[e] = x[off];
    for (int a = last; a >= 0; --a) {
      if (++idx[a] == d.out_dims[a]) idx[a] = 0;
      src[a] = NearestIndex(d, a, idx[a]) * d.in_strides[a];
      if (idx[a] != 0) break;
    }
  }
  return Status::kOk;
}

Status EvalLinear(const ResizeData& d, const float* x, float* y, int64_t total) {
  const int last = d.rank - 1;
  int64_t idx[kMaxRank] = {0};
  Taps taps[kMaxRank];
  for (int a = 0; a < d.rank; ++a) taps[a] = LinearTaps(d, a, 0);
  double v[1 << kMaxRank];
  for (int64_t e = 0; e < total; ++e) {
    // Fixed offset from the inactive axes, then the 2^k corners of the k active ones, the
    // innermost active axis in the lowest bit.
    int64_t base = 0;
    int active[kMaxRank];
    int k = 0;
    for (int a = 0; a < d.rank; ++a) {
      if (taps[a].active) {
        active[k++] = a;
      } else {
        base += taps[a].i0 * d.in_strides[a];
      }
    }
    const int corners = 1 << k;
    for (int c = 0; c < corners; ++c) {
      int64_t off = base;
      for (int t = 0; t < k; ++t) {
        const Taps& tp = taps[active[t]];
        off += ((c >> (k - 1 - t)) & 1 ? tp.i1 : tp.i0) * d.in_strides[active[t]];
      }
      v[c] = x[off];
    }
    for (int t = k - 1; t >= 0; --t) {
      const Taps& tp = taps[active[t]];
      for (int j = 0; j < (1 << t); ++j) v[j] = tp.w0 * v[2 * j] + tp.w1 * v[2 * j + 1];
    }
    y[e] = static_cast<float>(v[0]);
    for (int a = last; a >= 0; --a) {
      if (++idx[a] == d.out_dims[a]) idx[a] = 0;
      taps[a] = LinearTaps(d, a, idx[a]);
      if (idx[a] != 0) break;
    }
  }
  return Status::kOk;
}

Status EvalResize(KernelContext& ctx) {
  const ResizeData& d = *ctx.op_data<ResizeData>();
  const float* x = ctx.input(0).as<float>();
  const TensorView& yv = ctx.output(0);
  if (d.mode == opm::ResizeMode::NEAREST)
    return EvalNearest(d, x, yv.as<float>(), yv.num_elements());
  return EvalLinear(d, x, yv.as<float>(), yv.num_elements());
}

}  // namespace

const KernelRegistration kResizeF32Ref =
    ref::Reference(OpCode::RESIZE, DType::FLOAT32, "resize_f32_ref", sizeof(ResizeData),
                   PrepareResize, EvalResize);

}  // namespace kernels
}  // namespace outpost
