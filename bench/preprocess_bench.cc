// Preprocessing cost per camera frame: a 640x480 RGB frame to a 224x224 ImageNet-normalized
// NCHW input, as float32 and fused int8, for each resize method and fit; and the YUV
// conversions the video and camera sources run per frame.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "io/preprocess.h"
#include "io/yuv.h"

namespace outpost::io {
namespace {

constexpr int kWidth = 640, kHeight = 480;

std::vector<uint8_t> Noise(size_t n) {
  std::vector<uint8_t> v(n);
  uint32_t s = 7;
  for (uint8_t& b : v) b = static_cast<uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
  return v;
}

PreprocessPlan ImageNetPlan(ResizeMethod resize, FitMode fit) {
  PreprocessPlan p;
  p.layout = opm::Layout::NCHW;
  p.color = opm::ColorFormat::RGB;
  p.channels = 3;
  p.height = p.width = 224;
  p.value_scale = 1.0f / 255;
  p.mean = {0.485f, 0.456f, 0.406f};
  p.std = {0.229f, 0.224f, 0.225f};
  p.resize = resize;
  p.fit = fit;
  return p;
}

// range(0): resize method, range(1): fit, range(2): 1 for int8 output.
void BM_Preprocess640x480To224(benchmark::State& state) {
  const std::vector<uint8_t> frame = Noise(static_cast<size_t>(kWidth) * kHeight * 3);
  const ImageView view{frame.data(), kWidth, kHeight, PixelFormat::kRgb, 0};
  const PreprocessPlan plan =
      ImageNetPlan(static_cast<ResizeMethod>(state.range(0)), static_cast<FitMode>(state.range(1)));
  std::vector<float> f(plan.num_values());
  std::vector<int8_t> q(plan.num_values());
  const bool quantized = state.range(2) != 0;
  for (auto _ : state) {
    if (quantized) {
      PreprocessQuantized(view, plan, 0.0187f, -14, q.data());
      benchmark::DoNotOptimize(q.data());
    } else {
      Preprocess(view, plan, f.data());
      benchmark::DoNotOptimize(f.data());
    }
  }
}
BENCHMARK(BM_Preprocess640x480To224)
    ->ArgNames({"area", "fit", "int8"})
    ->Args({0, 0, 0})  // bilinear stretch, float
    ->Args({0, 0, 1})  // bilinear stretch, int8
    ->Args({1, 0, 0})  // area stretch, float
    ->Args({1, 0, 1})  // area stretch, int8
    ->Args({0, 1, 0})  // bilinear letterbox, float
    ->Args({0, 1, 1})  // bilinear letterbox, int8
    ->Args({0, 2, 0})  // bilinear centre crop, float
    ->Unit(benchmark::kMillisecond);

void BM_Yuv420ToRgb640x480(benchmark::State& state) {
  const std::vector<uint8_t> yuv = Noise(static_cast<size_t>(kWidth) * kHeight * 3 / 2);
  std::vector<uint8_t> rgb(static_cast<size_t>(kWidth) * kHeight * 3);
  const uint8_t* y = yuv.data();
  const uint8_t* u = y + kWidth * kHeight;
  const uint8_t* v = u + kWidth * kHeight / 4;
  for (auto _ : state) {
    Yuv420ToRgb(y, u, v, kWidth, kHeight, rgb.data());
    benchmark::DoNotOptimize(rgb.data());
  }
}
BENCHMARK(BM_Yuv420ToRgb640x480)->Unit(benchmark::kMillisecond);

void BM_YuyvToRgb640x480(benchmark::State& state) {
  const std::vector<uint8_t> yuyv = Noise(static_cast<size_t>(kWidth) * kHeight * 2);
  std::vector<uint8_t> rgb(static_cast<size_t>(kWidth) * kHeight * 3);
  for (auto _ : state) {
    YuyvToRgb(yuyv.data(), kWidth, kHeight, rgb.data());
    benchmark::DoNotOptimize(rgb.data());
  }
}
BENCHMARK(BM_YuyvToRgb640x480)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace outpost::io

BENCHMARK_MAIN();
