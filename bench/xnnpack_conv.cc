// Times one convolution per input line with XNNPACK (Debian's libxnnpack), so that
// bench/xnnpack_decision.py can set XNNPACK's time for every convolution of a zoo model beside
// Outpost's time for the same layer. XNNPACK is an optional backend candidate: it is adopted
// for an op only where this measurement says it is faster.
//
//   c++ -O3 -std=c++17 bench/xnnpack_conv.cc -lXNNPACK -lpthreadpool -o build/bench/xnnpack_conv
//   echo "f32 64 56 56 64 3 3 1 1 1 1 1 1 1 1 1 0 inf" | build/bench/xnnpack_conv 1 30
//
// Arguments: threads, timed runs (after 5 warm-up runs). Each stdin line:
//   prec(f32|f32nchw|qc8) C H W OC KH KW SH SW PT PL PB PR DH DW GROUPS MIN MAX
// (C and OC are totals over the groups; MIN/MAX: the fused activation's clamp, "inf" allowed).
// Each output line: "create_us median_us" or "error <reason>". Weights are random: only the
// time is of interest. f32 and qc8 run XNNPACK's NHWC operators; the layout conversions a
// backend in an NCHW graph would need are not included, so the comparison favours XNNPACK.
// f32nchw runs its NCHW operator, which exists for a few shapes only (depthwise 3x3 and 5x5,
// a 3x3 stride-2 first layer, sparse 1x1): those it could run in place in an NCHW graph.
#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct ConvSpec {
  std::string prec;
  uint32_t c, h, w, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups;
  float min, max;
};

bool ParseFloat(const std::string& s, float* out) {
  if (s == "inf") { *out = INFINITY; return true; }
  if (s == "-inf") { *out = -INFINITY; return true; }
  char* end = nullptr;
  *out = std::strtof(s.c_str(), &end);
  return end != s.c_str() && *end == '\0';
}

bool Parse(const std::string& line, ConvSpec* s) {
  std::istringstream in(line);
  std::string lo, hi;
  in >> s->prec >> s->c >> s->h >> s->w >> s->oc >> s->kh >> s->kw >> s->sh >> s->sw >> s->pt >>
      s->pl >> s->pb >> s->pr >> s->dh >> s->dw >> s->groups >> lo >> hi;
  if (!in || s->groups == 0 || s->c % s->groups != 0 || s->oc % s->groups != 0) return false;
  return ParseFloat(lo, &s->min) && ParseFloat(hi, &s->max) &&
         (s->prec == "f32" || s->prec == "f32nchw" || s->prec == "qc8");
}

uint32_t OutDim(uint32_t in, uint32_t k, uint32_t stride, uint32_t pad0, uint32_t pad1,
                uint32_t dil) {
  const uint32_t eff = (k - 1) * dil + 1;
  return (in + pad0 + pad1 - eff) / stride + 1;
}

double Micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// Runs `op` warm-up + `runs` times, returns the median in microseconds.
double MedianRun(xnn_operator_t op, pthreadpool_t pool, int runs) {
  for (int i = 0; i < 5; ++i) xnn_run_operator(op, pool);
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    xnn_run_operator(op, pool);
    t.push_back(Micros(std::chrono::steady_clock::now() - start));
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

std::string Measure(const ConvSpec& s, pthreadpool_t pool, int runs) {
  const uint32_t oh = OutDim(s.h, s.kh, s.sh, s.pt, s.pb, s.dh);
  const uint32_t ow = OutDim(s.w, s.kw, s.sw, s.pl, s.pr, s.dw);
  const size_t gic = s.c / s.groups, goc = s.oc / s.groups;
  const size_t weights = static_cast<size_t>(s.oc) * s.kh * s.kw * gic;
  std::mt19937 rng(7);
  xnn_operator_t op = nullptr;
  xnn_status st;
  const auto start = std::chrono::steady_clock::now();
  if (s.prec == "f32" || s.prec == "f32nchw") {
    const bool nchw = s.prec == "f32nchw";
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> k(weights), b(s.oc), in(size_t{s.c} * s.h * s.w),
        out(size_t{s.oc} * oh * ow);
    for (float& v : k) v = u(rng);
    for (float& v : b) v = u(rng);
    for (float& v : in) v = u(rng);
    st = (nchw ? xnn_create_convolution2d_nchw_f32 : xnn_create_convolution2d_nhwc_f32)(
        s.pt, s.pr, s.pb, s.pl, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.groups, gic, goc, s.c, s.oc,
        k.data(), b.data(), s.min, s.max, 0, &op);
    if (st != xnn_status_success) return "error create " + std::to_string(st);
    st = (nchw ? xnn_setup_convolution2d_nchw_f32 : xnn_setup_convolution2d_nhwc_f32)(
        op, 1, s.h, s.w, in.data(), out.data(), pool);
    if (st != xnn_status_success) return "error setup " + std::to_string(st);
    const double create_us = Micros(std::chrono::steady_clock::now() - start);
    const double median = MedianRun(op, pool, runs);
    xnn_delete_operator(op);
    return std::to_string(create_us) + " " + std::to_string(median);
  }
  std::uniform_int_distribution<int> u(-127, 127);
  std::vector<int8_t> k(weights), in(size_t{s.c} * s.h * s.w), out(size_t{s.oc} * oh * ow);
  std::vector<int32_t> b(s.oc);
  std::vector<float> scales(s.oc, 0.01f);
  for (int8_t& v : k) v = static_cast<int8_t>(u(rng));
  for (int8_t& v : in) v = static_cast<int8_t>(u(rng));
  for (int32_t& v : b) v = u(rng) * 64;
  // Zero points -128 (what a ReLU output quantizes to) and a full-range clamp: the fused
  // activation is folded into the int8 range, so MIN/MAX do not change the int8 work.
  st = xnn_create_convolution2d_nhwc_qc8(s.pt, s.pr, s.pb, s.pl, s.kh, s.kw, s.sh, s.sw, s.dh,
                                         s.dw, s.groups, gic, goc, s.c, s.oc, -128, 0.05f,
                                         scales.data(), k.data(), b.data(), -128, 0.05f, -128, 127,
                                         0, &op);
  if (st != xnn_status_success) return "error create " + std::to_string(st);
  st = xnn_setup_convolution2d_nhwc_qc8(op, 1, s.h, s.w, in.data(), out.data(), pool);
  if (st != xnn_status_success) return "error setup " + std::to_string(st);
  const double create_us = Micros(std::chrono::steady_clock::now() - start);
  const double median = MedianRun(op, pool, runs);
  xnn_delete_operator(op);
  return std::to_string(create_us) + " " + std::to_string(median);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: xnnpack_conv THREADS RUNS < specs\n");
    return 2;
  }
  const int threads = std::atoi(argv[1]), runs = std::atoi(argv[2]);
  if (threads < 1 || runs < 1) {
    std::fprintf(stderr, "xnnpack_conv: THREADS and RUNS must be positive\n");
    return 2;
  }
  if (xnn_initialize(nullptr) != xnn_status_success) {
    std::fprintf(stderr, "xnnpack_conv: xnn_initialize failed (CPU not supported?)\n");
    return 1;
  }
  // One thread: no pool at all, as XNNPACK's own single-threaded benchmarks run.
  pthreadpool_t pool = threads > 1 ? pthreadpool_create(threads) : nullptr;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    ConvSpec spec{};
    std::cout << (Parse(line, &spec) ? Measure(spec, pool, runs) : "error parse") << std::endl;
  }
  if (pool != nullptr) pthreadpool_destroy(pool);
  xnn_deinitialize();
  return 0;
}
