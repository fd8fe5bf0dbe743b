// Random shapes and options, often inconsistent, sometimes absurd (zero or negative strides,
// pads, steps; wrong output dims): every model a kernel accepts in prepare must then run inside
// its tensors (checked by AddressSanitizer in the sanitizer build), every refusal must carry a
// message, and a fair share must be accepted so that the refusals are not the whole story.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

class Dice {
 public:
  explicit Dice(uint32_t seed) : rng_(seed) {}
  int operator()(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool OneIn(int n) { return (*this)(1, n) == 1; }
  // `v`, or with probability 1/n a nearby wrong value (kept >= 1 so the model still loads).
  int32_t Perturb(int64_t v, int n = 6) {
    if (OneIn(n)) v += (*this)(-2, 2);
    return static_cast<int32_t>(std::clamp<int64_t>(v, 1, 64));
  }
  std::vector<int32_t> Shape(int rank, int lo, int hi) {
    std::vector<int32_t> s(rank);
    for (int32_t& d : s) d = (*this)(lo, hi);
    return s;
  }

 private:
  std::mt19937 rng_;
};

// Runs the model; returns true when prepare accepted it (then eval must have succeeded too).
bool Accepted(SingleOpModel& m) {
  const Status s = m.Run();
  if (s == Status::kOk) return true;
  EXPECT_TRUE(s == Status::kShapeMismatch || s == Status::kCorruptModel ||
              s == Status::kUnsupported)
      << StatusName(s) << ": " << m.error();
  EXPECT_FALSE(m.error().empty());
  return false;
}

Operand RandomF32(const std::vector<int32_t>& shape, uint32_t seed, bool constant = false) {
  return Operand::F32(shape, RandomFloats(Product(shape), seed), constant);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

TEST(HostileOptions, ConvAndConvTranspose) {
  Dice d(1);
  int accepted = 0;
  for (int it = 0; it < 400; ++it) {
    const bool transpose = it % 2;
    const int g = d(1, 3);
    const std::vector<int32_t> x = {d(1, 2), d.Perturb(g * d(1, 2), 8), d(1, 6), d(1, 6)};
    const int cg = std::max(1, x[1] / g), mg = d(1, 2);
    const std::vector<int32_t> w = {transpose ? x[1] : g * mg, d.Perturb(transpose ? mg : cg, 8),
                                    d(1, 4), d(1, 4)};
    const int m = transpose ? w[1] * g : w[0];
    int sh = d(1, 3), sw = d(1, 3), dh = d(1, 3), dw = d(1, 3);
    int pads[4] = {d(0, 4), d(0, 4), d(0, 4), d(0, 4)};
    int64_t oh, ow;
    if (transpose) {
      oh = sh * (x[2] - 1) + dh * (w[2] - 1) + 1 - pads[0] - pads[2] + d(0, 2);
      ow = sw * (x[3] - 1) + dw * (w[3] - 1) + 1 - pads[1] - pads[3] + d(0, 2);
    } else {
      oh = FloorDiv(x[2] + pads[0] + pads[2] - dh * (w[2] - 1) - 1, sh) + 1;
      ow = FloorDiv(x[3] + pads[1] + pads[3] - dw * (w[3] - 1) - 1, sw) + 1;
    }
    const std::vector<int32_t> y = {x[0], d.Perturb(m, 10), d.Perturb(oh), d.Perturb(ow)};
    // Occasionally absurd options.
    if (d.OneIn(8)) sh = d(-2, 0);
    if (d.OneIn(8)) dw = d(-2, 0);
    if (d.OneIn(8)) pads[d(0, 3)] = d(-3, -1);
    const int groups = d.OneIn(8) ? d(-1, 4) : g;
    std::vector<Operand> ins = {RandomF32(x, it), RandomF32(w, it + 1, true)};
    if (d(0, 1)) ins.push_back(RandomF32({d.Perturb(m, 10)}, it + 2, true));
    if (transpose) {
      opm::ConvTranspose2DOptionsT o;
      o.stride_h = sh, o.stride_w = sw, o.dilation_h = dh, o.dilation_w = dw;
      o.pad_top = pads[0], o.pad_left = pads[1], o.pad_bottom = pads[2], o.pad_right = pads[3];
      o.groups = groups;
      SingleOpModel mdl(opm::OpCode::CONV_TRANSPOSE_2D, Options(o), ins, {Operand::Out(y)});
      accepted += Accepted(mdl);
    } else {
      opm::Conv2DOptionsT o;
      o.stride_h = sh, o.stride_w = sw, o.dilation_h = dh, o.dilation_w = dw;
      o.pad_top = pads[0], o.pad_left = pads[1], o.pad_bottom = pads[2], o.pad_right = pads[3];
      o.groups = groups;
      SingleOpModel mdl(opm::OpCode::CONV_2D, Options(o), ins, {Operand::Out(y)});
      accepted += Accepted(mdl);
    }
  }
  EXPECT_GT(accepted, 25);
}

TEST(HostileOptions, Pool) {
  Dice d(2);
  int accepted = 0;
  for (int it = 0; it < 400; ++it) {
    const std::vector<int32_t> x = {1, d(1, 3), d(1, 7), d(1, 7)};
    opm::Pool2DOptionsT o;
    o.kernel_h = d(1, 4), o.kernel_w = d(1, 4), o.stride_h = d(1, 3), o.stride_w = d(1, 3);
    o.dilation_h = d(1, 3), o.dilation_w = d(1, 3);
    o.pad_top = d(0, 3), o.pad_left = d(0, 3), o.pad_bottom = d(0, 3), o.pad_right = d(0, 3);
    o.count_include_pad = d(0, 1);
    const bool ceil = d(0, 1);
    auto out = [&](int in, int k, int s, int dil, int p0, int p1) {
      const int64_t span = in + p0 + p1 - dil * (k - 1) - 1;
      return FloorDiv(span + (ceil ? s - 1 : 0), s) + 1;
    };
    const std::vector<int32_t> y = {
        1, x[1],
        d.Perturb(out(x[2], o.kernel_h, o.stride_h, o.dilation_h, o.pad_top, o.pad_bottom)),
        d.Perturb(out(x[3], o.kernel_w, o.stride_w, o.dilation_w, o.pad_left, o.pad_right))};
    if (d.OneIn(10)) o.kernel_w = d(-1, 0);
    if (d.OneIn(10)) o.stride_h = d(-1, 0);
    if (d.OneIn(10)) o.dilation_w = d(-1, 0);
    if (d.OneIn(10)) o.pad_left = -1;
    // Max pooling's indices output, sometimes of the wrong dtype or shape or order.
    std::vector<Operand> outs = {Operand::Out(y)};
    if (it % 4 == 1) {
      o.storage_order = d.OneIn(10) ? d(-1, 3) : d(0, 1);
      std::vector<int32_t> ys = y;
      if (d.OneIn(10)) ys[d(2, 3)] += 1;
      outs.push_back(Operand::Out(ys, d.OneIn(10) ? opm::DType::INT32 : opm::DType::INT64));
    }
    SingleOpModel m(it % 2 ? opm::OpCode::MAX_POOL_2D : opm::OpCode::AVERAGE_POOL_2D, Options(o),
                    {RandomF32(x, it)}, outs);
    accepted += Accepted(m);
  }
  EXPECT_GT(accepted, 15);
}

TEST(HostileOptions, PadSliceTranspose) {
  Dice d(3);
  int accepted[3] = {0, 0, 0};
  for (int it = 0; it < 600; ++it) {
    const int rank = d(1, 4);
    const auto x = d.Shape(rank, 1, 5);
    const opm::DType dt = it % 2 ? opm::DType::FLOAT32 : opm::DType::INT8;
    const Operand in =
        dt == opm::DType::FLOAT32 ? RandomF32(x, it) : Typed<int8_t>(x, Sequence(Product(x)));
    std::vector<int32_t> y(rank);
    if (it % 3 == 0) {
      opm::PadOptionsT o;
      o.mode = static_cast<opm::PadMode>(d.OneIn(20) ? d(3, 5) : d(0, 2));
      o.pads.resize(2 * rank);
      for (int i = 0; i < 2 * rank; ++i) o.pads[i] = d(-3, 6);
      for (int i = 0; i < rank; ++i) y[i] = d.Perturb(x[i] + o.pads[i] + o.pads[i + rank]);
      if (d.OneIn(10)) o.pads.pop_back();
      SingleOpModel m(opm::OpCode::PAD, Options(o), {in}, {Operand::Out(y, dt)});
      accepted[0] += Accepted(m);
    } else if (it % 3 == 1) {
      opm::SliceOptionsT o;
      for (int i = 0; i < rank; ++i) {
        const int start = d(0, x[i] - 1), step = d(0, 1) ? d(1, 3) : -d(1, 3);
        o.starts.push_back(d.OneIn(10) ? d(-2, x[i] + 1) : start);
        o.steps.push_back(d.OneIn(20) ? 0 : step);
        const int count = step > 0 ? (x[i] - 1 - start) / step + 1 : start / -step + 1;
        y[i] = d.Perturb(d(1, count), 8);
      }
      SingleOpModel m(opm::OpCode::SLICE, Options(o), {in}, {Operand::Out(y, dt)});
      accepted[1] += Accepted(m);
    } else {
      opm::TransposeOptionsT o;
      for (int i = 0; i < rank; ++i) o.perm.push_back(i);
      std::shuffle(o.perm.begin(), o.perm.end(), std::mt19937(it));
      if (d.OneIn(6)) o.perm[d(0, rank - 1)] = d(-1, rank);
      for (int i = 0; i < rank; ++i)
        y[i] = d.Perturb(o.perm[i] >= 0 && o.perm[i] < rank ? x[o.perm[i]] : 1, 10);
      SingleOpModel m(opm::OpCode::TRANSPOSE, Options(o), {in}, {Operand::Out(y, dt)});
      accepted[2] += Accepted(m);
    }
  }
  for (int k = 0; k < 3; ++k) EXPECT_GT(accepted[k], 20) << k;
}

TEST(HostileOptions, ResizeMatMulReduce) {
  Dice d(4);
  int accepted[3] = {0, 0, 0};
  for (int it = 0; it < 600; ++it) {
    const int rank = d(1, 4);
    const auto x = d.Shape(rank, 1, 4);
    if (it % 3 == 0) {
      opm::ResizeOptionsT o;
      o.mode = static_cast<opm::ResizeMode>(d(0, 2));
      o.coordinate_transform = static_cast<opm::CoordinateTransform>(d(0, 5));
      o.nearest_mode = static_cast<opm::NearestMode>(d(0, 3));
      o.cubic_coeff_a = d.OneIn(20) ? NAN : d(-8, 0) / 8.0f;
      o.exclude_outside = d(0, 1) && (o.mode == opm::ResizeMode::CUBIC || d.OneIn(10));
      std::vector<int32_t> y(rank);
      for (int i = 0; i < rank; ++i) {
        o.scales.push_back(d(1, 12) / 4.0f);
        y[i] = d.Perturb(static_cast<int>(x[i] * o.scales.back()), 10);
      }
      if (d.OneIn(10)) o.scales[d(0, rank - 1)] = d(-1, 0);
      // The crop box: far outside the input, reversed, sometimes not finite or mis-sized.
      if (o.coordinate_transform == opm::CoordinateTransform::TF_CROP_AND_RESIZE || d.OneIn(10)) {
        for (int i = 0; i < 2 * rank; ++i) o.roi.push_back(d(-20, 30) / 10.0f);
        if (d.OneIn(10)) o.roi[d(0, 2 * rank - 1)] = d(0, 1) ? NAN : -INFINITY;
        if (d.OneIn(10)) o.roi.pop_back();
        o.extrapolation_value = d(-5, 5);
      }
      SingleOpModel m(opm::OpCode::RESIZE, Options(o), {RandomF32(x, it)}, {Operand::Out(y)});
      accepted[0] += Accepted(m);
    } else if (it % 3 == 1) {
      // Mostly compatible operands: B's contracted dim is A's last.
      auto b = d.Shape(d(1, 4), 1, 4);
      b[b.size() >= 2 ? b.size() - 2 : 0] = d.Perturb(x.back(), 10);
      std::vector<int32_t> y;
      const size_t ba = x.size() >= 2 ? x.size() - 2 : 0, bb = b.size() >= 2 ? b.size() - 2 : 0;
      for (size_t i = 0; i < std::max(ba, bb); ++i) y.push_back(d(1, 4));
      if (x.size() >= 2) y.push_back(x[x.size() - 2]);
      if (b.size() >= 2) y.push_back(b.back());
      SingleOpModel m(opm::OpCode::MATMUL, {}, {RandomF32(x, it), RandomF32(b, it + 1)},
                      {Operand::Out(y)});
      accepted[1] += Accepted(m);
    } else {
      opm::ReduceOptionsT o;
      std::vector<bool> reduce(rank, false);
      for (int i = d(0, rank); i > 0; --i) {
        const int a = d.OneIn(10) ? d(-rank - 1, rank) : d(0, rank - 1);
        o.axes.push_back(a);
        if (a >= -rank && a < rank) reduce[(a + rank) % rank] = true;
      }
      o.keep_dims = d(0, 1);
      const bool all = o.axes.empty();
      std::vector<int32_t> y;
      for (int i = 0; i < rank; ++i)
        if (!(all || reduce[i]) || o.keep_dims) y.push_back(all || reduce[i] ? 1 : x[i]);
      SingleOpModel m(opm::OpCode::REDUCE_MEAN, Options(o), {RandomF32(x, it)}, {Operand::Out(y)});
      accepted[2] += Accepted(m);
    }
  }
  for (int k = 0; k < 3; ++k) EXPECT_GT(accepted[k], 20) << k;
}

TEST(HostileOptions, ConcatSplit) {
  Dice d(5);
  int accepted = 0;
  for (int it = 0; it < 300; ++it) {
    const int rank = d(1, 3);
    const auto base = d.Shape(rank, 1, 3);
    const int axis = d(0, rank - 1);
    std::vector<std::vector<int32_t>> pieces;
    auto whole = base;
    whole[axis] = 0;
    for (int k = d(1, 3); k > 0; --k) {
      auto s = base;
      s[axis] = d(1, 3);
      whole[axis] += s[axis];
      if (d.OneIn(10)) s[d(0, rank - 1)] += 1;
      pieces.push_back(s);
    }
    whole[axis] = d.Perturb(whole[axis], 10);
    const int raw_axis = d.OneIn(10) ? d(-rank - 2, rank + 1) : (d(0, 1) ? axis : axis - rank);
    if (it % 2) {
      opm::ConcatOptionsT o;
      o.axis = raw_axis;
      std::vector<Operand> ins;
      for (const auto& s : pieces) ins.push_back(RandomF32(s, it + ins.size()));
      SingleOpModel m(opm::OpCode::CONCAT, Options(o), ins, {Operand::Out(whole)});
      accepted += Accepted(m);
    } else {
      opm::SplitOptionsT o;
      o.axis = raw_axis;
      std::vector<Operand> outs;
      for (const auto& s : pieces) outs.push_back(Operand::Out(s));
      SingleOpModel m(opm::OpCode::SPLIT, Options(o), {RandomF32(whole, it)}, outs);
      accepted += Accepted(m);
    }
  }
  EXPECT_GT(accepted, 50);
}

}  // namespace
}  // namespace outpost::testing
