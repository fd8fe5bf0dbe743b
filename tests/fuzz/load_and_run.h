// What every untrusted model goes through: verify, plan, prepare, run. Shared by the libFuzzer
// target and the bad-model corpus test so both exercise exactly the same path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"

namespace outpost::fuzz {

struct LoadResult {
  Status load = Status::kOk;
  Status init = Status::kNotReady;
  Status invoke = Status::kNotReady;
  std::string message;
};

// Arena cap: a hostile model may ask for terabytes; refusing is the right answer.
constexpr size_t kMaxFuzzArena = 64u << 20;

inline LoadResult LoadAndRun(const uint8_t* data, size_t size) {
  LoadResult r;
  // Models are loaded from aligned memory (mmap); copy to honour that.
  std::unique_ptr<uint8_t[]> storage(new uint8_t[size + 64]);
  uint8_t* aligned = storage.get() + (64 - reinterpret_cast<uintptr_t>(storage.get()) % 64) % 64;
  if (size) std::memcpy(aligned, data, size);
  ErrorReporter errors;
  Model model;
  r.load = model.Load(aligned, size, &errors);
  r.message = errors.message();
  if (r.load != Status::kOk) return r;
  static AllOpsResolver* resolver = [] {
    auto* res = new AllOpsResolver();
    RegisterAllKernels(*res);
    return res;
  }();
  ArenaRequirement req;
  r.init = Interpreter::Measure(model, *resolver, &req, &errors);
  if (r.init == Status::kOk && req.total_bytes > kMaxFuzzArena) r.init = Status::kArenaTooSmall;
  if (r.init != Status::kOk) {
    r.message = errors.message();
    return r;
  }
  std::unique_ptr<uint8_t[]> arena(new uint8_t[req.total_bytes + 64]);
  Interpreter interp;
  r.init = interp.Init(model, *resolver, arena.get(), req.total_bytes + 64, &errors);
  r.message = errors.message();
  if (r.init != Status::kOk) return r;
  r.invoke = interp.Invoke();
  r.message = errors.message();
  return r;
}

}  // namespace outpost::fuzz
