// Maps (opcode, dtype) to a kernel. A resolver is a fixed-capacity table filled without static
// initializers, so a firmware build can hold only the kernels its model uses.
#pragma once

#include <stddef.h>

#include "runtime/kernel.h"

namespace outpost {

class OpResolver {
 public:
  // The best kernel for (op, dtype) that the CPU supports: a later registration with its
  // required features present wins over an earlier one, so register reference kernels first.
  virtual const KernelRegistration* Find(OpCode op, DType dtype) const = 0;

 protected:
  // Not virtual: a virtual destructor would pull operator delete into heap-free builds.
  ~OpResolver() = default;
};

template <size_t kCapacity>
// final: destroyed through its own type only (OpResolver's destructor is not virtual).
class MutableOpResolver final : public OpResolver {
 public:
  explicit MutableOpResolver(uint32_t cpu_features = 0) : cpu_features_(cpu_features) {}

  // Returns kInvalidArgument when full.
  Status Add(const KernelRegistration& k) {
    if (count_ >= kCapacity) return Status::kInvalidArgument;
    kernels_[count_++] = &k;
    return Status::kOk;
  }
  Status AddAll(const KernelRegistration* table, size_t n) {
    for (size_t i = 0; i < n; ++i) OUTPOST_RETURN_IF_ERROR(Add(table[i]));
    return Status::kOk;
  }

  const KernelRegistration* Find(OpCode op, DType dtype) const override {
    const KernelRegistration* best = nullptr;
    for (size_t i = 0; i < count_; ++i) {
      const KernelRegistration* k = kernels_[i];
      if (k->op == op && k->dtype == dtype &&
          (k->required_cpu_features & ~cpu_features_) == 0)
        best = k;
    }
    return best;
  }
  size_t size() const { return count_; }
  uint32_t cpu_features() const { return cpu_features_; }
  // Which optimized kernels may win: DetectCpuFeatures() for the running CPU, 0 for the
  // reference kernels only.
  void set_cpu_features(uint32_t features) { cpu_features_ = features; }

 private:
  const KernelRegistration* kernels_[kCapacity] = {};
  size_t count_ = 0;
  uint32_t cpu_features_;
};

}  // namespace outpost
