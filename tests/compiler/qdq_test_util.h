// Helpers of the quantized-model tests: running graphs, ONNX's quantization arithmetic as a
// reference, and comparing outputs in quantization steps.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "compiler/emit/graph_runner.h"
#include "compiler/ir/graph.h"
#include "compiler/passes/passes.h"

namespace outpost::testing {

inline std::vector<ir::OpCode> Ops(const ir::Graph& g) {
  std::vector<ir::OpCode> ops;
  for (const ir::Node& n : g.nodes) ops.push_back(n.op);
  return ops;
}

inline const ir::Node& NodeWith(const ir::Graph& g, ir::OpCode op) {
  for (const ir::Node& n : g.nodes)
    if (n.op == op) return n;
  ADD_FAILURE() << "no " << opm::EnumNameOpCode(op) << " node";
  static const ir::Node none;
  return none;
}

inline ir::Graph Optimized(ir::Graph g, passes::PassStats* stats = nullptr) {
  passes::PassStats s = passes::Optimize(g);
  if (stats) *stats = s;
  return g;
}

template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

template <typename T>
std::vector<T> Values(const std::vector<uint8_t>& b) {
  std::vector<T> v(b.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
  return v;
}

// Runs `g` on one input and returns its first output as T.
template <typename T, typename In>
std::vector<T> RunOn(const ir::Graph& g, const std::vector<In>& input) {
  return Values<T>(emit::RunGraph(g, {Bytes(input)}).at(0));
}

// ONNX QuantizeLinear: x / scale in float32, rounded half to even, plus the zero point,
// saturated.
inline int Quantize(float x, float scale, int zp, int lo = -128, int hi = 127) {
  const double r = std::nearbyint(static_cast<double>(x / scale)) + zp;
  return static_cast<int>(r < lo ? lo : (r > hi ? hi : r));
}

inline float Dequantize(int q, float scale, int zp) {
  return static_cast<float>(q - zp) * scale;
}

// Deterministic pseudo-random values in [lo, hi].
inline std::vector<float> Pseudo(size_t n, float lo, float hi, uint32_t seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = lo + (hi - lo) * static_cast<float>(seed >> 8) / static_cast<float>(1u << 24);
  }
  return v;
}

inline std::vector<int> PseudoInts(size_t n, int lo, int hi, uint32_t seed) {
  std::vector<int> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = lo + static_cast<int>((seed >> 8) % static_cast<uint32_t>(hi - lo + 1));
  }
  return v;
}

// Direct NCHW convolution in double (stride 1, symmetric padding `pad`, one group).
inline std::vector<double> Conv(const std::vector<double>& x, int c, int h, int w,
                                const std::vector<double>& wt, int m, int k, int pad,
                                const std::vector<double>& bias) {
  const int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  std::vector<double> y(static_cast<size_t>(m) * oh * ow);
  for (int o = 0; o < m; ++o)
    for (int i = 0; i < oh; ++i)
      for (int j = 0; j < ow; ++j) {
        double s = bias.empty() ? 0.0 : bias[o];
        for (int ci = 0; ci < c; ++ci)
          for (int a = 0; a < k; ++a)
            for (int b = 0; b < k; ++b) {
              const int yy = i + a - pad, xx = j + b - pad;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              s += x[(ci * h + yy) * w + xx] * wt[((o * c + ci) * k + a) * k + b];
            }
        y[(o * oh + i) * ow + j] = s;
      }
  return y;
}

// Checks that `got` and `want` differ by at most one quantization step `step` everywhere and
// are equal (to a hundredth of a step) on at least `exact_share` of the elements.
inline void ExpectWithinOneStep(const std::vector<float>& got, const std::vector<float>& want,
                                float step, double exact_share) {
  ASSERT_EQ(got.size(), want.size());
  size_t exact = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]) / step;
    EXPECT_LE(d, 1.01) << "element " << i << ": got " << got[i] << ", want " << want[i];
    exact += d < 0.01;
  }
  EXPECT_GE(static_cast<double>(exact), exact_share * static_cast<double>(got.size()))
      << exact << " of " << got.size() << " elements equal";
}

}  // namespace outpost::testing
