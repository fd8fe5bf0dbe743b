// The portability contract, checked: Interpreter::Invoke performs no heap allocation.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "runtime/all_ops_resolver.h"
#include "runtime/cpu_features.h"
#include "runtime/interpreter.h"
#include "compiler/compile.h"
#include "compiler/emit/opm_writer.h"
#include "tests/fuzz/bad_models.h"
#include "tests/portability/allocation_counter.h"
#include "tests/zoo/zoo_models.h"

namespace outpost::testing {
namespace {

TEST(NoHeap, CounterSeesAllocations) {
  ArmAllocationCounter();
  void* volatile p = std::malloc(32);  // volatile: the pair must not be optimized away
  auto q = std::make_unique<int>(3);
  std::free(p);
  EXPECT_GE(DisarmAllocationCounter(), 2u) << "the counter must be able to fail";
}

// Loads `file`, runs Invoke three times and returns the heap allocations made during them.
// `optimized_ops`, when given, receives how many operators ran a non-reference kernel.
size_t AllocationsDuringInvoke(const std::vector<uint8_t>& file, int* optimized_ops = nullptr) {
  std::unique_ptr<uint8_t[]> storage(new uint8_t[file.size() + 64]);
  uint8_t* aligned = storage.get() + (64 - reinterpret_cast<uintptr_t>(storage.get()) % 64) % 64;
  std::memcpy(aligned, file.data(), file.size());
  Model model;
  EXPECT_EQ(model.Load(aligned, file.size()), Status::kOk);
  AllOpsResolver resolver;
  EXPECT_EQ(RegisterAllKernels(resolver), Status::kOk);
  ArenaRequirement req;
  EXPECT_EQ(Interpreter::Measure(model, resolver, &req), Status::kOk);
  std::vector<uint8_t> arena(req.total_bytes + 64);
  Interpreter interp;
  EXPECT_EQ(interp.Init(model, resolver, arena.data(), arena.size()), Status::kOk);
  if (optimized_ops != nullptr) {
    *optimized_ops = 0;
    for (int i = 0; i < model.num_operators(); ++i)
      if (interp.kernel(i)->family != KernelFamily::kReference) ++*optimized_ops;
  }
  ArmAllocationCounter();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(interp.Invoke(), Status::kOk);
  return DisarmAllocationCounter();
}

TEST(NoHeap, InvokeAllocatesNothing) {
  EXPECT_EQ(AllocationsDuringInvoke(fuzz::MakeValidModel()), 0u);
}

TEST(NoHeap, ZooModelsInvokeAllocatesNothing) {
  const auto dirs = ZooModelDirs();
  ASSERT_GE(dirs.size(), 4u);
  int optimized = 0;
  for (const std::string& dir : dirs) {
    Expected<ir::Graph> g = compiler::CompileOnnx(dir + "/model.onnx", {});
    ASSERT_TRUE(g.ok()) << g.message();
    int n = 0;
    EXPECT_EQ(AllocationsDuringInvoke(emit::EmitOpm(g.value()), &n), 0u) << dir;
    optimized += n;
  }
  // On a CPU with optimized kernels the zoo's convolutions must have exercised them.
  if (DetectCpuFeatures() & kCpuX86Avx2Fma) {
#if defined(__x86_64__)
    EXPECT_GT(optimized, 0) << "no optimized kernel ran: the check above did not cover them";
#endif
  }
}

}  // namespace
}  // namespace outpost::testing
