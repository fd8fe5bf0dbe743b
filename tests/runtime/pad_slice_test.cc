// PAD and SLICE reference kernels, for every dtype they are registered for.
#include <gtest/gtest.h>

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

using opm::PadMode;

opm::OpOptionsUnion PadOpts(PadMode mode, std::vector<int32_t> pads, float value = 0) {
  opm::PadOptionsT o;
  o.mode = mode;
  o.pads = std::move(pads);
  o.value = value;
  return Options(o);
}

opm::OpOptionsUnion SliceOpts(std::vector<int32_t> starts, std::vector<int32_t> steps) {
  opm::SliceOptionsT o;
  o.starts = std::move(starts);
  o.steps = std::move(steps);
  return Options(o);
}

const std::vector<int> k2x3 = {1, 2, 3, 4, 5, 6};

template <typename T>
class PadSlice : public ::testing::Test {};
TYPED_TEST_SUITE(PadSlice, MoveTypes);

template <typename T>
std::vector<int> RunPad(PadMode mode, std::vector<int32_t> pads, std::vector<int32_t> in_shape,
                        const std::vector<int>& x, std::vector<int32_t> out_shape,
                        float value = 0) {
  SingleOpModel m(opm::OpCode::PAD, PadOpts(mode, std::move(pads), value), {Typed<T>(in_shape, x)},
                  {TypedOut<T>(out_shape)});
  EXPECT_EQ(m.Run(), Status::kOk) << m.error();
  return OutputInts<T>(m, 0);
}

TYPED_TEST(PadSlice, PadHandChecked) {
  using T = TypeParam;
  // Expected values from numpy.pad.
  EXPECT_EQ(RunPad<T>(PadMode::CONSTANT, {1, 2, 0, 1}, {2, 3}, k2x3, {3, 6}, 9),
            (std::vector<int>{9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9}));
  EXPECT_EQ(RunPad<T>(PadMode::REFLECT, {1, 2, 1, 2}, {2, 3}, k2x3, {4, 7}),
            (std::vector<int>{6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1,
                              6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1}));
  EXPECT_EQ(RunPad<T>(PadMode::EDGE, {0, 1, 2, 1}, {2, 3}, k2x3, {4, 5}),
            (std::vector<int>{1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 4, 4, 5, 6, 6, 4, 4, 5, 6, 6}));
  // Reflection longer than the axis keeps bouncing: numpy.pad([1,2,3], (5,4), 'reflect').
  EXPECT_EQ(RunPad<T>(PadMode::REFLECT, {5, 4}, {3}, {1, 2, 3}, {12}),
            (std::vector<int>{2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3}));
  EXPECT_EQ(RunPad<T>(PadMode::REFLECT, {2, 1}, {1}, {7}, {4}), (std::vector<int>{7, 7, 7, 7}));
}

TYPED_TEST(PadSlice, NegativePadsCropBeforePadding) {
  using T = TypeParam;
  // Crop the first row and the last column, then reflect one column on the left: the mirror is
  // the cropped tensor's edge.
  EXPECT_EQ(RunPad<T>(PadMode::REFLECT, {-1, 1, 0, -1}, {2, 3}, k2x3, {1, 3}),
            (std::vector<int>{5, 4, 5}));
  EXPECT_EQ(RunPad<T>(PadMode::CONSTANT, {0, -2, 0, 1}, {2, 3}, k2x3, {2, 2}, 0),
            (std::vector<int>{3, 0, 6, 0}));
  EXPECT_EQ(RunPad<T>(PadMode::EDGE, {-1, -1, 1, -1}, {2, 3}, k2x3, {2, 1}),
            (std::vector<int>{5, 5}));
  // Pure crop in every mode.
  for (PadMode mode : {PadMode::CONSTANT, PadMode::REFLECT, PadMode::EDGE})
    EXPECT_EQ(RunPad<T>(mode, {0, -1, -1, 0}, {2, 3}, k2x3, {1, 2}), (std::vector<int>{2, 3}));
}

// Independent definition for random checks: crop, then map each padded coordinate per mode.
std::vector<int> PadReference(PadMode mode, const std::vector<int32_t>& pads,
                              const std::vector<int32_t>& shape, const std::vector<int>& x,
                              int value, std::vector<int32_t>* out_shape) {
  const size_t r = shape.size();
  out_shape->resize(r);
  for (size_t i = 0; i < r; ++i) (*out_shape)[i] = shape[i] + pads[i] + pads[i + r];
  std::vector<int> y;
  for (int64_t e = 0; e < Product(*out_shape); ++e) {
    int64_t rem = e, off = 0, scale = 1;
    bool constant = false;
    for (size_t i = r; i-- > 0;) {
      const int64_t o = rem % (*out_shape)[i];
      rem /= (*out_shape)[i];
      const int64_t lo = std::max(0, -pads[i]);
      const int64_t n = shape[i] - lo - std::max(0, -pads[i + r]);
      int64_t j = o - std::max(0, pads[i]);
      if (j < 0 || j >= n) {
        if (mode == PadMode::CONSTANT) {
          constant = true;
        } else if (mode == PadMode::EDGE) {
          j = j < 0 ? 0 : n - 1;
        } else {
          while (j < 0 || j >= n) j = n == 1 ? 0 : (j < 0 ? -j : 2 * (n - 1) - j);
        }
      }
      off += (lo + j) * scale;
      scale *= shape[i];
    }
    y.push_back(constant ? value : x[off]);
  }
  return y;
}

TYPED_TEST(PadSlice, PadMatchesDefinitionOnRank4) {
  using T = TypeParam;
  const std::vector<int32_t> shape = {2, 3, 4, 5};
  const auto x = Sequence(Product(shape), 1);
  const std::vector<std::vector<int32_t>> pad_sets = {
      {0, 0, 1, 2, 0, 0, 3, 1},    // spatial padding
      {1, -1, 2, 0, 0, 2, -1, 7},  // mixed crop / pad, reflect longer than the axis
      {0, 1, 0, -2, 1, 0, 0, 0}};
  for (PadMode mode : {PadMode::CONSTANT, PadMode::REFLECT, PadMode::EDGE}) {
    for (const auto& pads : pad_sets) {
      SCOPED_TRACE("mode " + std::to_string(static_cast<int>(mode)));
      std::vector<int32_t> out;
      const auto want = PadReference(mode, pads, shape, x, 42, &out);
      EXPECT_EQ(RunPad<T>(mode, pads, shape, x, out, 42), want);
    }
  }
}

TEST(Pad, FloatConstantValue) {
  SingleOpModel m(opm::OpCode::PAD, PadOpts(PadMode::CONSTANT, {1, 1}, -2.5f),
                  {Operand::F32({2}, {1.5f, 3})}, {Operand::Out({4})});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  EXPECT_EQ(m.OutputF32(0), (std::vector<float>{-2.5f, 1.5f, 3, -2.5f}));
}

TEST(Pad, QuantizedConstantIsQuantized) {
  // real 0 pads with the zero point; real 1.0 with scale 0.5 and zero point -3 is -1.
  for (auto [value, want] : {std::pair<float, int>{0.0f, -3}, {1.0f, -1}, {1000.0f, 127}}) {
    SingleOpModel m(opm::OpCode::PAD, PadOpts(PadMode::CONSTANT, {1, 0}, value),
                    {Typed<int8_t>({1}, {5}).Quantized(0.5f, -3)},
                    {Operand::Out({2}, opm::DType::INT8).Quantized(0.5f, -3)});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<int8_t>(m, 0), (std::vector<int>{want, 5})) << value;
  }
  SingleOpModel u8(opm::OpCode::PAD, PadOpts(PadMode::CONSTANT, {0, 2}, 0.0f),
                   {Typed<uint8_t>({1}, {5}).Quantized(0.1f, 128)},
                   {Operand::Out({3}, opm::DType::UINT8).Quantized(0.1f, 128)});
  ASSERT_EQ(u8.Run(), Status::kOk) << u8.error();
  EXPECT_EQ(OutputInts<uint8_t>(u8, 0), (std::vector<int>{5, 128, 128}));
}

TEST(Pad, IntegerConstantMustBeExact) {
  {
    SingleOpModel m(opm::OpCode::PAD, PadOpts(PadMode::CONSTANT, {1, 0}, -7),
                    {Typed<int64_t>({1}, {5})}, {TypedOut<int64_t>({2})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<int64_t>(m, 0), (std::vector<int>{-7, 5}));
  }
  for (float bad : {0.5f, 300.0f, -1.0f}) {
    SingleOpModel m(opm::OpCode::PAD, PadOpts(PadMode::CONSTANT, {1, 0}, bad),
                    {Typed<uint8_t>({1}, {5})}, {TypedOut<uint8_t>({2})});
    EXPECT_EQ(m.Run(), Status::kUnsupported) << bad;
    EXPECT_NE(m.error().find("pad value"), std::string::npos) << m.error();
  }
  // Edge and reflect never use the value.
  SingleOpModel edge(opm::OpCode::PAD, PadOpts(PadMode::EDGE, {1, 0}, 0.5f),
                     {Typed<uint8_t>({1}, {5})}, {TypedOut<uint8_t>({2})});
  EXPECT_EQ(edge.Run(), Status::kOk) << edge.error();
}

TEST(Pad, RefusesInconsistentModels) {
  auto run = [](PadMode mode, std::vector<int32_t> pads, std::vector<int32_t> out, std::string* e) {
    SingleOpModel m(opm::OpCode::PAD, PadOpts(mode, std::move(pads)),
                    {Operand::F32({2, 3}, std::vector<float>(6, 1))}, {Operand::Out(out)});
    const Status s = m.Run();
    *e = m.error();
    return s;
  };
  std::string e;
  ASSERT_EQ(run(PadMode::CONSTANT, {1, 0, 0, 2}, {3, 5}, &e), Status::kOk) << e;
  EXPECT_EQ(run(PadMode::CONSTANT, {1, 0, 0, 2}, {3, 4}, &e), Status::kShapeMismatch);
  EXPECT_NE(e.find("pads give 5"), std::string::npos) << e;
  EXPECT_EQ(run(PadMode::CONSTANT, {1, 0, 0}, {3, 3}, &e), Status::kCorruptModel);
  EXPECT_EQ(run(PadMode::CONSTANT, {}, {2, 3}, &e), Status::kCorruptModel);
  EXPECT_EQ(run(PadMode::CONSTANT, {1, 0, 0, 2}, {3, 5, 1}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run(static_cast<PadMode>(9), {1, 0, 0, 2}, {3, 5}, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("pad mode"), std::string::npos) << e;
  // Cropping the whole axis away, even with padding left over.
  EXPECT_EQ(run(PadMode::CONSTANT, {-3, 0, 2, 0}, {1, 3}, &e), Status::kShapeMismatch);
  EXPECT_NE(e.find("crop away"), std::string::npos) << e;
  EXPECT_EQ(run(PadMode::EDGE, {0, -2, 0, -1}, {2, 1}, &e), Status::kShapeMismatch);
}

// ---------------------------------------------------------------------------------------------
// SLICE

TYPED_TEST(PadSlice, SliceWithPositiveAndNegativeSteps) {
  using T = TypeParam;
  const auto x = Sequence(24);  // [2,3,4]
  {
    // x[1:0:-1, ::2, 3:0:-2] (numpy) -> [1,2,2] = {15, 13, 23, 21}.
    SingleOpModel m(opm::OpCode::SLICE, SliceOpts({1, 0, 3}, {-1, 2, -2}), {Typed<T>({2, 3, 4}, x)},
                    {TypedOut<T>({1, 2, 2})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<T>(m, 0), (std::vector<int>{15, 13, 23, 21}));
  }
  {
    // Reverse every axis.
    SingleOpModel m(opm::OpCode::SLICE, SliceOpts({1, 2, 3}, {-1, -1, -1}),
                    {Typed<T>({2, 3, 4}, x)}, {TypedOut<T>({2, 3, 4})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    std::vector<int> want(x.rbegin(), x.rend());
    EXPECT_EQ(OutputInts<T>(m, 0), want);
  }
  {
    // Steps absent mean 1: x[:, 1:3, 2:3].
    SingleOpModel m(opm::OpCode::SLICE, SliceOpts({0, 1, 2}, {}), {Typed<T>({2, 3, 4}, x)},
                    {TypedOut<T>({2, 2, 1})});
    ASSERT_EQ(m.Run(), Status::kOk) << m.error();
    EXPECT_EQ(OutputInts<T>(m, 0), (std::vector<int>{6, 10, 18, 22}));
  }
}

TEST(Slice, MatchesDefinitionOnRank5) {
  const std::vector<int32_t> shape = {3, 4, 5, 2, 7};
  const auto x = RandomFloats(Product(shape), 77);
  const std::vector<int32_t> starts = {2, 0, 4, 1, 1}, steps = {-1, 3, -2, -1, 2};
  const std::vector<int32_t> out = {3, 2, 3, 2, 3};
  SingleOpModel m(opm::OpCode::SLICE, SliceOpts(starts, steps), {Operand::F32(shape, x)},
                  {Operand::Out(out)});
  ASSERT_EQ(m.Run(), Status::kOk) << m.error();
  std::vector<double> want;
  for (int64_t e = 0; e < Product(out); ++e) {
    int64_t rem = e, off = 0, scale = 1;
    for (size_t i = 5; i-- > 0;) {
      const int64_t o = rem % out[i];
      rem /= out[i];
      off += (starts[i] + o * steps[i]) * scale;
      scale *= shape[i];
    }
    want.push_back(x[off]);
  }
  ExpectClose(m.OutputF32(0), want, {}, 0.0);
}

TEST(Slice, RefusesIndicesOutsideTheInput) {
  auto run = [](std::vector<int32_t> starts, std::vector<int32_t> steps, std::vector<int32_t> out,
                std::string* e) {
    SingleOpModel m(opm::OpCode::SLICE, SliceOpts(std::move(starts), std::move(steps)),
                    {Operand::F32({4, 5}, std::vector<float>(20, 1))}, {Operand::Out(out)});
    const Status s = m.Run();
    *e = m.error();
    return s;
  };
  std::string e;
  ASSERT_EQ(run({3, 0}, {-1, 2}, {4, 3}, &e), Status::kOk) << e;
  EXPECT_EQ(run({3, 0}, {-1, 2}, {5, 3}, &e), Status::kShapeMismatch);  // row -1
  EXPECT_NE(e.find("leave the input"), std::string::npos) << e;
  EXPECT_EQ(run({3, 0}, {-1, 2}, {4, 4}, &e), Status::kShapeMismatch);  // column 6
  EXPECT_EQ(run({4, 0}, {-1, 1}, {1, 5}, &e), Status::kShapeMismatch);  // start past the end
  EXPECT_EQ(run({-1, 0}, {1, 1}, {1, 5}, &e), Status::kShapeMismatch);  // negative start
  EXPECT_EQ(run({0, 0}, {0, 1}, {1, 5}, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("step"), std::string::npos) << e;
  EXPECT_EQ(run({0}, {1}, {4, 5}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({}, {}, {4, 5}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({0, 0}, {1, 1, 1}, {4, 5}, &e), Status::kCorruptModel);
  EXPECT_EQ(run({0, 0}, {1, 1}, {4, 5, 1}, &e), Status::kShapeMismatch);
  // Steps that would overflow 32-bit index arithmetic.
  EXPECT_EQ(run({0, 0}, {2147483647, 1}, {2, 5}, &e), Status::kShapeMismatch);
  EXPECT_EQ(run({3, 0}, {-2147483647 - 1, 1}, {2, 5}, &e), Status::kShapeMismatch);
}

}  // namespace
}  // namespace outpost::testing
