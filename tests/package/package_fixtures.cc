#include "tests/package/package_fixtures.h"

#include <array>
#include <cstring>

#include "compiler/emit/opm_file.h"
#include "opm_generated.h"

namespace outpost::testing {

package::KeyPair TestSigningPair(uint8_t seed) {
  std::array<uint8_t, 32> s;
  s.fill(seed);
  return package::SigningKeyPairFromSeed(s);
}

std::vector<uint8_t> BigAddModelOpm(size_t bytes) {
  const int32_t n = static_cast<int32_t>(bytes / 4);
  const int64_t tensor_bytes = (static_cast<int64_t>(n) * 4 + 63) / 64 * 64;
  opm::ModelT m;
  m.name = "big_add";
  m.producer = "outpost tests";
  auto tensor = [](const char* name, int32_t n, int32_t buffer, int64_t arena_offset) {
    auto t = std::make_unique<opm::TensorT>();
    t->name = name;
    t->shape = {1, n};
    t->buffer = buffer;
    t->arena_offset = arena_offset;
    return t;
  };
  m.tensors.push_back(tensor("x", n, -1, 0));
  m.tensors.push_back(tensor("bias", n, 0, -1));
  m.tensors.push_back(tensor("y", n, -1, tensor_bytes));
  auto add = std::make_unique<opm::OperatorT>();
  add->opcode = opm::OpCode::ADD;
  add->inputs = {0, 1};
  add->outputs = {2};
  add->options.Set(opm::BinaryOptionsT());
  m.operators.push_back(std::move(add));
  m.inputs = {0};
  m.outputs = {2};
  m.plan = std::make_unique<opm::MemoryPlanT>();
  m.plan->arena_bytes = 2 * tensor_bytes;
  m.plan->lower_bound_bytes = 2 * tensor_bytes;
  m.macs = static_cast<uint64_t>(n);
  std::vector<uint8_t> bias(static_cast<size_t>(n) * 4);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  return emit::WriteOpmBytes(std::move(m), {bias});
}

}  // namespace outpost::testing
