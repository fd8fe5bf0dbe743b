// Sparse constant storage (format 1.5, BufferEncoding SPARSE_BITMAP): the writer stores a
// constant with enough zeros as a bitmap plus its nonzero elements, the reader refuses any
// encoding that does not decode to exactly its tensor, and the interpreter decodes it once at
// Init into the arena, so that a sparse-stored model computes the same bits as a dense one.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "compiler/emit/opm_file.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"

namespace outpost::testing {
namespace {

// A file in 64-byte aligned storage, as the reader wants it.
struct AlignedFile {
  explicit AlignedFile(const std::vector<uint8_t>& bytes) : storage(bytes.size() + 64) {
    data = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
    std::memcpy(data, bytes.data(), bytes.size());
    size = bytes.size();
  }
  std::vector<uint8_t> storage;
  uint8_t* data = nullptr;
  size_t size = 0;
};

// y[1, out] = FC(x[1, in], W[out, in], b[out]) with `sparsity` of W's weights exactly zero.
struct FcModel {
  int out = 63, in = 301;  // n = 18963: the bitmap's last byte is partly used
  std::vector<float> w, b;

  explicit FcModel(double sparsity, uint32_t seed = 7) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    w.resize(static_cast<size_t>(out) * in);
    for (float& v : w) v = u(rng);
    std::vector<size_t> order(w.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t k = 0; k < static_cast<size_t>(sparsity * double(w.size())); ++k) w[order[k]] = 0;
    b.resize(out);
    for (float& v : b) v = u(rng);
  }

  std::vector<uint8_t> Write(bool sparse_storage) const {
    opm::ModelT m;
    auto tensor = [&](const char* name, std::vector<int32_t> shape, int32_t buffer,
                      int64_t offset) {
      auto t = std::make_unique<opm::TensorT>();
      t->name = name;
      t->shape = std::move(shape);
      t->buffer = buffer;
      t->arena_offset = offset;
      m.tensors.push_back(std::move(t));
    };
    tensor("x", {1, in}, -1, 0);
    tensor("w", {out, in}, 0, -1);
    tensor("b", {out}, 1, -1);
    tensor("y", {1, out}, -1, 1280);
    auto op = std::make_unique<opm::OperatorT>();
    op->opcode = opm::OpCode::FULLY_CONNECTED;
    op->options.Set(opm::FullyConnectedOptionsT());
    op->inputs = {0, 1, 2};
    op->outputs = {3};
    m.operators.push_back(std::move(op));
    m.inputs = {0};
    m.outputs = {3};
    m.plan = std::make_unique<opm::MemoryPlanT>();
    m.plan->arena_bytes = 1280 + 256;
    std::vector<uint8_t> wb(w.size() * 4), bb(b.size() * 4);
    std::memcpy(wb.data(), w.data(), wb.size());
    std::memcpy(bb.data(), b.data(), bb.size());
    return emit::WriteOpmBytes(std::move(m), {wb, bb}, sparse_storage);
  }
};

struct RunResult {
  Status status;
  std::string error;
  std::vector<float> y;
  ArenaRequirement need;
};

RunResult RunFile(const std::vector<uint8_t>& bytes) {
  RunResult r;
  AlignedFile f(bytes);
  Model model;
  ErrorReporter err;
  AllOpsResolver resolver;
  r.status = model.Load(f.data, f.size, &err);
  if (r.status == Status::kOk) r.status = RegisterAllKernels(resolver);
  if (r.status == Status::kOk) r.status = Interpreter::Measure(model, resolver, &r.need, &err);
  if (r.status != Status::kOk) {
    r.error = err.message();
    return r;
  }
  std::vector<uint8_t> arena(r.need.total_bytes + 64, 0xA5);
  Interpreter interp;
  r.status = interp.Init(model, resolver, arena.data(), arena.size(), &err);
  if (r.status == Status::kOk) {
    float* x = interp.input(0).as<float>();
    for (int i = 0; i < 301; ++i) x[i] = 0.01f * static_cast<float>(i % 97) - 0.3f;
    r.status = interp.Invoke();
    const float* y = interp.output(0).as<float>();
    r.y.assign(y, y + interp.output(0).num_elements());
  }
  r.error = err.message();
  return r;
}

TEST(SparseBuffer, SparseStorageShrinksTheFileAndComputesTheSameBits) {
  const FcModel fc(0.7);
  const std::vector<uint8_t> dense = fc.Write(false);
  const std::vector<uint8_t> sparse = fc.Write(true);
  // 30% of the values plus a 1-bit-per-weight bitmap instead of all values.
  const size_t weight_bytes = fc.w.size() * 4;
  EXPECT_LT(sparse.size() + weight_bytes / 2, dense.size());

  AlignedFile f(sparse);
  Model model;
  ASSERT_EQ(model.Load(f.data, f.size), Status::kOk);
  EXPECT_TRUE(model.BufferIsSparse(0));
  EXPECT_FALSE(model.BufferIsSparse(1));  // the bias has no zeros: stored as it is
  EXPECT_EQ(model.BufferDenseSize(0), weight_bytes);
  const auto zeros = static_cast<uint64_t>(std::count(fc.w.begin(), fc.w.end(), 0.0f));
  EXPECT_EQ(model.BufferNonzeros(0), fc.w.size() - zeros);
  std::vector<float> decoded(fc.w.size());
  model.DecodeBuffer(0, decoded.data());
  EXPECT_EQ(std::memcmp(decoded.data(), fc.w.data(), weight_bytes), 0);

  const RunResult a = RunFile(dense), b = RunFile(sparse);
  ASSERT_EQ(a.status, Status::kOk) << a.error;
  ASSERT_EQ(b.status, Status::kOk) << b.error;
  ASSERT_EQ(a.y.size(), 63u);
  EXPECT_EQ(std::memcmp(a.y.data(), b.y.data(), a.y.size() * 4), 0);
  // The decoded weights take arena memory, 64-byte aligned.
  EXPECT_EQ(a.need.decoded_bytes, 0u);
  EXPECT_EQ(b.need.decoded_bytes, (weight_bytes + 63) / 64 * 64);
  EXPECT_EQ(b.need.total_bytes, a.need.total_bytes + b.need.decoded_bytes);
}

TEST(SparseBuffer, FewZerosStayDense) {
  const FcModel fc(0.2);  // an fp32 bitmap encoding would be ~83% of the bytes: not worth it
  AlignedFile f(fc.Write(true));
  Model model;
  ASSERT_EQ(model.Load(f.data, f.size), Status::kOk);
  EXPECT_FALSE(model.BufferIsSparse(0));
}

TEST(SparseBuffer, DecodesEveryElementSize) {
  for (const opm::DType dt : {opm::DType::INT8, opm::DType::FLOAT16, opm::DType::FLOAT32,
                              opm::DType::INT64}) {
    const size_t elem = DTypeSize(dt);
    const size_t n = 1001;
    std::vector<uint8_t> data(n * elem, 0);
    for (size_t i = 0; i < n; i += 5) data[i * elem + (i % elem)] = static_cast<uint8_t>(i | 1);
    opm::ModelT m;
    auto c = std::make_unique<opm::TensorT>();
    c->name = "c";
    c->dtype = dt;
    c->shape = {static_cast<int32_t>(n)};
    c->buffer = 0;
    m.tensors.push_back(std::move(c));
    auto y = std::make_unique<opm::TensorT>();
    y->name = "y";
    y->shape = {1};
    y->arena_offset = 0;
    m.tensors.push_back(std::move(y));
    m.outputs = {1};
    m.plan = std::make_unique<opm::MemoryPlanT>();
    m.plan->arena_bytes = 64;
    AlignedFile f(emit::WriteOpmBytes(std::move(m), {data}));
    Model model;
    ErrorReporter err;
    ASSERT_EQ(model.Load(f.data, f.size, &err), Status::kOk) << err.message();
    ASSERT_TRUE(model.BufferIsSparse(0)) << DTypeName(dt);
    EXPECT_EQ(model.BufferNonzeros(0), (n + 4) / 5);
    std::vector<uint8_t> back(n * elem);
    model.DecodeBuffer(0, back.data());
    EXPECT_EQ(back, data) << DTypeName(dt);
  }
}

// The stored weight buffer of a sparse file: its bitmap starts at the buffer's offset.
size_t WeightOffset(const std::vector<uint8_t>& bytes) {
  AlignedFile f(bytes);
  Model model;
  EXPECT_EQ(model.Load(f.data, f.size), Status::kOk);
  return static_cast<size_t>(model.BufferData(0) - model.bytes());
}

TEST(SparseBuffer, TamperedBitmapIsRefusedWithOneClearError) {
  const std::vector<uint8_t> good = FcModel(0.7).Write(true);
  const size_t bitmap = WeightOffset(good);
  const size_t last = bitmap + (63 * 301 - 1) / 8;  // element 18962 is bit 2 of this byte

  std::vector<uint8_t> flipped = good;
  flipped[bitmap + 5] ^= 0x10;  // one more or one fewer nonzero than the values stored
  RunResult r = RunFile(flipped);
  EXPECT_EQ(r.status, Status::kCorruptModel);
  EXPECT_NE(r.error.find("bitmap marks"), std::string::npos) << r.error;

  std::vector<uint8_t> past_end = good;
  past_end[last] |= 0x80;  // an element after the last one
  r = RunFile(past_end);
  EXPECT_EQ(r.status, Status::kCorruptModel);
  EXPECT_NE(r.error.find("past the end"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace outpost::testing
