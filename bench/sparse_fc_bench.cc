// FULLY_CONNECTED with a batch of one, on the same weights stored dense and stored sparse: the
// decision whether the sparse kernel (runtime/kernels/f32/fc_sparse_gemv_inl.h) wins, by
// sparsity. Shapes: fashion_cnn's 3136 -> 128 layer and a 1024 -> 1024 one. One thread, the
// kernels this CPU gets.
//   build/release/bench/sparse_fc_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
// range(0): k, range(1): o, range(2): sparsity in %, range(3): 1 = stored sparse.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "tests/support/single_op_model.h"

namespace outpost {
namespace {

std::vector<uint8_t> FcModel(int k, int o, double sparsity, bool sparse_storage) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(k) * o), b(o);
  for (float& v : w) v = u(rng);
  for (float& v : b) v = u(rng);
  // The smallest magnitudes zero, as magnitude pruning leaves them: positions at random.
  std::vector<float> mag(w.size());
  for (size_t i = 0; i < w.size(); ++i) mag[i] = std::fabs(w[i]);
  std::vector<float> sorted = mag;
  const size_t cut = static_cast<size_t>(sparsity * double(w.size()));
  if (cut > 0) {
    std::nth_element(sorted.begin(), sorted.begin() + (cut - 1), sorted.end());
    const float threshold = sorted[cut - 1];
    for (size_t i = 0; i < w.size(); ++i)
      if (mag[i] <= threshold) w[i] = 0.0f;
  }
  testing::SingleOpModel model(
      opm::OpCode::FULLY_CONNECTED, [] {
        opm::OpOptionsUnion options;
        options.Set(opm::FullyConnectedOptionsT());
        return options;
      }(),
      {testing::Operand::F32({1, k}, std::vector<float>(k)), testing::Operand::F32({o, k}, w, true),
       testing::Operand::F32({o}, b, true)},
      {testing::Operand::Out({1, o})}, sparse_storage);
  return model.file();
}

void BM_FullyConnectedBatch1(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0)), o = static_cast<int>(state.range(1));
  const std::vector<uint8_t> file =
      FcModel(k, o, static_cast<double>(state.range(2)) / 100.0, state.range(3) == 1);
  std::vector<uint8_t> storage(file.size() + 64);
  uint8_t* p = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  std::memcpy(p, file.data(), file.size());
  Model model;
  ErrorReporter err;
  AllOpsResolver resolver;
  ArenaRequirement need;
  Interpreter interp;
  std::vector<uint8_t> arena;
  if (model.Load(p, file.size(), &err) != Status::kOk || RegisterAllKernels(resolver) != Status::kOk ||
      Interpreter::Measure(model, resolver, &need, &err) != Status::kOk) {
    state.SkipWithError(err.message());
    return;
  }
  arena.assign(need.total_bytes + 64, 0);
  if (interp.Init(model, resolver, arena.data(), arena.size(), &err) != Status::kOk) {
    state.SkipWithError(err.message());
    return;
  }
  float* x = interp.input(0).as<float>();
  for (int i = 0; i < k; ++i) x[i] = 0.001f * static_cast<float>(i % 1000);
  for (auto _ : state) {
    interp.Invoke();
    benchmark::ClobberMemory();
  }
  state.counters["file_KiB"] = static_cast<double>(file.size()) / 1024.0;
  state.counters["decoded_KiB"] = static_cast<double>(need.decoded_bytes) / 1024.0;
  state.SetLabel(interp.tensor(1).sparse != nullptr ? "sparse kernel" : "dense kernel");
}

void Args(benchmark::internal::Benchmark* b) {
  for (const auto& [k, o] : {std::pair{3136, 128}, std::pair{1024, 1024}}) {
    b->Args({k, o, 0, 0});
    for (int s : {50, 70, 80, 90}) {
      b->Args({k, o, s, 0});
      b->Args({k, o, s, 1});
    }
  }
}
BENCHMARK(BM_FullyConnectedBatch1)->Apply(Args)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace outpost

BENCHMARK_MAIN();
