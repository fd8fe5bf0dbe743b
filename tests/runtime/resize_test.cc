// RESIZE reference kernel: the ONNX backend test cases, and a comparison on random data with a
// literal transcription of the ONNX reference implementation (edge-padded neighbours found by
// distance, nested 1-D interpolation over the axes, its float and double arithmetic).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

using opm::CoordinateTransform;
using opm::NearestMode;
using opm::ResizeMode;

opm::OpOptionsUnion ResizeOpts(ResizeMode mode, CoordinateTransform ct, NearestMode nm,
                               std::vector<float> scales) {
  opm::ResizeOptionsT o;
  o.mode = mode;
  o.coordinate_transform = ct;
  o.nearest_mode = nm;
  o.scales = std::move(scales);
  return Options(o);
}

std::vector<float> RunResize(const opm::ResizeOptionsT& o, std::vector<int32_t> in_shape,
                             const std::vector<float>& x, std::vector<int32_t> out_shape) {
  SingleOpModel m(opm::OpCode::RESIZE, Options(o), {Operand::F32(in_shape, x)},
                  {Operand::Out(out_shape)});
  EXPECT_EQ(m.Run(), Status::kOk) << m.error();
  return m.OutputF32(0);
}

std::vector<float> RunResize(ResizeMode mode, CoordinateTransform ct, NearestMode nm,
                             std::vector<float> scales, std::vector<int32_t> in_shape,
                             const std::vector<float>& x, std::vector<int32_t> out_shape) {
  opm::ResizeOptionsT o;
  o.mode = mode;
  o.coordinate_transform = ct;
  o.nearest_mode = nm;
  o.scales = std::move(scales);
  return RunResize(o, std::move(in_shape), x, std::move(out_shape));
}

opm::ResizeOptionsT Cubic(CoordinateTransform ct, std::vector<float> scales, float a = -0.75f,
                          bool exclude_outside = false) {
  opm::ResizeOptionsT o;
  o.mode = ResizeMode::CUBIC;
  o.coordinate_transform = ct;
  o.scales = std::move(scales);
  o.cubic_coeff_a = a;
  o.exclude_outside = exclude_outside;
  return o;
}

// Scales as an importer derives them from ONNX `sizes`: out / in in float.
std::vector<float> SizeScales(const std::vector<int32_t>& in, const std::vector<int32_t>& out) {
  std::vector<float> s;
  for (size_t i = 0; i < in.size(); ++i) s.push_back(float(out[i]) / float(in[i]));
  return s;
}

const auto kHalf = CoordinateTransform::HALF_PIXEL;
const auto kFloor = NearestMode::ROUND_PREFER_FLOOR;

TEST(Resize, OnnxNearestCases) {
  EXPECT_EQ(
      RunResize(ResizeMode::NEAREST, kHalf, kFloor, {1, 1, 2, 3}, {1, 1, 2, 2}, {1, 2, 3, 4},
                {1, 1, 4, 6}),
      (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  EXPECT_EQ(RunResize(ResizeMode::NEAREST, kHalf, kFloor, {1, 1, 0.6f, 0.6f}, {1, 1, 2, 4},
                      {1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 1, 2}),
            (std::vector<float>{1, 3}));
  EXPECT_EQ(RunResize(ResizeMode::NEAREST, kHalf, kFloor, SizeScales({1, 1, 2, 2}, {1, 1, 7, 8}),
                      {1, 1, 2, 2}, {1, 2, 3, 4}, {1, 1, 7, 8}),
            (std::vector<float>{1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1,
                                1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4,
                                4, 4, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4}));
  EXPECT_EQ(RunResize(ResizeMode::NEAREST, kHalf, kFloor, SizeScales({1, 1, 2, 4}, {1, 1, 1, 3}),
                      {1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 1, 3}),
            (std::vector<float>{1, 2, 4}));
  std::vector<float> x16(16);
  for (int i = 0; i < 16; ++i) x16[i] = i + 1;
  EXPECT_EQ(RunResize(ResizeMode::NEAREST, CoordinateTransform::ALIGN_CORNERS, NearestMode::FLOOR,
                      {1, 1, 2, 2}, {1, 1, 4, 4}, x16, {1, 1, 8, 8}),
            (std::vector<float>{1, 1, 1, 2,  2,  3,  3,  4,  1,  1,  1,  2,  2,  3,  3,  4,
                                1, 1, 1, 2,  2,  3,  3,  4,  5,  5,  5,  6,  6,  7,  7,  8,
                                5, 5, 5, 6,  6,  7,  7,  8,  9,  9,  9,  10, 10, 11, 11, 12,
                                9, 9, 9, 10, 10, 11, 11, 12, 13, 13, 13, 14, 14, 15, 15, 16}));
  const std::vector<float> ceil_like = {
      1,  2,  2,  3,  3,  4,  4,  4,  5,  6,  6,  7,  7,  8,  8,  8,  5,  6,  6,  7,  7,  8,
      8,  8,  9,  10, 10, 11, 11, 12, 12, 12, 9,  10, 10, 11, 11, 12, 12, 12, 13, 14, 14, 15,
      15, 16, 16, 16, 13, 14, 14, 15, 15, 16, 16, 16, 13, 14, 14, 15, 15, 16, 16, 16};
  EXPECT_EQ(
      RunResize(ResizeMode::NEAREST, CoordinateTransform::ASYMMETRIC,
                NearestMode::ROUND_PREFER_CEIL, {1, 1, 2, 2}, {1, 1, 4, 4}, x16, {1, 1, 8, 8}),
      ceil_like);
  EXPECT_EQ(RunResize(ResizeMode::NEAREST, kHalf, NearestMode::CEIL, {1, 1, 2, 2}, {1, 1, 4, 4},
                      x16, {1, 1, 8, 8}),
            ceil_like);
  EXPECT_EQ(RunResize(ResizeMode::NEAREST, CoordinateTransform::TF_HALF_PIXEL_FOR_NN, kFloor,
                      SizeScales({1, 1, 4, 4}, {1, 1, 3, 2}), {1, 1, 4, 4}, x16, {1, 1, 3, 2}),
            (std::vector<float>{6, 8, 10, 12, 14, 16}));
}

TEST(Resize, OnnxLinearCases) {
  ExpectClose(RunResize(ResizeMode::LINEAR, kHalf, kFloor, {1, 1, 2, 2}, {1, 1, 2, 2}, {1, 2, 3, 4},
                        {1, 1, 4, 4}),
              {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}, {},
              0.0);
  ExpectClose(RunResize(ResizeMode::LINEAR, CoordinateTransform::ALIGN_CORNERS, kFloor,
                        {1, 1, 2, 2}, {1, 1, 2, 2}, {1, 2, 3, 4}, {1, 1, 4, 4}),
              {1, 4.0 / 3, 5.0 / 3, 2, 5.0 / 3, 2, 7.0 / 3, 8.0 / 3, 7.0 / 3, 8.0 / 3, 3, 10.0 / 3,
               3, 10.0 / 3, 11.0 / 3, 4},
              {}, 1e-7);
  ExpectClose(RunResize(ResizeMode::LINEAR, kHalf, kFloor, {1, 1, 0.6f, 0.6f}, {1, 1, 2, 4},
                        {1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 1, 2}),
              {2.66666651, 4.33333302}, {}, 1e-7);
  // align_corners uses scale * length (2.4 here), not the output size 2, as the reference.
  ExpectClose(RunResize(ResizeMode::LINEAR, CoordinateTransform::ALIGN_CORNERS, kFloor,
                        {1, 1, 0.6f, 0.6f}, {1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 1, 2}),
              {1, 3.14285707}, {}, 1e-7);
  std::vector<float> x16(16);
  for (int i = 0; i < 16; ++i) x16[i] = i + 1;
  ExpectClose(RunResize(ResizeMode::LINEAR, CoordinateTransform::PYTORCH_HALF_PIXEL, kFloor,
                        SizeScales({1, 1, 4, 4}, {1, 1, 3, 1}), {1, 1, 4, 4}, x16, {1, 1, 3, 1}),
              {1.66666663, 7, 12.333333}, {}, 1e-7);
}

// The ONNX backend cases of resize.py (onnx 1.12), expected values as printed there.
const std::vector<float> kX16 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

TEST(Resize, OnnxCubicCases) {
  ExpectClose(RunResize(Cubic(kHalf, {1, 1, 0.8f, 0.8f}), {1, 1, 4, 4}, kX16, {1, 1, 3, 3}),
              {1.47119141, 2.78125, 4.08251953, 6.71142578, 8.02148438, 9.32275391, 11.91650391,
               13.2265625, 14.52783203},
              {}, 1e-7);
  ExpectClose(RunResize(Cubic(CoordinateTransform::ALIGN_CORNERS, {1, 1, 0.8f, 0.8f}), {1, 1, 4, 4},
                        kX16, {1, 1, 3, 3}),
              {1, 2.39519159, 3.79038317, 6.58076634, 7.97595793, 9.37114951, 12.16153268,
               13.55672427, 14.95191585},
              {}, 1e-7);
  ExpectClose(RunResize(Cubic(kHalf, SizeScales({1, 1, 4, 4}, {1, 1, 3, 3})), {1, 1, 4, 4}, kX16,
                        {1, 1, 3, 3}),
              {1.63078704, 3.00462963, 4.37847222, 7.12615741, 8.5, 9.87384259, 12.62152778,
               13.99537037, 15.36921296},
              {}, 1e-7);
  ExpectClose(
      RunResize(Cubic(kHalf, {1, 1, 0.8f, 0.8f}, -0.5f, true), {1, 1, 4, 4}, kX16, {1, 1, 3, 3}),
      {1.36812675, 2.6695014, 4.0133367, 6.57362535, 7.875, 9.2188353, 11.94896657, 13.25034122,
       14.59417652},
      {}, 1e-7);
  // Upsampling by 2: the first two rows of the 8 x 8 outputs.
  auto rows2 = [](const std::vector<float>& y) {
    return std::vector<float>(y.begin(), y.begin() + 16);
  };
  ExpectClose(
      rows2(RunResize(Cubic(kHalf, {1, 1, 2, 2}), {1, 1, 4, 4}, kX16, {1, 1, 8, 8})),
      {0.47265625, 0.76953125, 1.24609375, 1.875, 2.28125, 2.91015625, 3.38671875, 3.68359375,
       1.66015625, 1.95703125, 2.43359375, 3.0625, 3.46875, 4.09765625, 4.57421875, 4.87109375},
      {}, 1e-7);
  ExpectClose(
      rows2(RunResize(Cubic(CoordinateTransform::ALIGN_CORNERS, {1, 1, 2, 2}), {1, 1, 4, 4}, kX16,
                      {1, 1, 8, 8})),
      {1, 1.34110787, 1.80029155, 2.32944606, 2.67055394, 3.19970845, 3.65889213, 4, 2.36443149,
       2.70553936, 3.16472303, 3.69387755, 4.03498542, 4.56413994, 5.02332362, 5.36443149},
      {}, 1e-7);
  ExpectClose(
      rows2(RunResize(Cubic(kHalf, {1, 1, 2, 2}, -0.5f, true), {1, 1, 4, 4}, kX16, {1, 1, 8, 8})),
      {0.55882353, 0.81494204, 1.35698249, 1.89705882, 2.39705882, 2.93713516, 3.47917561,
       3.73529412, 1.58329755, 1.83941606, 2.38145651, 2.92153285, 3.42153285, 3.96160918,
       4.50364964, 4.75976814},
      {}, 1e-7);
  ExpectClose(rows2(RunResize(Cubic(CoordinateTransform::ASYMMETRIC, {1, 1, 2, 2}), {1, 1, 4, 4},
                              kX16, {1, 1, 8, 8})),
              {1, 1.40625, 2, 2.5, 3, 3.59375, 4, 4.09375, 2.625, 3.03125, 3.625, 4.125, 4.625,
               5.21875, 5.625, 5.71875},
              {}, 1e-7);
  const auto sized = RunResize(Cubic(kHalf, SizeScales({1, 1, 4, 4}, {1, 1, 9, 10})), {1, 1, 4, 4},
                               kX16, {1, 1, 9, 10});
  ExpectClose(std::vector<float>(sized.begin(), sized.begin() + 10),
              {0.45507922, 0.64057922, 0.97157922, 1.42257922, 1.90732922, 2.22332922, 2.70807922,
               3.15907922, 3.49007922, 3.67557922},
              {}, 1e-7);
}

opm::ResizeOptionsT Crop(ResizeMode mode, std::vector<float> scales, std::vector<float> roi,
                         float extrapolation = 0.0f) {
  opm::ResizeOptionsT o;
  o.mode = mode;
  o.coordinate_transform = CoordinateTransform::TF_CROP_AND_RESIZE;
  o.scales = std::move(scales);
  o.roi = std::move(roi);
  o.extrapolation_value = extrapolation;
  return o;
}

TEST(Resize, OnnxCropAndResizeCases) {
  const auto scales = SizeScales({1, 1, 4, 4}, {1, 1, 3, 3});
  ExpectClose(RunResize(Crop(ResizeMode::LINEAR, scales, {0, 0, 0.4f, 0.6f, 1, 1, 0.6f, 0.8f}),
                        {1, 1, 4, 4}, kX16, {1, 1, 3, 3}),
              {7.6000004, 7.9, 8.2, 8.8, 9.1, 9.400001, 10, 10.3, 10.6}, {}, 1e-6);
  // Outside the input on either axis: extrapolation_value.
  ExpectClose(
      RunResize(Crop(ResizeMode::LINEAR, scales, {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f}, 10.0f),
                {1, 1, 4, 4}, kX16, {1, 1, 3, 3}),
      {7.6000004, 10, 10, 12.400001, 10, 10, 10, 10, 10}, {}, 1e-6);
  // A single output element samples the middle of the box: 0.5 * (0.25 + 0.75) * 3 = 1.5.
  ExpectClose(RunResize(Crop(ResizeMode::LINEAR, SizeScales({1, 4}, {1, 1}), {0, 0.25f, 1, 0.75f}),
                        {1, 4}, {1, 2, 3, 4}, {1, 1}),
              {2.5}, {}, 0.0);
}

TEST(Resize, ScaleOneAxesAreExact) {
  // Bilinear 2x on H and W only: N and C pass through, and every output on an input pixel
  // (asymmetric, even coordinates) is that pixel exactly.
  const auto x = RandomFloats(2 * 3 * 4 * 5, 5);
  const auto y = RunResize(ResizeMode::LINEAR, CoordinateTransform::ASYMMETRIC, kFloor,
                           {1, 1, 2, 2}, {2, 3, 4, 5}, x, {2, 3, 8, 10});
  for (int p = 0; p < 6; ++p)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 5; ++j)
        ASSERT_EQ(y[(p * 8 + 2 * i) * 10 + 2 * j], x[(p * 4 + i) * 5 + j]);
  // Identity resize.
  EXPECT_EQ(
      RunResize(ResizeMode::LINEAR, kHalf, kFloor, {1, 1, 1, 1}, {2, 3, 4, 5}, x, {2, 3, 4, 5}), x);
}

// ---------------------------------------------------------------------------------------------
// The ONNX reference (resize.py, interpolate_nd), transcribed.

struct RefParams {
  ResizeMode mode;
  CoordinateTransform ct;
  NearestMode nm;
  double a = -0.75;
  bool exclude_outside = false;
  float extrapolation = 0.0f;
};

// The reference's scale factor and output_width of one axis. With sizes it takes
// out / in and out / in * in in double; with scales, the float32 scale and scale * in computed
// in float32 (numpy keeps a float32 scalar times a Python int in float32).
struct RefAxis {
  double scale;
  double width;
  float roi_start = 0.0f, roi_end = 1.0f;
};

std::vector<double> Coeffs(double ratio, const RefParams& p) {
  if (p.mode == ResizeMode::LINEAR) return {1 - ratio, ratio};
  if (p.mode == ResizeMode::CUBIC) {
    const double a = p.a, r = ratio;
    return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
            ((a + 2) * r - (a + 3)) * r * r + 1,
            ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1,
            ((a * ((1 - r) + 1) - 5 * a) * ((1 - r) + 1) + 8 * a) * ((1 - r) + 1) - 4 * a};
  }
  if (ratio == std::floor(ratio)) return {0, 1};
  switch (p.nm) {
    case NearestMode::ROUND_PREFER_FLOOR:
      return {double(ratio <= 0.5), double(ratio > 0.5)};
    case NearestMode::ROUND_PREFER_CEIL:
      return {double(ratio < 0.5), double(ratio >= 0.5)};
    case NearestMode::FLOOR:
      return {1, 0};
    default:
      return {0, 1};
  }
}

double Interpolate1D(const std::vector<double>& data, const RefAxis& ax, int64_t x,
                     const RefParams& p) {
  const int64_t in = static_cast<int64_t>(data.size());
  const double out = ax.width, scale = ax.scale;
  double c = 0;
  switch (p.ct) {
    case CoordinateTransform::ALIGN_CORNERS:
      c = out == 1 ? 0.0 : static_cast<double>(x * (in - 1)) / (out - 1);
      break;
    case CoordinateTransform::ASYMMETRIC:
      c = x / scale;
      break;
    case CoordinateTransform::TF_CROP_AND_RESIZE: {
      const float extent = ax.roi_end - ax.roi_start;  // float32 roi
      if (out == 1) {
        c = extent * float(in - 1) / 2.0f + ax.roi_start * float(in - 1);
      } else {
        c = double(x) * extent * double(in - 1) / (out - 1) + ax.roi_start * float(in - 1);
      }
      if (c < 0 || c > in - 1) return p.extrapolation;
      break;
    }
    case CoordinateTransform::PYTORCH_HALF_PIXEL:
      c = out == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
      break;
    case CoordinateTransform::HALF_PIXEL:
      c = (x + 0.5) / scale - 0.5;
      break;
    default:  // TF_HALF_PIXEL_FOR_NN
      c = (x + 0.5) / scale;
      break;
  }
  const double ci = std::floor(c);
  const double ratio = c == ci ? 1.0 : c - ci;
  std::vector<double> coeffs = Coeffs(ratio, p);
  const int64_t n = static_cast<int64_t>(coeffs.size());
  // get_neighbor: pad by edge (ceil(n / 2) cells), the n indexes nearest to x, ties to the
  // smaller index, in ascending order.
  const int64_t pad = (n + 1) / 2;
  const int64_t limit = in + 2 * pad;
  const double xp = c + pad;
  std::vector<int64_t> idx(limit);
  for (int64_t i = 0; i < limit; ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
    const double da = std::fabs(xp - a), db = std::fabs(xp - b);
    return da < db || (da == db && a < b);
  });
  idx.resize(n);
  std::sort(idx.begin(), idx.end());
  if (p.exclude_outside) {
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) {
      if (idx[k] - pad < 0 || idx[k] - pad >= in) coeffs[k] = 0;
      sum += coeffs[k];
    }
    for (double& w : coeffs) w /= sum;
  }
  double v = 0;
  for (int64_t k = 0; k < n; ++k)
    v += coeffs[k] * data[std::clamp<int64_t>(idx[k] - pad, 0, in - 1)];
  return v;
}

// interpolate_nd_with_x over a row-major block `data` of `shape`.
double InterpolateNd(const double* data, const std::vector<int32_t>& shape, size_t axis,
                     const std::vector<RefAxis>& axes, const std::vector<int64_t>& x,
                     const RefParams& p) {
  const int64_t n = shape[axis];
  int64_t inner = 1;
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  std::vector<double> values(n);
  for (int64_t i = 0; i < n; ++i)
    values[i] = axis + 1 == shape.size()
                    ? data[i]
                    : InterpolateNd(data + i * inner, shape, axis + 1, axes, x, p);
  return Interpolate1D(values, axes[axis], x[axis], p);
}

// `scales` empty: the output size was given (ONNX sizes). `roi` for tf_crop_and_resize.
std::vector<double> ResizeReference(const std::vector<int32_t>& in, const std::vector<float>& x,
                                    const std::vector<int32_t>& out,
                                    const std::vector<float>& scales, const RefParams& p,
                                    const std::vector<float>& roi = {}) {
  std::vector<RefAxis> axes(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (scales.empty()) {
      axes[i].scale = static_cast<double>(out[i]) / in[i];
      axes[i].width = axes[i].scale * in[i];
    } else {
      axes[i].scale = scales[i];
      axes[i].width = scales[i] * static_cast<float>(in[i]);
    }
    if (!roi.empty()) {
      axes[i].roi_start = roi[i];
      axes[i].roi_end = roi[i + in.size()];
    }
  }
  const std::vector<double> xd(x.begin(), x.end());
  std::vector<double> y;
  for (int64_t e = 0; e < Product(out); ++e) {
    std::vector<int64_t> idx(out.size());
    int64_t rem = e;
    for (size_t i = out.size(); i-- > 0;) {
      idx[i] = rem % out[i];
      rem /= out[i];
    }
    y.push_back(InterpolateNd(xd.data(), in, 0, axes, idx, p));
  }
  return y;
}

struct RandomShapes {
  std::vector<int32_t> in, out;
  std::vector<float> scales;  // empty: out / in (ONNX sizes)
};

const std::vector<RandomShapes> kRandomShapes = {
    {{1, 2, 3, 4}, {1, 2, 7, 9}, {}},                    // upsample by odd factors
    {{1, 3, 6, 5}, {1, 3, 15, 12}, {1, 1, 2.5f, 2.5f}},  // scales given: floor(in * scale)
    {{1, 2, 9, 7}, {1, 2, 4, 3}, {}},                    // downsample
    {{2, 1, 5, 6}, {2, 1, 3, 4}, {1, 1, 0.7f, 0.7f}},    // downsample, len != out (align corners)
    {{2, 3, 4}, {3, 5, 2}, {}},                          // every axis, including N
    {{1, 2, 3, 2, 3}, {1, 2, 5, 4, 2}, {}},              // rank 5
    {{5}, {1}, {}},                                      // to a single element
    {{1, 1, 1, 3}, {1, 1, 4, 3}, {}},                    // from a single row
    {{1, 1, 2, 3}, {1, 1, 5, 7}, {}}};                   // inputs narrower than the cubic taps

std::vector<float> KernelScales(const RandomShapes& s) {
  return s.scales.empty() ? SizeScales(s.in, s.out) : s.scales;
}

TEST(Resize, MatchesOnnxReferenceOnRandomData) {
  const CoordinateTransform transforms[] = {
      CoordinateTransform::HALF_PIXEL, CoordinateTransform::ASYMMETRIC,
      CoordinateTransform::ALIGN_CORNERS, CoordinateTransform::PYTORCH_HALF_PIXEL,
      CoordinateTransform::TF_HALF_PIXEL_FOR_NN};
  uint32_t seed = 1000;
  for (const RandomShapes& s : kRandomShapes) {
    const auto x = RandomFloats(Product(s.in), seed++, -2, 2);
    for (CoordinateTransform ct : transforms) {
      std::vector<RefParams> params = {{ResizeMode::LINEAR, ct, kFloor},
                                       {ResizeMode::CUBIC, ct, kFloor},
                                       {ResizeMode::CUBIC, ct, kFloor, -0.5, true},
                                       {ResizeMode::CUBIC, ct, kFloor, -0.6f, false}};
      for (NearestMode nm : {NearestMode::ROUND_PREFER_FLOOR, NearestMode::ROUND_PREFER_CEIL,
                             NearestMode::FLOOR, NearestMode::CEIL})
        params.push_back({ResizeMode::NEAREST, ct, nm});
      for (const RefParams& p : params) {
        SCOPED_TRACE("shape " + std::to_string(seed) + " transform " +
                     std::to_string(static_cast<int>(ct)) + " mode " +
                     std::to_string(static_cast<int>(p.mode)) + " nearest " +
                     std::to_string(static_cast<int>(p.nm)) + " a " + std::to_string(p.a));
        opm::ResizeOptionsT o;
        o.mode = p.mode;
        o.coordinate_transform = ct;
        o.nearest_mode = p.nm;
        o.scales = KernelScales(s);
        o.cubic_coeff_a = static_cast<float>(p.a);
        o.exclude_outside = p.exclude_outside;
        const auto got = RunResize(o, s.in, x, s.out);
        const auto want = ResizeReference(s.in, x, s.out, s.scales, p);
        // Nearest picks an element: exact. Otherwise the final double is rounded once, and
        // the float scales the options hold differ from the reference's double out / in
        // (sizes) by a relative 2^-24: slack for the cancellation of cubic's negative weights.
        ExpectClose(got, want, {}, p.mode == ResizeMode::NEAREST ? 0.0 : 1e-6);
      }
    }
  }
}

TEST(Resize, CropAndResizeMatchesOnnxReferenceOnRandomData) {
  uint32_t seed = 2000;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> box(-0.3f, 1.3f);
  for (const RandomShapes& s : kRandomShapes) {
    if (!s.scales.empty()) continue;  // ONNX defines tf_crop_and_resize sizes only consistently
    const auto x = RandomFloats(Product(s.in), seed++, -2, 2);
    for (int trial = 0; trial < 4; ++trial) {
      // Boxes partly outside the input (extrapolated), reversed (flipped), degenerate (one
      // point), and the whole input.
      std::vector<float> roi(2 * s.in.size());
      for (float& v : roi) v = box(rng);
      if (trial == 2) roi[s.in.size() - 1] = roi[2 * s.in.size() - 1];
      if (trial == 3) {
        std::fill(roi.begin(), roi.begin() + s.in.size(), 0.0f);
        std::fill(roi.begin() + s.in.size(), roi.end(), 1.0f);
      }
      for (ResizeMode mode : {ResizeMode::NEAREST, ResizeMode::LINEAR, ResizeMode::CUBIC}) {
        SCOPED_TRACE("shape " + std::to_string(seed) + " trial " + std::to_string(trial) +
                     " mode " + std::to_string(static_cast<int>(mode)));
        RefParams p{mode, CoordinateTransform::TF_CROP_AND_RESIZE, kFloor};
        p.extrapolation = -7.5f;
        const auto got =
            RunResize(Crop(mode, KernelScales(s), roi, p.extrapolation), s.in, x, s.out);
        const auto want = ResizeReference(s.in, x, s.out, s.scales, p, roi);
        ExpectClose(got, want, {}, mode == ResizeMode::NEAREST ? 0.0 : 1e-6);
      }
    }
  }
}

TEST(Resize, IgnoresOnnxRoiScalesSizesInputs) {
  SingleOpModel m(
      opm::OpCode::RESIZE, ResizeOpts(ResizeMode::NEAREST, kHalf, kFloor, {1, 1, 2, 2}),
      {Operand::F32({1, 1, 1, 2}, {1, 2}), Operand::Absent(), Operand::F32({4}, {1, 1, 2, 2}, true),
       Operand::Of<int64_t>(opm::DType::INT64, {4}, {1, 1, 2, 4}, true)},
      {Operand::Out({1, 1, 2, 4})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(m.OutputF32(0), (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2}));
}

TEST(Resize, RefusesInconsistentModels) {
  auto run_with = [](opm::ResizeOptionsT o, std::vector<int32_t> out, std::string* e) {
    SingleOpModel m(opm::OpCode::RESIZE, Options(o),
                    {Operand::F32({1, 2, 4, 4}, std::vector<float>(32, 1))}, {Operand::Out(out)});
    const Status s = m.Run();
    *e = m.error();
    return s;
  };
  auto run = [&](std::vector<float> scales, std::vector<int32_t> out, std::string* e,
                 ResizeMode mode = ResizeMode::LINEAR, CoordinateTransform ct = kHalf,
                 NearestMode nm = kFloor) {
    opm::ResizeOptionsT o;
    o.mode = mode;
    o.coordinate_transform = ct;
    o.nearest_mode = nm;
    o.scales = std::move(scales);
    return run_with(o, out, e);
  };
  std::string e;
  ASSERT_EQ(run({1, 1, 2, 2}, {1, 2, 8, 8}, &e), Status::kOk) << e;
  ASSERT_EQ(run({1, 1, 2.3f, 2.3f}, {1, 2, 9, 9}, &e), Status::kOk) << e;  // floor(9.2)
  EXPECT_EQ(run({1, 1, 2, 2}, {1, 2, 8, 9}, &e), Status::kShapeMismatch);
  EXPECT_NE(e.find("stored size 9"), std::string::npos) << e;
  EXPECT_EQ(run({1, 1, 2, 2}, {1, 2, 8, 7}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run({1, 1, 2}, {1, 2, 8, 8}, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("one entry per axis"), std::string::npos) << e;
  EXPECT_EQ(run({}, {1, 2, 8, 8}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1, 1, 0, 2}, {1, 2, 1, 8}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1, 1, -2, 2}, {1, 2, 8, 8}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1, 1, NAN, 2}, {1, 2, 8, 8}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1, 1, INFINITY, 2}, {1, 2, 8, 8}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({1, 1, 2, 2}, {1, 2, 8}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run({1, 1, 2, 2}, {1, 2, 8, 8}, &e, static_cast<ResizeMode>(3)), Status::kUnsupported);
  EXPECT_NE(e.find("mode 3"), std::string::npos) << e;
  EXPECT_EQ(
      run({1, 1, 2, 2}, {1, 2, 8, 8}, &e, ResizeMode::LINEAR, static_cast<CoordinateTransform>(6)),
      Status::kUnsupported);
  EXPECT_EQ(
      run({1, 1, 2, 2}, {1, 2, 8, 8}, &e, ResizeMode::NEAREST, kHalf, static_cast<NearestMode>(-1)),
      Status::kUnsupported);

  // Cubic options.
  ASSERT_EQ(run_with(Cubic(kHalf, {1, 1, 2, 2}, -0.5f, true), {1, 2, 8, 8}, &e), Status::kOk) << e;
  EXPECT_EQ(run_with(Cubic(kHalf, {1, 1, 2, 2}, NAN), {1, 2, 8, 8}, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("cubic_coeff_a"), std::string::npos) << e;
  EXPECT_EQ(run_with(Cubic(kHalf, {1, 1, 2, 2}, -INFINITY), {1, 2, 8, 8}, &e),
            Status::kCorruptModel);
  opm::ResizeOptionsT linear_excluding = Cubic(kHalf, {1, 1, 2, 2}, -0.75f, true);
  linear_excluding.mode = ResizeMode::LINEAR;
  EXPECT_EQ(run_with(linear_excluding, {1, 2, 8, 8}, &e), Status::kUnsupported);
  EXPECT_NE(e.find("exclude_outside"), std::string::npos) << e;

  // tf_crop_and_resize needs a finite roi of two values per axis.
  const std::vector<float> box = {0, 0, 0.1f, 0.2f, 1, 1, 0.9f, 0.8f};
  ASSERT_EQ(run_with(Crop(ResizeMode::LINEAR, {1, 1, 2, 2}, box), {1, 2, 8, 8}, &e), Status::kOk)
      << e;
  EXPECT_EQ(run_with(Crop(ResizeMode::LINEAR, {1, 1, 2, 2}, {}), {1, 2, 8, 8}, &e),
            Status::kCorruptModel);
  EXPECT_NE(e.find("roi"), std::string::npos) << e;
  EXPECT_EQ(run_with(Crop(ResizeMode::LINEAR, {1, 1, 2, 2}, {0, 0, 0, 1, 1, 1}), {1, 2, 8, 8}, &e),
            Status::kCorruptModel);
  for (float bad : {NAN, INFINITY}) {
    std::vector<float> b = box;
    b[6] = bad;
    EXPECT_EQ(run_with(Crop(ResizeMode::CUBIC, {1, 1, 2, 2}, b), {1, 2, 8, 8}, &e),
              Status::kCorruptModel);
  }
}

}  // namespace
}  // namespace outpost::testing
