// Kernels read arena tensors through typed pointers, so the model reader must refuse a memory
// plan that places a tensor at an offset that is not a multiple of its element size.
#include <gtest/gtest.h>

#include "compiler/emit/opm_file.h"
#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

Status LoadReluModel(uint32_t alignment, int64_t output_offset, std::string* error) {
  opm::ModelT m;
  for (int i = 0; i < 2; ++i) {
    auto t = std::make_unique<opm::TensorT>();
    t->name.assign(1, static_cast<char>('x' + i));  // "x", "y"
    t->dtype = opm::DType::FLOAT32;
    t->shape = {4};
    t->arena_offset = i == 0 ? 0 : output_offset;
    m.tensors.push_back(std::move(t));
  }
  auto op = std::make_unique<opm::OperatorT>();
  op->opcode = opm::OpCode::RELU;
  op->inputs = {0};
  op->outputs = {1};
  m.operators.push_back(std::move(op));
  m.inputs = {0};
  m.outputs = {1};
  m.plan = std::make_unique<opm::MemoryPlanT>();
  m.plan->arena_bytes = 64;
  m.plan->alignment = alignment;
  const std::vector<uint8_t> file = emit::WriteOpmBytes(std::move(m), {});
  std::vector<uint8_t> storage(file.size() + 64);
  uint8_t* p = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  std::memcpy(p, file.data(), file.size());
  Model model;
  ErrorReporter errors;
  const Status s = model.Load(p, file.size(), &errors);
  *error = errors.message();
  return s;
}

TEST(ModelLoad, RefusesArenaTensorsNotAlignedToTheirElementSize) {
  std::string e;
  EXPECT_EQ(LoadReluModel(1, 16, &e), Status::kOk) << e;
  EXPECT_EQ(LoadReluModel(1, 4, &e), Status::kOk) << e;
  EXPECT_EQ(LoadReluModel(1, 18, &e), Status::kCorruptModel);
  EXPECT_NE(e.find("aligned"), std::string::npos) << e;
  EXPECT_EQ(LoadReluModel(2, 22, &e), Status::kCorruptModel);
}

}  // namespace
}  // namespace outpost::testing
