#include "io/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "io/host_tensor.h"

namespace outpost::io {
namespace {

bool IsChannelCount(int32_t d) { return d == 1 || d == 3; }

// Source sample position for output index `o` (half-pixel centres), clamped to the image.
struct Tap {
  int i0, i1;
  float frac;
};

Tap MakeTap(int o, int in_size, int out_size) {
  float s =
      (static_cast<float>(o) + 0.5f) * static_cast<float>(in_size) / static_cast<float>(out_size) -
      0.5f;
  s = std::clamp(s, 0.0f, static_cast<float>(in_size - 1));
  const int i0 = static_cast<int>(s);
  return {i0, std::min(i0 + 1, in_size - 1), s - static_cast<float>(i0)};
}

// Red, green, blue (or gray in r=g=b) of an interpolated source pixel.
struct Rgb {
  float r, g, b;
};

Rgb ToRgb(const float* v, PixelFormat f) {
  switch (f) {
    case PixelFormat::kGray:
    case PixelFormat::kGrayAlpha:
      return {v[0], v[0], v[0]};
    case PixelFormat::kRgb:
    case PixelFormat::kRgba:
      return {v[0], v[1], v[2]};
    case PixelFormat::kBgr:
    case PixelFormat::kBgra:
      return {v[2], v[1], v[0]};
  }
  return {0, 0, 0};
}

bool IsGraySource(PixelFormat f) { return f == PixelFormat::kGray || f == PixelFormat::kGrayAlpha; }

std::string Floats(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%s%g", i ? "," : "", static_cast<double>(v[i]));
    s += buf;
  }
  return s + "]";
}

}  // namespace

std::string PreprocessPlan::Describe() const {
  char scale[32];
  std::snprintf(scale, sizeof(scale), "%g", static_cast<double>(value_scale));
  std::string color_name = color == opm::ColorFormat::GRAY  ? "gray"
                           : color == opm::ColorFormat::RGB ? "rgb"
                                                            : "bgr";
  return std::to_string(height) + "x" + std::to_string(width) + " " + color_name + " " +
         (layout == opm::Layout::NCHW ? "NCHW" : "NHWC") + ", x = (pixel*" + scale + " - " +
         Floats(mean) + ") / " + Floats(std);
}

const opm::InputSpec* FindInputSpec(const Model& model, int input_index) {
  const auto* specs = model.fb()->input_specs();
  if (specs == nullptr) return nullptr;
  const int tensor = model.input_tensor(input_index);
  for (const opm::InputSpec* s : *specs)
    if (s->tensor() == tensor) return s;
  return nullptr;
}

Expected<PreprocessPlan> MakePreprocessPlan(std::span<const int32_t> shape,
                                            const opm::InputSpec* spec) {
  const std::string where = "input of shape " + ShapeString(shape);
  std::vector<int32_t> dims(shape.begin(), shape.end());
  if (dims.size() == 4) {
    if (dims[0] != 1)
      return Error(where + ": images are fed one at a time, the batch dimension must be 1");
    dims.erase(dims.begin());
  }
  PreprocessPlan p;
  opm::Layout layout = spec != nullptr ? spec->layout() : opm::Layout::ANY;
  if (dims.size() == 3) {
    if (layout == opm::Layout::ANY) {
      // ONNX models are NCHW unless the channel count only fits the last axis.
      layout = (!IsChannelCount(dims[0]) && IsChannelCount(dims[2])) ? opm::Layout::NHWC
                                                                     : opm::Layout::NCHW;
    }
    if (layout == opm::Layout::NCHW) {
      p.channels = dims[0];
      p.height = dims[1];
      p.width = dims[2];
    } else {
      p.height = dims[0];
      p.width = dims[1];
      p.channels = dims[2];
    }
  } else {
    return Error(where +
                 " is not an image input (expected [1,C,H,W], [1,H,W,C], [C,H,W] or [H,W,C])");
  }
  p.layout = layout;
  if (!IsChannelCount(p.channels))
    return Error(where + " (" + (layout == opm::Layout::NCHW ? "NCHW" : "NHWC") + ") has " +
                 std::to_string(p.channels) + " channels; images give 1 (gray) or 3 (colour)");

  const opm::ColorFormat color = spec != nullptr ? spec->color() : opm::ColorFormat::NONE;
  if (color == opm::ColorFormat::NONE)
    p.color = p.channels == 1 ? opm::ColorFormat::GRAY : opm::ColorFormat::RGB;
  else
    p.color = color;
  if ((p.color == opm::ColorFormat::GRAY) != (p.channels == 1))
    return Error(where + ": input spec says " + opm::EnumNameColorFormat(p.color) + " but it has " +
                 std::to_string(p.channels) + " channel(s)");

  p.value_scale = spec != nullptr ? spec->value_scale() : 1.0f;
  auto per_channel = [&](const flatbuffers::Vector<float>* v, float fill,
                         const char* what) -> Expected<std::vector<float>> {
    if (v == nullptr || v->size() == 0) return std::vector<float>(p.channels, fill);
    if (v->size() == 1) return std::vector<float>(p.channels, v->Get(0));
    if (static_cast<int>(v->size()) != p.channels)
      return Error(where + ": input spec has " + std::to_string(v->size()) + " " + what +
                   " values for " + std::to_string(p.channels) + " channels");
    return std::vector<float>(v->begin(), v->end());
  };
  Expected<std::vector<float>> mean = per_channel(spec ? spec->mean() : nullptr, 0.0f, "mean");
  if (!mean) return mean.error();
  Expected<std::vector<float>> stdev = per_channel(spec ? spec->std() : nullptr, 1.0f, "std");
  if (!stdev) return stdev.error();
  for (float s : *stdev)
    if (!(s != 0.0f) || !std::isfinite(s)) return Error(where + ": input spec has a zero std");
  p.mean = std::move(*mean);
  p.std = std::move(*stdev);
  return p;
}

Expected<PreprocessPlan> MakePreprocessPlan(const Model& model, int input_index) {
  const opm::Tensor& t = *model.fb()->tensors()->Get(model.input_tensor(input_index));
  if (t.dtype() != opm::DType::FLOAT32 && t.quantization() == nullptr)
    return Error("input '" + (t.name() ? t.name()->str() : std::string()) + "' is " +
                 ModelDTypeName(t.dtype()) + ", not an image input");
  std::vector<int32_t> shape;
  if (t.shape() != nullptr) shape.assign(t.shape()->begin(), t.shape()->end());
  Expected<PreprocessPlan> p = MakePreprocessPlan(shape, FindInputSpec(model, input_index));
  if (!p && t.name() != nullptr) return Error("input '" + t.name()->str() + "': " + p.message());
  return p;
}

void Preprocess(const ImageView& image, const PreprocessPlan& plan, float* out) {
  const int in_c = ChannelCount(image.format);
  const size_t stride = image.stride();
  const int H = plan.height, W = plan.width, C = plan.channels;
  const bool gray_out = plan.color == opm::ColorFormat::GRAY;
  const bool gray_in = IsGraySource(image.format);
  const float value_scale = plan.value_scale;
  for (int y = 0; y < H; ++y) {
    const Tap ty = MakeTap(y, image.height, H);
    const uint8_t* row0 = image.pixels + static_cast<size_t>(ty.i0) * stride;
    const uint8_t* row1 = image.pixels + static_cast<size_t>(ty.i1) * stride;
    for (int x = 0; x < W; ++x) {
      const Tap tx = MakeTap(x, image.width, W);
      const uint8_t* p00 = row0 + static_cast<size_t>(tx.i0) * in_c;
      const uint8_t* p01 = row0 + static_cast<size_t>(tx.i1) * in_c;
      const uint8_t* p10 = row1 + static_cast<size_t>(tx.i0) * in_c;
      const uint8_t* p11 = row1 + static_cast<size_t>(tx.i1) * in_c;
      // Interpolate each source channel, then convert colour (both are linear, so the order
      // does not change the result, and a same-size image stays exact).
      float v[4];
      for (int c = 0; c < std::min(in_c, 3); ++c) {
        const float top = p00[c] + (static_cast<float>(p01[c]) - p00[c]) * tx.frac;
        const float bottom = p10[c] + (static_cast<float>(p11[c]) - p10[c]) * tx.frac;
        v[c] = top + (bottom - top) * ty.frac;
      }
      float value[3];
      if (gray_out) {
        if (gray_in) {
          value[0] = v[0];
        } else {
          const Rgb rgb = ToRgb(v, image.format);
          value[0] = 0.299f * rgb.r + 0.587f * rgb.g + 0.114f * rgb.b;  // ITU-R BT.601 luma
        }
      } else {
        const Rgb rgb = ToRgb(v, image.format);
        const bool bgr = plan.color == opm::ColorFormat::BGR;
        value[0] = bgr ? rgb.b : rgb.r;
        value[1] = rgb.g;
        value[2] = bgr ? rgb.r : rgb.b;
      }
      for (int c = 0; c < C; ++c) {
        // Literally the spec's formula (not folded into one multiply-add), so the values match
        // a training script that normalized the same way.
        const float x_out = (value[c] * value_scale - plan.mean[c]) / plan.std[c];
        const size_t idx = plan.layout == opm::Layout::NCHW
                               ? (static_cast<size_t>(c) * H + y) * W + x
                               : (static_cast<size_t>(y) * W + x) * C + c;
        out[idx] = x_out;
      }
    }
  }
}

}  // namespace outpost::io
