// Range selection: which real interval of an activation tensor its 256 int8 levels cover.
//
// Every method but minmax trades clipping error (values outside the range saturate) against
// rounding error (a wider range means coarser steps), using the histogram calibration recorded.
// Candidate ranges clip both sides at the same magnitude T: [max(min, -T), min(max, T)], so a
// one-signed tensor (a ReLU output) is searched over [0, T] and uses all 256 levels.
//
//   minmax      [min, max] as observed.
//   percentile  T keeps the given share of |x| (TensorRT's and ONNX Runtime's definition).
//   entropy     T minimizing KL(P || Q) between the clipped histogram P and its quantized
//               version Q (TensorRT's entropy calibration as NVIDIA's pytorch-quantization
//               computes it: 128 levels for a signed tensor, 256 for a one-signed one,
//               thresholds from bin 128 up; exact zeros are left out of the histogram).
//   mse         T minimizing the expected squared error: clipped values cost their distance to
//               the range's end, values inside cost step^2 / 12 (exact zeros cost nothing).
#pragma once

#include <cstdint>
#include <span>

#include "compiler/quantize/quantizer.h"

namespace outpost::quant {

struct FloatRange {
  float min = 0;
  float max = 0;
};

// The range `method` selects. Throws Error when the method needs a histogram and `stats` has
// none, or when percentile is outside (0, 100].
FloatRange SelectRange(const TensorStats& stats, CalibrationMethod method, double percentile);

// Asymmetric int8 parameters for a range: it is first widened to contain 0 (which must be
// exactly representable: zero padding, ReLU), then scale = (max - min) / 255 and the zero
// point is round(-128 - min / scale). A range of width 0 gets scale 1, zero point 0.
struct Int8Params {
  float scale = 1;
  int64_t zero_point = 0;
  float min() const { return scale * static_cast<float>(-128 - zero_point); }
  float max() const { return scale * static_cast<float>(127 - zero_point); }
};
Int8Params ChooseInt8Params(FloatRange range);

// Statistics of a set of values as Calibrate() would record them (histogram over
// [-max|x|, max|x|] with `bins` bins). For tests and for data known up front.
TensorStats StatsFromValues(std::span<const float> values, int bins = 2048);

// The expected squared quantization error of the tensor `stats` describes under `params`
// (the MSE method's objective; also a figure of merit for tests and reports).
double ExpectedSquaredError(const TensorStats& stats, const Int8Params& params);

}  // namespace outpost::quant
