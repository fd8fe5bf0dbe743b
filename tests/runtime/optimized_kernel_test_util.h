// Running a one-operator model with a chosen set of CPU features, for the tests that compare
// an optimized kernel with the reference kernel (its specification): which kernel ran, the
// output bytes, the arena it needed, and executors that split work in ways no serial run does.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"

namespace outpost::testing {

struct FeatureRun {
  Status status = Status::kOk;
  std::string error;
  std::string kernel;  // the kernel of operator 0
  std::vector<uint8_t> bytes;
  ArenaRequirement req;
};

// Runs `file` with every kernel of this build that `features` allow (0: reference only),
// feeding `inputs` to its non-constant inputs, through `executor` when given. The arena is
// poisoned first, so an output element a kernel forgets to write shows.
inline FeatureRun RunWithFeatures(const std::vector<uint8_t>& file,
                                  const std::vector<std::vector<uint8_t>>& inputs,
                                  uint32_t features, const Executor* executor = nullptr) {
  FeatureRun r;
  std::unique_ptr<uint8_t[]> storage(new uint8_t[file.size() + 64]);
  uint8_t* p = storage.get() + (64 - reinterpret_cast<uintptr_t>(storage.get()) % 64) % 64;
  std::memcpy(p, file.data(), file.size());
  ErrorReporter errors;
  Model model;
  r.status = model.Load(p, file.size(), &errors);
  AllOpsResolver resolver;
  if (r.status == Status::kOk) r.status = RegisterAllKernels(resolver);
  resolver.set_cpu_features(features);
  if (r.status == Status::kOk) r.status = Interpreter::Measure(model, resolver, &r.req, &errors);
  std::vector<uint8_t> arena(r.req.total_bytes + 64, 0xA5);
  Interpreter interp;
  interp.set_executor(executor);
  if (r.status == Status::kOk)
    r.status = interp.Init(model, resolver, arena.data(), arena.size(), &errors);
  if (r.status == Status::kOk) {
    r.kernel = interp.kernel(0)->name;
    for (size_t i = 0; i < inputs.size(); ++i)
      std::memcpy(interp.input(static_cast<int>(i)).data, inputs[i].data(), inputs[i].size());
    r.status = interp.Invoke();
  }
  if (r.status != Status::kOk) {
    r.error = errors.message();
    return r;
  }
  const TensorView& y = interp.output(0);
  r.bytes.assign(y.as<uint8_t>(), y.as<uint8_t>() + y.bytes);
  return r;
}

// Every range of a parallel_for as its own chunk, last first, as if each ran on its own thread.
inline void ReversedSingleTasks(void*, int64_t n, int64_t, void (*fn)(void*, int64_t, int64_t),
                                void* arg) {
  for (int64_t b = n - 1; b >= 0; --b) fn(arg, b, b + 1);
}

// Three uneven chunks, in order.
inline void ThreeUnevenChunks(void*, int64_t n, int64_t, void (*fn)(void*, int64_t, int64_t),
                              void* arg) {
  const int64_t a = n / 5, b = n - n / 3;
  if (a > 0) fn(arg, 0, a);
  if (b > a) fn(arg, a, b);
  if (n > b) fn(arg, b, n);
}

inline Executor SplittingExecutor(void (*parallel_for)(void*, int64_t, int64_t,
                                                       void (*)(void*, int64_t, int64_t), void*),
                                  int threads) {
  Executor e;
  e.parallel_for = parallel_for;
  e.threads = threads;
  return e;
}

}  // namespace outpost::testing
