// RESIZE, float32, over all axes: ONNX Resize (opset 11-17) with mode nearest, linear (N-linear:
// bilinear on NCHW images when N and C have scale 1) or cubic (N-cubic), matching the ONNX
// reference implementation (onnx/backend/test/case/node/resize.py):
//   - the source coordinate is computed in double exactly as the reference does, including
//     align_corners / pytorch_half_pixel / tf_crop_and_resize using length_resized =
//     scale * length_in; like the reference, the scale is out / in in double when ONNX `sizes`
//     gave it (the option then holds out / in rounded to float), and otherwise the float scale,
//     with length_resized formed in float (numpy's float32 arithmetic);
//   - source indices are clamped to the input (the reference's edge padding), so coordinates
//     outside the input take the edge value;
//   - an integer source coordinate takes that element unchanged, so axes with scale 1 (and
//     every coordinate that lands on a pixel) are exact, and nearest copies elements;
//   - a non-integer coordinate c = f + r reads taps f, f + 1 (linear, weights 1 - r, r) or
//     f - 1 .. f + 2 (cubic, Keys' kernel with coefficient a, weights of taps outside the input
//     zeroed and the rest renormalized with exclude_outside);
//   - interpolation nests like the reference: the innermost axis is combined first, all in
//     double, rounded to float once;
//   - tf_crop_and_resize maps into the roi box; a coordinate outside [0, length_in - 1] on any
//     axis gives extrapolation_value (the reference returns it on that axis, and every
//     interpolation of it over the other axes is it again).
// Extra ONNX inputs (roi, scales, sizes) may be present and are not read: the output shape is
// stored and the scales and roi are in the options.
#include <math.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

constexpr int kMaxTaps = 4;

struct ResizeData {
  int32_t rank;
  opm::ResizeMode mode;
  opm::CoordinateTransform transform;
  opm::NearestMode nearest;
  bool exclude_outside;
  double cubic_a;
  float extrapolation;
  int64_t in_dims[kMaxRank];
  int64_t out_dims[kMaxRank];
  int64_t in_strides[kMaxRank];
  double scales[kMaxRank];
  double resized_length[kMaxRank];  // length_resized of the coordinate transforms
  float roi_start[kMaxRank];        // tf_crop_and_resize only
  float roi_end[kMaxRank];
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
  OUTPOST_KERNEL_CHECK(ctx, !o->exclude_outside() || o->mode() == opm::ResizeMode::CUBIC,
                       Status::kUnsupported, "exclude_outside applies to cubic mode only");
  OUTPOST_KERNEL_CHECK(ctx, isfinite(o->cubic_coeff_a()), Status::kCorruptModel,
                       "cubic_coeff_a is %f, must be finite", o->cubic_coeff_a());
  OUTPOST_KERNEL_CHECK(ctx, x.rank >= 1 && y.rank == x.rank, Status::kShapeMismatch,
                       "input rank %d, output rank %d: must be equal and >= 1", x.rank, y.rank);
  OUTPOST_KERNEL_CHECK(ctx, o->scales() != nullptr && o->scales()->size() == uint32_t(x.rank),
                       Status::kCorruptModel, "scales must have one entry per axis (%d)", x.rank);
  const bool crop = o->coordinate_transform() == opm::CoordinateTransform::TF_CROP_AND_RESIZE;
  if (crop) {
    OUTPOST_KERNEL_CHECK(
        ctx, o->roi() != nullptr && o->roi()->size() == 2u * x.rank, Status::kCorruptModel,
        "tf_crop_and_resize needs a roi of %d values (starts, then ends)", 2 * x.rank);
    for (uint32_t i = 0; i < o->roi()->size(); ++i)
      OUTPOST_KERNEL_CHECK(ctx, isfinite(o->roi()->Get(i)), Status::kCorruptModel,
                           "roi value %u is %f, must be finite", i, o->roi()->Get(i));
  }
  ResizeData* d = ctx.op_data<ResizeData>();
  d->rank = x.rank;
  d->mode = o->mode();
  d->transform = o->coordinate_transform();
  d->nearest = o->nearest_mode();
  d->exclude_outside = o->exclude_outside();
  d->cubic_a = o->cubic_coeff_a();
  d->extrapolation = o->extrapolation_value();
  ContiguousStrides(x, d->in_strides);
  for (int i = 0; i < x.rank; ++i) {
    const float given = o->scales()->Get(i);
    OUTPOST_KERNEL_CHECK(ctx, given > 0.0f && given < INFINITY, Status::kCorruptModel,
                         "scale of axis %d is %f, must be finite and > 0", i, given);
    // The reference's scale and length_resized: from ONNX sizes, out / in and out / in * in in
    // double; from ONNX scales, the float scale and scale * in in float (numpy keeps a float32
    // times a Python int in float32). A scale that is out / in rounded to float came from
    // sizes; a given scale equal to it differs from out / in by at most 2^-24 relative.
    const double exact = static_cast<double>(y.dims[i]) / x.dims[i];
    double s, len;
    if (static_cast<float>(exact) == given) {
      s = exact;
      len = exact * x.dims[i];
    } else {
      // ONNX scales give out = floor(in * scale), the product in double.
      OUTPOST_KERNEL_CHECK(ctx, floor(static_cast<double>(given) * x.dims[i]) == y.dims[i],
                           Status::kShapeMismatch,
                           "axis %d: %d * scale %f does not give the stored size %d", i, x.dims[i],
                           given, y.dims[i]);
      s = given;
      len = given * static_cast<float>(x.dims[i]);
    }
    d->in_dims[i] = x.dims[i];
    d->out_dims[i] = y.dims[i];
    d->scales[i] = s;
    d->resized_length[i] = len;
    d->roi_start[i] = crop ? o->roi()->Get(i) : 0.0f;
    d->roi_end[i] = crop ? o->roi()->Get(i + x.rank) : 1.0f;
  }
  return Status::kOk;
}

// Source coordinate of output index `x` on axis `a`. Sets *outside for a tf_crop_and_resize
// coordinate outside [0, in - 1]. Otherwise the result is clamped to [-1, in] (beyond that
// every index clamps to the same edge element, and the clamp keeps the int conversion defined).
double SourceCoordinate(const ResizeData& d, int a, int64_t x, bool* outside) {
  const double scale = d.scales[a], len = d.resized_length[a];
  const int64_t in = d.in_dims[a];
  double c = 0.0;
  *outside = false;
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
    case opm::CoordinateTransform::TF_CROP_AND_RESIZE: {
      // As the reference computes it: its roi is a float32 array, so the roi terms (and the
      // whole single-output case) are float arithmetic, the rest double.
      const float extent = d.roi_end[a] - d.roi_start[a];
      const float offset = d.roi_start[a] * static_cast<float>(in - 1);
      if (len == 1.0) {
        c = extent * static_cast<float>(in - 1) / 2.0f + offset;
      } else {
        c = static_cast<double>(x) * extent * static_cast<double>(in - 1) / (len - 1.0) + offset;
      }
      // Also catches NaN, which cannot arise from finite options but costs nothing to refuse.
      if (!(c >= 0.0 && c <= static_cast<double>(in - 1))) {
        *outside = true;
        return 0.0;
      }
      break;
    }
  }
  if (!(c >= -1.0)) c = -1.0;
  if (c > static_cast<double>(in)) c = static_cast<double>(in);
  return c;
}

inline int64_t Clamp(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

// The input elements one output coordinate reads on one axis: offsets (index * stride, the
// index clamped into the input) and weights. `count` is 1 when the coordinate is an integer or
// the mode is nearest: the axis then contributes that element with weight 1.
struct Taps {
  int64_t offset[kMaxTaps];
  double weight[kMaxTaps];
  int count;
  bool outside;  // tf_crop_and_resize: the output element is extrapolation_value
};

// Keys' cubic convolution weights for the taps f - 1 .. f + 2 of a coordinate f + r, written
// as the reference's cubic_coeffs writes them.
void CubicWeights(double r, double a, double w[4]) {
  w[0] = ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a;
  w[1] = ((a + 2) * r - (a + 3)) * r * r + 1;
  w[2] = ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1;
  w[3] = ((a * ((1 - r) + 1) - 5 * a) * ((1 - r) + 1) + 8 * a) * ((1 - r) + 1) - 4 * a;
}

Taps AxisTaps(const ResizeData& d, int a, int64_t x) {
  Taps t;
  const double c = SourceCoordinate(d, a, x, &t.outside);
  const int64_t in = d.in_dims[a], stride = d.in_strides[a];
  const double f = floor(c);
  const double r = c - f;
  const int64_t i = static_cast<int64_t>(f);
  t.count = 1;
  t.weight[0] = 1.0;
  if (t.outside) {
    t.offset[0] = 0;
    return t;
  }
  if (d.mode == opm::ResizeMode::NEAREST) {
    int64_t k = i;
    if (r != 0.0) {
      switch (d.nearest) {
        case opm::NearestMode::ROUND_PREFER_FLOOR:
          k += r > 0.5 ? 1 : 0;
          break;
        case opm::NearestMode::ROUND_PREFER_CEIL:
          k += r >= 0.5 ? 1 : 0;
          break;
        case opm::NearestMode::FLOOR:
          break;
        case opm::NearestMode::CEIL:
          k += 1;
          break;
      }
    }
    t.offset[0] = Clamp(k, in) * stride;
    return t;
  }
  if (r == 0.0) {
    t.offset[0] = Clamp(i, in) * stride;
    return t;
  }
  if (d.mode == opm::ResizeMode::LINEAR) {
    t.count = 2;
    t.offset[0] = Clamp(i, in) * stride;
    t.offset[1] = Clamp(i + 1, in) * stride;
    t.weight[0] = 1.0 - r;
    t.weight[1] = r;
    return t;
  }
  t.count = 4;
  CubicWeights(r, d.cubic_a, t.weight);
  for (int k = 0; k < 4; ++k) t.offset[k] = Clamp(i - 1 + k, in) * stride;
  if (d.exclude_outside) {
    double sum = 0.0;
    for (int k = 0; k < 4; ++k) {
      const int64_t idx = i - 1 + k;
      if (idx < 0 || idx >= in) t.weight[k] = 0.0;
      sum += t.weight[k];
    }
    // No tap left with any weight: the reference divides by zero and yields NaN.
    for (int k = 0; k < 4; ++k) t.weight[k] = sum != 0.0 ? t.weight[k] / sum : NAN;
  }
  return t;
}

Status EvalResize(KernelContext& ctx) {
  const ResizeData& d = *ctx.op_data<ResizeData>();
  const float* x = ctx.input(0).as<float>();
  const TensorView& yv = ctx.output(0);
  float* y = yv.as<float>();
  const int64_t total = yv.num_elements();
  const int last = d.rank - 1;
  int64_t idx[kMaxRank] = {0};
  Taps taps[kMaxRank];
  for (int a = 0; a < d.rank; ++a) taps[a] = AxisTaps(d, a, 0);
  for (int64_t e = 0; e < total; ++e) {
    // Fixed offset from the axes with one tap; the axes with several are `active`, the
    // innermost last.
    int64_t base = 0;
    int active[kMaxRank];
    int k = 0;
    bool outside = false;
    for (int a = 0; a < d.rank; ++a) {
      outside |= taps[a].outside;
      if (taps[a].count > 1) {
        active[k++] = a;
      } else {
        base += taps[a].offset[0];
      }
    }
    if (outside) {
      y[e] = d.extrapolation;
    } else if (k == 0) {
      y[e] = x[base];
    } else {
      // Walks the taps of the active axes like an odometer, the innermost fastest. acc[t]
      // accumulates the interpolation over active axes t.. for the current taps of the outer
      // ones; when the taps of axis t wrap, its sum is complete and is weighed into acc[t-1].
      double acc[kMaxRank];
      int digit[kMaxRank];
      for (int t = 0; t < k; ++t) {
        acc[t] = 0.0;
        digit[t] = 0;
      }
      for (;;) {
        int64_t off = base;
        for (int t = 0; t < k; ++t) off += taps[active[t]].offset[digit[t]];
        int t = k - 1;
        acc[t] += taps[active[t]].weight[digit[t]] * static_cast<double>(x[off]);
        while (t >= 0 && ++digit[t] == taps[active[t]].count) {
          digit[t] = 0;
          if (t > 0) {
            acc[t - 1] += taps[active[t - 1]].weight[digit[t - 1]] * acc[t];
            acc[t] = 0.0;
          }
          --t;
        }
        if (t < 0) break;
      }
      y[e] = static_cast<float>(acc[0]);
    }
    for (int a = last; a >= 0; --a) {
      if (++idx[a] == d.out_dims[a]) idx[a] = 0;
      taps[a] = AxisTaps(d, a, idx[a]);
      if (idx[a] != 0) break;
    }
  }
  return Status::kOk;
}

}  // namespace

const KernelRegistration kResizeF32Ref =
    ref::Reference(OpCode::RESIZE, DType::FLOAT32, "resize_f32_ref", sizeof(ResizeData),
                   PrepareResize, EvalResize);

}  // namespace kernels
}  // namespace outpost
