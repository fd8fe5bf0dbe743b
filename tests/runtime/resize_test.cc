// RESIZE reference kernel: the ONNX backend test cases, and a comparison on random data with a
// literal transcription of the ONNX reference implementation (edge-padded neighbours found by
// distance, nested 1-D interpolation over the axes).
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

std::vector<float> RunResize(ResizeMode mode, CoordinateTransform ct, NearestMode nm,
                             std::vector<float> scales, std::vector<int32_t> in_shape,
                             const std::vector<float>& x, std::vector<int32_t> out_shape) {
  SingleOpModel m(opm::OpCode::RESIZE, ResizeOpts(mode, ct, nm, std::move(scales)),
                  {Operand::F32(in_shape, x)}, {Operand::Out(out_shape)});
  EXPECT_EQ(m.Run(), Status::kOk) << m.error();
  return m.OutputF32(0);
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
};

double Interpolate1D(const std::vector<double>& data, double scale, int64_t x, const RefParams& p) {
  const int64_t in = static_cast<int64_t>(data.size());
  const double out = scale * static_cast<double>(in);
  double c = 0;
  switch (p.ct) {
    case CoordinateTransform::ALIGN_CORNERS:
      c = out == 1 ? 0.0 : static_cast<double>(x * (in - 1)) / (out - 1);
      break;
    case CoordinateTransform::ASYMMETRIC:
      c = x / scale;
      break;
    case CoordinateTransform::PYTORCH_HALF_PIXEL:
      c = out == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
      break;
    case CoordinateTransform::HALF_PIXEL:
      c = (x + 0.5) / scale - 0.5;
      break;
    case CoordinateTransform::TF_HALF_PIXEL_FOR_NN:
      c = (x + 0.5) / scale;
      break;
  }
  const double ci = std::floor(c);
  const bool integer = c == ci;
  const double ratio = integer ? 1.0 : c - ci;
  double coeffs[2];
  if (p.mode == ResizeMode::LINEAR) {
    coeffs[0] = 1 - ratio;
    coeffs[1] = ratio;
  } else if (integer) {
    coeffs[0] = 0, coeffs[1] = 1;
  } else {
    bool second = false;
    switch (p.nm) {
      case NearestMode::ROUND_PREFER_FLOOR:
        second = ratio > 0.5;
        break;
      case NearestMode::ROUND_PREFER_CEIL:
        second = ratio >= 0.5;
        break;
      case NearestMode::FLOOR:
        second = false;
        break;
      case NearestMode::CEIL:
        second = true;
        break;
    }
    coeffs[0] = second ? 0 : 1;
    coeffs[1] = second ? 1 : 0;
  }
  // get_neighbor: pad by edge (ceil(2 / 2) = 1 cell), the 2 indexes nearest to x, ties to the
  // smaller index, in ascending order.
  const int64_t limit = in + 2;
  const double xp = c + 1;
  std::vector<int64_t> idx(limit);
  for (int64_t i = 0; i < limit; ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
    const double da = std::fabs(xp - a), db = std::fabs(xp - b);
    return da < db || (da == db && a < b);
  });
  int64_t n0 = std::min(idx[0], idx[1]), n1 = std::max(idx[0], idx[1]);
  auto padded = [&](int64_t i) { return data[std::clamp<int64_t>(i - 1, 0, in - 1)]; };
  return coeffs[0] * padded(n0) + coeffs[1] * padded(n1);
}

// interpolate_nd_with_x over a row-major block `data` of `shape`.
double InterpolateNd(const double* data, const std::vector<int32_t>& shape, size_t axis,
                     const std::vector<float>& scales, const std::vector<int64_t>& x,
                     const RefParams& p) {
  const int64_t n = shape[axis];
  int64_t inner = 1;
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  std::vector<double> values(n);
  for (int64_t i = 0; i < n; ++i)
    values[i] = axis + 1 == shape.size()
                    ? data[i]
                    : InterpolateNd(data + i * inner, shape, axis + 1, scales, x, p);
  return Interpolate1D(values, scales[axis], x[axis], p);
}

std::vector<double> ResizeReference(const std::vector<int32_t>& in, const std::vector<float>& x,
                                    const std::vector<int32_t>& out,
                                    const std::vector<float>& scales, const RefParams& p) {
  const std::vector<double> xd(x.begin(), x.end());
  std::vector<double> y;
  for (int64_t e = 0; e < Product(out); ++e) {
    std::vector<int64_t> idx(out.size());
    int64_t rem = e;
    for (size_t i = out.size(); i-- > 0;) {
      idx[i] = rem % out[i];
      rem /= out[i];
    }
    y.push_back(InterpolateNd(xd.data(), in, 0, scales, idx, p));
  }
  return y;
}

TEST(Resize, MatchesOnnxReferenceOnRandomData) {
  struct Shapes {
    std::vector<int32_t> in, out;
    std::vector<float> scales;  // empty: out / in
  };
  const std::vector<Shapes> shapes = {
      {{1, 2, 3, 4}, {1, 2, 7, 9}, {}},                    // upsample by odd factors
      {{1, 3, 6, 5}, {1, 3, 15, 12}, {1, 1, 2.5f, 2.5f}},  // scales given: floor(in * scale)
      {{1, 2, 9, 7}, {1, 2, 4, 3}, {}},                    // downsample
      {{2, 1, 5, 6}, {2, 1, 3, 4}, {1, 1, 0.7f, 0.7f}},    // downsample, len != out (align corners)
      {{2, 3, 4}, {3, 5, 2}, {}},                          // every axis, including N
      {{1, 2, 3, 2, 3}, {1, 2, 5, 4, 2}, {}},              // rank 5
      {{5}, {1}, {}},                                      // to a single element
      {{1, 1, 1, 3}, {1, 1, 4, 3}, {}}};                   // from a single row
  const CoordinateTransform transforms[] = {
      CoordinateTransform::HALF_PIXEL, CoordinateTransform::ASYMMETRIC,
      CoordinateTransform::ALIGN_CORNERS, CoordinateTransform::PYTORCH_HALF_PIXEL,
      CoordinateTransform::TF_HALF_PIXEL_FOR_NN};
  uint32_t seed = 1000;
  for (const Shapes& s : shapes) {
    const std::vector<float> scales = s.scales.empty() ? SizeScales(s.in, s.out) : s.scales;
    const auto x = RandomFloats(Product(s.in), seed++, -2, 2);
    for (CoordinateTransform ct : transforms) {
      std::vector<RefParams> params = {{ResizeMode::LINEAR, ct, kFloor}};
      for (NearestMode nm : {NearestMode::ROUND_PREFER_FLOOR, NearestMode::ROUND_PREFER_CEIL,
                             NearestMode::FLOOR, NearestMode::CEIL})
        params.push_back({ResizeMode::NEAREST, ct, nm});
      for (const RefParams& p : params) {
        SCOPED_TRACE("shape " + std::to_string(seed) + " transform " +
                     std::to_string(static_cast<int>(ct)) + " mode " +
                     std::to_string(static_cast<int>(p.mode)) + " nearest " +
                     std::to_string(static_cast<int>(p.nm)));
        const auto got = RunResize(p.mode, ct, p.nm, scales, s.in, x, s.out);
        const auto want = ResizeReference(s.in, x, s.out, scales, p);
        // Nearest picks an element: exact. Linear: rounding of the final double only.
        ExpectClose(got, want, {}, p.mode == ResizeMode::NEAREST ? 0.0 : 1e-7);
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
  auto run = [](std::vector<float> scales, std::vector<int32_t> out, std::string* e,
                ResizeMode mode = ResizeMode::LINEAR, CoordinateTransform ct = kHalf,
                NearestMode nm = kFloor) {
    SingleOpModel m(opm::OpCode::RESIZE, ResizeOpts(mode, ct, nm, std::move(scales)),
                    {Operand::F32({1, 2, 4, 4}, std::vector<float>(32, 1))}, {Operand::Out(out)});
    const Status s = m.Run();
    *e = m.error();
    return s;
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
  EXPECT_EQ(run({1, 1, 2, 2}, {1, 2, 8, 8}, &e, static_cast<ResizeMode>(2)), Status::kUnsupported);
  EXPECT_NE(e.find("mode 2"), std::string::npos) << e;
  EXPECT_EQ(
      run({1, 1, 2, 2}, {1, 2, 8, 8}, &e, ResizeMode::LINEAR, static_cast<CoordinateTransform>(5)),
      Status::kUnsupported);
  EXPECT_EQ(
      run({1, 1, 2, 2}, {1, 2, 8, 8}, &e, ResizeMode::NEAREST, kHalf, static_cast<NearestMode>(-1)),
      Status::kUnsupported);
}

}  // namespace
}  // namespace outpost::testing
