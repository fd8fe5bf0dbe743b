#include "compiler/quantize/weights.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/fp16.h"

namespace outpost::quant {
namespace {

// Elements between consecutive indices of `axis`, and the count of that axis.
struct AxisLayout {
  int64_t channels = 1;
  int64_t inner = 1;
};

AxisLayout Layout(const std::vector<int64_t>& shape, int axis) {
  AxisLayout l;
  if (axis < 0) {
    l.inner = ir::NumElements(shape);
    return l;
  }
  l.channels = shape[static_cast<size_t>(axis)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) l.inner *= shape[d];
  return l;
}

int64_t ChannelOf(int64_t index, const AxisLayout& l) { return (index / l.inner) % l.channels; }

}  // namespace

SymmetricInt8 QuantizeSymmetric(std::span<const float> w, const std::vector<int64_t>& shape,
                                int axis) {
  const AxisLayout l = Layout(shape, axis);
  SymmetricInt8 q;
  q.axis = axis;
  std::vector<float> absmax(static_cast<size_t>(l.channels), 0.0f);
  for (size_t i = 0; i < w.size(); ++i) {
    float& m = absmax[static_cast<size_t>(ChannelOf(static_cast<int64_t>(i), l))];
    m = std::max(m, std::fabs(w[i]));
  }
  float smallest = 0;
  for (float m : absmax)
    if (m > 0 && (smallest == 0 || m / 127.0f < smallest)) smallest = m / 127.0f;
  q.scales.resize(absmax.size());
  for (size_t c = 0; c < absmax.size(); ++c)
    q.scales[c] = absmax[c] > 0 ? absmax[c] / 127.0f : (smallest > 0 ? smallest : 1.0f);
  q.values.resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const float s = q.scales[static_cast<size_t>(ChannelOf(static_cast<int64_t>(i), l))];
    const float v = std::round(w[i] / s);  // half away from zero
    q.values[i] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
  }
  return q;
}

std::vector<float> Dequantize(const SymmetricInt8& q, const std::vector<int64_t>& shape) {
  const AxisLayout l = Layout(shape, q.axis);
  std::vector<float> out(q.values.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = q.scales[static_cast<size_t>(ChannelOf(static_cast<int64_t>(i), l))] *
             static_cast<float>(q.values[i]);
  return out;
}

std::vector<int32_t> QuantizeBias(std::span<const float> bias, float input_scale,
                                  const std::vector<float>& weight_scales,
                                  const std::string& name, std::vector<std::string>* warnings) {
  std::vector<int32_t> out(bias.size());
  constexpr double kMax = std::numeric_limits<int32_t>::max();
  bool saturated = false;
  for (size_t c = 0; c < bias.size(); ++c) {
    const double s = static_cast<double>(input_scale) *
                     weight_scales[weight_scales.size() == 1 ? 0 : c];
    double v = std::round(static_cast<double>(bias[c]) / s);
    if (v > kMax || v < -kMax) {
      saturated = true;
      v = std::clamp(v, -kMax, kMax);
    }
    out[c] = static_cast<int32_t>(v);
  }
  if (saturated && warnings)
    warnings->push_back("bias '" + name +
                        "' does not fit int32 at scale input_scale * weight_scale and was "
                        "saturated (its weights are tiny next to it)");
  return out;
}

std::vector<uint16_t> ToFloat16(std::span<const float> v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = FloatToHalf(v[i]);
  return out;
}

}  // namespace outpost::quant
