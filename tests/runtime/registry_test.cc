// The reference kernel table: naming, uniqueness and coverage of ops and dtypes.
#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>
#include <utility>

#include "runtime/kernels/reference/reference_kernels.h"
#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {
namespace {

const char* DTypeSuffix(DType t) {
  switch (t) {
    case DType::FLOAT32:
      return "f32";
    case DType::INT8:
      return "i8";
    case DType::UINT8:
      return "u8";
    case DType::INT16:
      return "i16";
    case DType::INT32:
      return "i32";
    case DType::INT64:
      return "i64";
    case DType::BOOL:
      return "bool";
    case DType::FLOAT16:
      return "f16";
  }
  return "?";
}

TEST(ReferenceKernels, NamesAndContract) {
  size_t n = 0;
  const KernelRegistration* const* all = kernels::ReferenceKernels(&n);
  ASSERT_GT(n, 0u);
  std::set<std::pair<int, int>> seen;
  for (size_t i = 0; i < n; ++i) {
    const KernelRegistration& k = *all[i];
    const std::string name = k.name;
    SCOPED_TRACE(name);
    for (char c : name)
      EXPECT_TRUE(std::islower(static_cast<unsigned char>(c)) ||
                  std::isdigit(static_cast<unsigned char>(c)) || c == '_');
    const std::string suffix = std::string("_") + DTypeSuffix(k.dtype) + "_ref";
    ASSERT_GT(name.size(), suffix.size());
    EXPECT_EQ(name.substr(name.size() - suffix.size()), suffix);
    EXPECT_EQ(k.family, KernelFamily::kReference);
    EXPECT_EQ(k.required_cpu_features, 0u);
    EXPECT_EQ(k.scratch_bytes, nullptr) << "reference kernels run without scratch";
    EXPECT_NE(k.prepare, nullptr);
    EXPECT_NE(k.eval, nullptr);
    EXPECT_TRUE(seen.insert({static_cast<int>(k.op), static_cast<int>(k.dtype)}).second)
        << "registered twice";
  }
  // Every float op has a reference kernel (quantize / dequantize come with the int8 path).
  for (int op = static_cast<int>(OpCode::MIN); op <= static_cast<int>(OpCode::MAX); ++op) {
    if (op == static_cast<int>(OpCode::QUANTIZE) || op == static_cast<int>(OpCode::DEQUANTIZE))
      continue;
    EXPECT_TRUE(seen.count({op, static_cast<int>(DType::FLOAT32)}))
        << OpName(static_cast<OpCode>(op));
  }
  // Data movement serves every dtype.
  for (OpCode op : {OpCode::CONCAT, OpCode::SPLIT, OpCode::RESHAPE, OpCode::TRANSPOSE, OpCode::PAD,
                    OpCode::SLICE})
    for (DType dt : {DType::FLOAT32, DType::INT8, DType::UINT8, DType::INT32, DType::INT64})
      EXPECT_TRUE(seen.count({static_cast<int>(op), static_cast<int>(dt)}))
          << OpName(op) << " " << DTypeName(dt);
}

TEST(ReferenceKernels, FitTheAllOpsResolver) {
  AllOpsResolver resolver;
  ASSERT_EQ(RegisterAllKernels(resolver), Status::kOk);
  // Optimized kernels win where this CPU has their features; without any, the reference ones.
  resolver.set_cpu_features(0);
  const KernelRegistration* conv = resolver.Find(OpCode::CONV_2D, DType::FLOAT32);
  ASSERT_NE(conv, nullptr);
  EXPECT_STREQ(conv->name, "conv2d_f32_ref");
  const KernelRegistration* conv_i8 = resolver.Find(OpCode::CONV_2D, DType::INT8);
  ASSERT_NE(conv_i8, nullptr);
  EXPECT_STREQ(conv_i8->name, "conv2d_i8_ref");
  // INT8 CONCAT requantizes; it replaces the byte-moving kernel of the other dtypes.
  const KernelRegistration* concat_i8 = resolver.Find(OpCode::CONCAT, DType::INT8);
  ASSERT_NE(concat_i8, nullptr);
  EXPECT_EQ(concat_i8, &kernels::kQuantizedConcatI8Ref);
  const KernelRegistration* slice = resolver.Find(OpCode::SLICE, DType::INT64);
  ASSERT_NE(slice, nullptr);
  EXPECT_STREQ(slice->name, "slice_i64_ref");
}

}  // namespace
}  // namespace outpost::testing
