#include "compiler/passes/quant_params.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

namespace outpost::passes {

bool SameQuantization(const ir::Quantization& a, const ir::Quantization& b) {
  if (a.scale.size() != b.scale.size() || a.zero_point != b.zero_point) return false;
  if (a.scale.size() > 1 && a.axis != b.axis) return false;
  for (size_t i = 0; i < a.scale.size(); ++i) {
    const double x = a.scale[i], y = b.scale[i];
    if (!(std::fabs(x - y) <= 1e-6 * std::max(std::fabs(x), std::fabs(y)))) return false;
  }
  return true;
}

std::string ScaleText(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string DescribeQuantization(const ir::Quantization& q) {
  std::ostringstream s;
  if (q.scale.empty()) return "no quantization parameters";
  if (q.scale.size() == 1) {
    s << "scale " << ScaleText(q.scale[0]) << " and zero point "
      << (q.zero_point.empty() ? 0 : q.zero_point[0]);
    return s.str();
  }
  const auto [lo, hi] = std::minmax_element(q.scale.begin(), q.scale.end());
  const auto [zlo, zhi] = std::minmax_element(q.zero_point.begin(), q.zero_point.end());
  s << "per-axis scales (axis " << q.axis << ", " << q.scale.size() << " values, "
    << ScaleText(*lo) << " to " << ScaleText(*hi) << ") and zero points ";
  if (q.zero_point.empty()) {
    s << "0";
  } else if (*zlo == *zhi) {
    s << *zlo;
  } else {
    s << *zlo << " to " << *zhi;
  }
  return s.str();
}

int64_t DTypeMin(ir::DType dtype) {
  switch (dtype) {
    case ir::DType::INT8: return -128;
    case ir::DType::UINT8: return 0;
    case ir::DType::INT32: return std::numeric_limits<int32_t>::min();
    default: return 0;
  }
}

int64_t DTypeMax(ir::DType dtype) {
  switch (dtype) {
    case ir::DType::INT8: return 127;
    case ir::DType::UINT8: return 255;
    case ir::DType::INT32: return std::numeric_limits<int32_t>::max();
    default: return 0;
  }
}

void CheckQuantization(const ir::Quantization& q, ir::DType dtype,
                       const std::vector<int64_t>& shape, const std::string& tensor) {
  const std::string who = "tensor '" + tensor + "': ";
  if (q.scale.empty()) throw Error(who + "quantized without a scale");
  if (q.zero_point.size() != q.scale.size())
    throw Error(who + "has " + std::to_string(q.scale.size()) + " scales but " +
                std::to_string(q.zero_point.size()) + " zero points");
  for (size_t i = 0; i < q.scale.size(); ++i) {
    const float s = q.scale[i];
    if (!(std::isfinite(s) && s > 0.0f))
      throw Error(who + "quantization scale " +
                  (q.scale.size() > 1 ? std::to_string(i) + " " : std::string()) + "is " +
                  ScaleText(s) + "; a scale must be positive and finite");
  }
  if (dtype == ir::DType::INT32) {
    for (int64_t z : q.zero_point)
      if (z != 0)
        throw Error(who + "INT32 values take zero point 0, not " + std::to_string(z));
  } else if (dtype == ir::DType::INT8 || dtype == ir::DType::UINT8) {
    for (int64_t z : q.zero_point)
      if (z < DTypeMin(dtype) || z > DTypeMax(dtype))
        throw Error(who + "zero point " + std::to_string(z) + " is outside the " +
                    opm::EnumNameDType(dtype) + " range [" + std::to_string(DTypeMin(dtype)) +
                    ", " + std::to_string(DTypeMax(dtype)) + "]");
  }
  if (q.scale.size() > 1 || q.axis >= 0) {
    if (q.axis < 0 || q.axis >= static_cast<int>(shape.size()))
      throw Error(who + "per-axis quantization axis " + std::to_string(q.axis) +
                  " is out of range for shape " + ir::ShapeString(shape));
    if (static_cast<int64_t>(q.scale.size()) != shape[q.axis])
      throw Error(who + "has " + std::to_string(q.scale.size()) + " per-axis scales for axis " +
                  std::to_string(q.axis) + " of length " + std::to_string(shape[q.axis]));
  }
}

ir::Quantization ShiftZeroPoints(ir::Quantization q, int64_t delta) {
  for (int64_t& z : q.zero_point) z += delta;
  return q;
}

float ScaleAt(const ir::Quantization& q, int64_t c) {
  return q.scale.size() == 1 ? q.scale[0] : q.scale[static_cast<size_t>(c)];
}

int64_t ZeroPointAt(const ir::Quantization& q, int64_t c) {
  if (q.zero_point.empty()) return 0;
  return q.zero_point.size() == 1 ? q.zero_point[0] : q.zero_point[static_cast<size_t>(c)];
}

ir::Quantization TransposedQuantization(const ir::Quantization& q, const std::vector<int>& perm) {
  ir::Quantization out = q;
  if (q.axis < 0) return out;
  for (size_t k = 0; k < perm.size(); ++k)
    if (perm[k] == q.axis) out.axis = static_cast<int>(k);
  return out;
}

std::optional<ir::Quantization> ReshapedQuantization(const ir::Quantization& q,
                                                     const std::vector<int64_t>& in,
                                                     const std::vector<int64_t>& out) {
  if (q.axis < 0) return q;
  int64_t before = 1;
  for (int k = 0; k < q.axis; ++k) before *= in[k];
  int64_t prefix = 1;
  for (size_t k = 0; k < out.size(); ++k) {
    if (prefix == before && out[k] == in[q.axis]) {
      ir::Quantization r = q;
      r.axis = static_cast<int>(k);
      return r;
    }
    prefix *= out[k];
  }
  return std::nullopt;
}

int64_t QuantizeValue(float x, float scale, int64_t zero_point, int64_t lo, int64_t hi) {
  // ONNX divides in float32 and rounds with numpy.rint (half to even).
  const float v = x / scale;
  if (std::isnan(v)) return std::clamp(zero_point, lo, hi);
  const double r = std::nearbyint(static_cast<double>(v)) + static_cast<double>(zero_point);
  if (r <= static_cast<double>(lo)) return lo;
  if (r >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(r);
}

}  // namespace outpost::passes
