#include "io/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "io/host_tensor.h"

namespace outpost::io {
namespace {

bool IsChannelCount(int32_t d) { return d == 1 || d == 3; }

// Source sample position `s` (in source pixels, half-pixel centres) as the two neighbours
// and the fraction between them, clamped to the image.
struct Tap {
  int i0, i1;
  float frac;
};

Tap MakeTap(float s, int in_size) {
  s = std::clamp(s, 0.0f, static_cast<float>(in_size - 1));
  const int i0 = static_cast<int>(s);
  return {i0, std::min(i0 + 1, in_size - 1), s - static_cast<float>(i0)};
}

// How one output axis samples its source region: bilinear taps, or for an area resize the
// weighted source indices of each output index (rows begin[o] .. begin[o + 1] of index/weight).
struct AxisTable {
  bool bilinear = true;
  std::vector<Tap> taps;
  std::vector<int> begin;
  std::vector<int> index;
  std::vector<float> weight;
};

// One axis of the geometry: source region length, destination region start and length, and
// for a letterbox the exact transform (input = frame * scale + pad) the taps must follow.
struct Axis {
  int src_len, dst_start, dst_len;
  bool use_transform;
  float scale, pad;
};

float SourcePosition(const Axis& a, int o) {
  if (a.use_transform) return (static_cast<float>(o + a.dst_start) + 0.5f - a.pad) / a.scale - 0.5f;
  return (static_cast<float>(o) + 0.5f) * static_cast<float>(a.src_len) /
             static_cast<float>(a.dst_len) -
         0.5f;
}

// OpenCV's computeResizeAreaTab: destination cell [o * k, (o + 1) * k) in source pixels with
// k = src / dst, each source pixel weighted by the part of it the cell covers, normalized by
// the cell's width.
void BuildAreaTable(const Axis& a, AxisTable& t) {
  const double k = static_cast<double>(a.src_len) / a.dst_len;
  for (int o = 0; o < a.dst_len; ++o) {
    t.begin.push_back(static_cast<int>(t.index.size()));
    const double f1 = o * k, f2 = f1 + k;
    const double cell = std::min(k, a.src_len - f1);
    int s2 = std::min(static_cast<int>(std::floor(f2)), a.src_len - 1);
    int s1 = std::min(static_cast<int>(std::ceil(f1)), s2);
    auto add = [&](int i, double w) {
      t.index.push_back(i);
      t.weight.push_back(static_cast<float>(w / cell));
    };
    if (s1 - f1 > 1e-3) add(s1 - 1, s1 - f1);
    for (int i = s1; i < s2; ++i) add(i, 1.0);
    if (f2 - s2 > 1e-3) add(s2, std::min(std::min(f2 - s2, 1.0), cell));
  }
  t.begin.push_back(static_cast<int>(t.index.size()));
}

void BuildAxis(const Axis& a, ResizeMethod method, AxisTable& t) {
  t.taps.clear();
  t.begin.clear();
  t.index.clear();
  t.weight.clear();
  t.bilinear = method == ResizeMethod::kBilinear || a.dst_len >= a.src_len;
  if (t.bilinear) {
    for (int o = 0; o < a.dst_len; ++o) t.taps.push_back(MakeTap(SourcePosition(a, o), a.src_len));
  } else {
    BuildAreaTable(a, t);
  }
}

// Row buffers reused from frame to frame (only ever grown).
struct Scratch {
  AxisTable x, y;
  std::vector<float> rows;   // two source rows resampled horizontally, or sum + one row
  std::vector<float> mixed;  // the vertically resampled row, source channel planes
  std::vector<float> norm;   // the normalized output row, one plane per model channel
  int cached[2];
};

// Resamples source row `row` horizontally into `used` planes of dst_len floats.
void HorizontalPass(const uint8_t* row, int in_c, int used, const AxisTable& t, int dst_len,
                    float* planes) {
  for (int c = 0; c < used; ++c) {
    float* d = planes + static_cast<size_t>(c) * dst_len;
    const uint8_t* src = row + c;
    if (t.bilinear) {
      for (int o = 0; o < dst_len; ++o) {
        const Tap& tap = t.taps[o];
        const float a = src[static_cast<size_t>(tap.i0) * in_c];
        const float b = src[static_cast<size_t>(tap.i1) * in_c];
        d[o] = a + (b - a) * tap.frac;
      }
    } else {
      for (int o = 0; o < dst_len; ++o) {
        float sum = 0;
        for (int k = t.begin[o]; k < t.begin[o + 1]; ++k)
          sum += t.weight[k] * src[static_cast<size_t>(t.index[k]) * in_c];
        d[o] = sum;
      }
    }
  }
}

// Writes one output row (input row `y`) through `put(index, value)`: padding outside the
// destination region, `norm` planes inside it.
template <typename T, typename Convert>
void EmitRow(const PreprocessPlan& plan, const PreprocessGeometry& g, int y, const float* norm,
             const float* pad, T* out, Convert convert) {
  const int H = plan.height, W = plan.width, C = plan.channels;
  const bool content = y >= g.dst_y && y < g.dst_y + g.dst_height;
  const int x0 = content ? g.dst_x : W, x1 = content ? g.dst_x + g.dst_width : W;
  if (plan.layout == opm::Layout::NCHW) {
    for (int c = 0; c < C; ++c) {
      T* d = out + (static_cast<size_t>(c) * H + y) * W;
      const T p = convert(pad[c]);
      for (int x = 0; x < x0; ++x) d[x] = p;
      const float* s = norm + static_cast<size_t>(c) * g.dst_width - g.dst_x;
      for (int x = x0; x < x1; ++x) d[x] = convert(s[x]);
      for (int x = x1; x < W; ++x) d[x] = p;
    }
    return;
  }
  T* d = out + static_cast<size_t>(y) * W * C;
  for (int x = 0; x < W; ++x)
    for (int c = 0; c < C; ++c)
      d[static_cast<size_t>(x) * C + c] = convert(
          x >= x0 && x < x1 ? norm[static_cast<size_t>(c) * g.dst_width + x - g.dst_x] : pad[c]);
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

PreprocessGeometry ComputeGeometry(const PreprocessPlan& plan, int frame_width, int frame_height) {
  const int W = plan.width, H = plan.height;
  const int fw = std::max(frame_width, 1), fh = std::max(frame_height, 1);
  PreprocessGeometry g;
  g.src_width = fw;
  g.src_height = fh;
  g.dst_width = W;
  g.dst_height = H;
  switch (plan.fit) {
    case FitMode::kStretch:
      g.scale_x = static_cast<float>(W) / static_cast<float>(fw);
      g.scale_y = static_cast<float>(H) / static_cast<float>(fh);
      break;
    case FitMode::kLetterbox: {
      // pipeline::FrameTransform::Letterbox: one scale, the scaled size rounded to whole
      // pixels, centred with a possibly fractional pad. An input pixel is content when its
      // centre lies in the scaled frame, so the region starts at floor(pad).
      const float s = std::min(static_cast<float>(W) / static_cast<float>(fw),
                               static_cast<float>(H) / static_cast<float>(fh));
      const float scaled_w = std::round(static_cast<float>(fw) * s);
      const float scaled_h = std::round(static_cast<float>(fh) * s);
      g.scale_x = g.scale_y = s;
      g.pad_x = (static_cast<float>(W) - scaled_w) / 2;
      g.pad_y = (static_cast<float>(H) - scaled_h) / 2;
      g.dst_x = static_cast<int>(std::floor(g.pad_x));
      g.dst_y = static_cast<int>(std::floor(g.pad_y));
      g.dst_width = std::min(static_cast<int>(scaled_w), W - g.dst_x);
      g.dst_height = std::min(static_cast<int>(scaled_h), H - g.dst_y);
      break;
    }
    case FitMode::kCenterCrop: {
      const int64_t crop_w =
          std::clamp<int64_t>(std::llround(static_cast<double>(fh) * W / H), 1, fw);
      const int64_t crop_h =
          std::clamp<int64_t>(std::llround(static_cast<double>(fw) * H / W), 1, fh);
      g.src_width = static_cast<int>(crop_w);
      g.src_height = static_cast<int>(crop_h);
      g.src_x = (fw - g.src_width) / 2;
      g.src_y = (fh - g.src_height) / 2;
      g.scale_x = static_cast<float>(W) / static_cast<float>(g.src_width);
      g.scale_y = static_cast<float>(H) / static_cast<float>(g.src_height);
      g.pad_x = -static_cast<float>(g.src_x) * g.scale_x;
      g.pad_y = -static_cast<float>(g.src_y) * g.scale_y;
      break;
    }
  }
  return g;
}

namespace {

// Runs the whole preprocessing, handing each finished output row to EmitRow with `convert`.
template <typename T, typename Convert>
void Run(const ImageView& image, const PreprocessPlan& plan, T* out, Convert convert) {
  thread_local Scratch scratch;
  Scratch& sc = scratch;
  const PreprocessGeometry g = ComputeGeometry(plan, image.width, image.height);
  const bool letterbox = plan.fit == FitMode::kLetterbox;
  BuildAxis({g.src_width, g.dst_x, g.dst_width, letterbox, g.scale_x, g.pad_x}, plan.resize, sc.x);
  BuildAxis({g.src_height, g.dst_y, g.dst_height, letterbox, g.scale_y, g.pad_y}, plan.resize,
            sc.y);

  const int in_c = ChannelCount(image.format);
  const bool gray_in = IsGraySource(image.format);
  const int used = gray_in ? 1 : 3;
  const int C = plan.channels;
  const size_t dw = static_cast<size_t>(g.dst_width);
  const size_t plane_row = static_cast<size_t>(used) * dw;
  sc.rows.resize(2 * plane_row);
  sc.mixed.resize(plane_row);
  sc.norm.resize(static_cast<size_t>(C) * dw);
  sc.cached[0] = sc.cached[1] = -1;
  const size_t stride = image.stride();
  const uint8_t* origin =
      image.pixels + static_cast<size_t>(g.src_y) * stride + static_cast<size_t>(g.src_x) * in_c;

  // Source planes in source order (r, g, b or b, g, r or gray) -> model channel planes.
  const bool bgr_in = image.format == PixelFormat::kBgr || image.format == PixelFormat::kBgra;
  const bool gray_out = plan.color == opm::ColorFormat::GRAY;
  const bool bgr_out = plan.color == opm::ColorFormat::BGR;
  float pad[3];
  for (int c = 0; c < C; ++c)
    pad[c] = (plan.pad_value * plan.value_scale - plan.mean[c]) / plan.std[c];

  // The horizontally resampled source row `i`, from the two-row cache (bilinear neighbours
  // share rows from one output row to the next).
  auto row_planes = [&](int i, int keep) -> const float* {
    for (int k = 0; k < 2; ++k)
      if (sc.cached[k] == i) return sc.rows.data() + k * plane_row;
    const int slot = sc.cached[0] == keep ? 1 : 0;
    sc.cached[slot] = i;
    float* p = sc.rows.data() + slot * plane_row;
    HorizontalPass(origin + static_cast<size_t>(i) * stride, in_c, used, sc.x, g.dst_width, p);
    return p;
  };

  for (int y = 0; y < plan.height; ++y) {
    const int oy = y - g.dst_y;
    if (oy < 0 || oy >= g.dst_height || dw == 0) {
      EmitRow(plan, g, y, sc.norm.data(), pad, out, convert);
      continue;
    }
    // Vertical pass: interpolated source channel planes, in source order.
    float* planes = sc.mixed.data();
    if (sc.y.bilinear) {
      const Tap& ty = sc.y.taps[oy];
      const float* top = row_planes(ty.i0, -1);
      const float* bottom = row_planes(ty.i1, ty.i0);
      for (size_t k = 0; k < plane_row; ++k) planes[k] = top[k] + (bottom[k] - top[k]) * ty.frac;
    } else {
      float* row = sc.rows.data();
      std::fill(planes, planes + plane_row, 0.0f);
      for (int k = sc.y.begin[oy]; k < sc.y.begin[oy + 1]; ++k) {
        HorizontalPass(origin + static_cast<size_t>(sc.y.index[k]) * stride, in_c, used, sc.x,
                       g.dst_width, row);
        const float w = sc.y.weight[k];
        for (size_t j = 0; j < plane_row; ++j) planes[j] += w * row[j];
      }
    }
    const float* R = planes + (bgr_in ? 2 * dw : 0);
    const float* G = planes + (gray_in ? 0 : dw);
    const float* B = planes + (gray_in || bgr_in ? 0 : 2 * dw);
    for (int c = 0; c < C; ++c) {
      float* d = sc.norm.data() + static_cast<size_t>(c) * dw;
      const float vs = plan.value_scale, m = plan.mean[c], sd = plan.std[c];
      // Literally the spec's formula (not folded into one multiply-add), so the values match
      // a training script that normalized the same way.
      if (gray_out && !gray_in) {
        for (size_t o = 0; o < dw; ++o) {
          const float luma = 0.299f * R[o] + 0.587f * G[o] + 0.114f * B[o];  // ITU-R BT.601
          d[o] = (luma * vs - m) / sd;
        }
      } else {
        const float* s = gray_out ? planes : (c == 1 ? G : ((c == 0) != bgr_out ? R : B));
        for (size_t o = 0; o < dw; ++o) d[o] = (s[o] * vs - m) / sd;
      }
    }
    EmitRow(plan, g, y, sc.norm.data(), pad, out, convert);
  }
}

template <typename Q>
void RunQuantized(const ImageView& image, const PreprocessPlan& plan, float scale,
                  int32_t zero_point, Q* out) {
  // The arithmetic of io::Session::SetInputFromFloat, value by value.
  const float inv = 1.0f / scale;
  constexpr int64_t lo = std::numeric_limits<Q>::min();
  constexpr int64_t hi = std::numeric_limits<Q>::max();
  if (zero_point < lo || zero_point > hi) {
    const int64_t zp = zero_point;
    Run(image, plan, out, [=](float x) {
      const int64_t v = static_cast<int64_t>(std::nearbyint(x * inv)) + zp;
      return static_cast<Q>(v < lo ? lo : (v > hi ? hi : v));
    });
    return;
  }
  // The same result in a form the compiler vectorizes (nearbyint is a library call without
  // SSE4.1): x / scale is first clamped to one step beyond where the output saturates, which
  // keeps it below 2^22, where adding and subtracting 1.5 * 2^23 rounds to the nearest
  // integer, ties to even, exactly as nearbyint does in the default rounding mode.
  const float t_lo = static_cast<float>(lo - zero_point - 1);
  const float t_hi = static_cast<float>(hi - zero_point + 1);
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  const int32_t zp = zero_point;
  Run(image, plan, out, [=](float x) {
    const float t = std::min(std::max(t_lo, x * inv), t_hi);  // NaN goes to t_lo
    const int32_t v = static_cast<int32_t>((t + kRound) - kRound) + zp;
    return static_cast<Q>(std::min<int32_t>(std::max<int32_t>(v, lo), hi));
  });
}

}  // namespace

void Preprocess(const ImageView& image, const PreprocessPlan& plan, float* out) {
  Run(image, plan, out, [](float x) { return x; });
}

void PreprocessQuantized(const ImageView& image, const PreprocessPlan& plan, float scale,
                         int32_t zero_point, int8_t* out) {
  RunQuantized(image, plan, scale, zero_point, out);
}

void PreprocessQuantized(const ImageView& image, const PreprocessPlan& plan, float scale,
                         int32_t zero_point, uint8_t* out) {
  RunQuantized(image, plan, scale, zero_point, out);
}

}  // namespace outpost::io
