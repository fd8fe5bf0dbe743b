// Single-core fp32 FMA peak: the ceiling the benchmark's "% peak" column is measured against.
// Independent FMA chains, enough of them to cover FMA latency x throughput, on the widest
// vectors the CPU has (AVX-512, else AVX2+FMA, else scalar). Prints one JSON line.
//
//   c++ -O3 -std=c++17 bench/peak_flops.cc -o build/bench/peak_flops && build/bench/peak_flops
#include <time.h>

#include <cstdio>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

constexpr long kIters = 100'000'000;  // ~0.25 s per repetition at 200 GFLOP/s

double ThreadSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

#if defined(__x86_64__)
// 16 chains: Zen 4/5 and Intel cores need latency (4) x FMA ports (2) = 8 in flight; 16 also
// covers 5-cycle-latency parts. Returns a value derived from every chain so none is dropped.
__attribute__((target("avx512f"))) float Avx512(long iters) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long k = 0; k < iters; ++k)
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, s);  // not _mm512_reduce_add_ps: GCC 12 warns inside its header
  float sum = 0;
  for (float v : out) sum += v;
  return sum;
}

__attribute__((target("avx2,fma"))) float Avx2(long iters) {
  __m256 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long k = 0; k < iters; ++k)
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#endif

float Scalar(long iters) {
  float acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = 0.001f * i;
  for (long k = 0; k < iters; ++k)
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  float s = 0;
  for (float v : acc) s += v;
  return s;
}

}  // namespace

int main() {
  const char* isa = "scalar";
  int lanes = 1;
  float (*run)(long) = &Scalar;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    isa = "avx512f";
    lanes = 16;
    run = &Avx512;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    isa = "avx2+fma";
    lanes = 8;
    run = &Avx2;
  }
#endif
  run(kIters / 20);  // warm up: clocks ramp, AVX-512 license settles
  // Thread CPU time, best of several: the machine may be shared, and time spent descheduled
  // says nothing about what the core can do.
  double best = 1e30;
  volatile float sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = ThreadSeconds();
    sink = sink + run(kIters);
    const double s = ThreadSeconds() - t0;
    if (s < best) best = s;
  }
  const double flops = 2.0 * 16 * lanes * static_cast<double>(kIters);
  std::printf("{\"isa\": \"%s\", \"gflops\": %.2f, \"seconds\": %.4f}\n", isa, flops / best / 1e9,
              best);
  return 0;
}
