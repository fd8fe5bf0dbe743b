#include "tests/support/single_op_model.h"

#include <cstdlib>

#include "compiler/emit/opm_file.h"

namespace outpost::testing {
namespace {

size_t Bytes(const Operand& o) {
  size_t n = DTypeSize(o.dtype);
  for (int32_t d : o.shape) n *= static_cast<size_t>(d);
  return n;
}

std::unique_ptr<opm::TensorT> MakeTensor(const Operand& o, const std::string& name) {
  auto t = std::make_unique<opm::TensorT>();
  t->name = name;
  t->dtype = o.dtype;
  t->shape = o.shape;
  if (!o.scale.empty()) {
    t->quantization = std::make_unique<opm::QuantizationT>();
    t->quantization->scale = o.scale;
    t->quantization->zero_point = o.zero_point;
    t->quantization->axis = o.axis;
  }
  return t;
}

}  // namespace

SingleOpModel::SingleOpModel(opm::OpCode op, opm::OpOptionsUnion options,
                             std::vector<Operand> inputs, std::vector<Operand> outputs,
                             bool sparse_storage)
    : inputs_(std::move(inputs)) {
  opm::ModelT m;
  m.name = "single_op";
  std::vector<std::vector<uint8_t>> payloads;
  auto opr = std::make_unique<opm::OperatorT>();
  opr->opcode = op;
  opr->options = std::move(options);
  opr->name = "op0";
  int64_t offset = 0;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Operand& o = inputs_[i];
    if (o.absent()) {
      opr->inputs.push_back(-1);
      continue;
    }
    auto t = MakeTensor(o, "in" + std::to_string(i));
    if (o.constant) {
      t->buffer = static_cast<int32_t>(payloads.size());
      payloads.push_back(o.bytes);
    } else {
      t->arena_offset = offset;
      offset += (Bytes(o) + 63) / 64 * 64;
      m.inputs.push_back(static_cast<int32_t>(m.tensors.size()));
      input_tensor_of_.push_back(static_cast<int>(i));
    }
    opr->inputs.push_back(static_cast<int32_t>(m.tensors.size()));
    m.tensors.push_back(std::move(t));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto t = MakeTensor(outputs[i], "out" + std::to_string(i));
    t->arena_offset = offset;
    offset += (Bytes(outputs[i]) + 63) / 64 * 64;
    opr->outputs.push_back(static_cast<int32_t>(m.tensors.size()));
    m.outputs.push_back(static_cast<int32_t>(m.tensors.size()));
    m.tensors.push_back(std::move(t));
  }
  m.operators.push_back(std::move(opr));
  m.plan = std::make_unique<opm::MemoryPlanT>();
  m.plan->arena_bytes = static_cast<uint64_t>(offset);
  file_ = emit::WriteOpmBytes(std::move(m), payloads, sparse_storage);
  aligned_file_.reset(new uint8_t[file_.size() + 64]);
  uint8_t* p = aligned_file_.get();
  p += (64 - reinterpret_cast<uintptr_t>(p) % 64) % 64;
  std::memcpy(p, file_.data(), file_.size());
  status_ = model_.Load(p, file_.size(), &errors_);
  if (status_ == Status::kOk) status_ = RegisterAllKernels(resolver_);
}

Status SingleOpModel::Run() {
  if (status_ != Status::kOk) return status_;
  ArenaRequirement req;
  status_ = Interpreter::Measure(model_, resolver_, &req, &errors_);
  if (status_ != Status::kOk) return status_;
  arena_storage_.assign(req.total_bytes + 64, 0xA5);  // poison: kernels must write every output
  status_ = interpreter_.Init(model_, resolver_, arena_storage_.data(), arena_storage_.size(),
                              &errors_);
  if (status_ != Status::kOk) return status_;
  for (size_t k = 0; k < input_tensor_of_.size(); ++k) {
    const Operand& o = inputs_[input_tensor_of_[k]];
    std::memcpy(interpreter_.input(static_cast<int>(k)).data, o.bytes.data(), o.bytes.size());
  }
  status_ = interpreter_.Invoke();
  return status_;
}

std::vector<float> SingleOpModel::OutputF32(int i) const {
  auto& self = const_cast<SingleOpModel&>(*this);
  const TensorView& t = self.interpreter_.output(i);
  const float* p = t.as<float>();
  return std::vector<float>(p, p + t.num_elements());
}

std::vector<uint8_t> SingleOpModel::OutputBytes(int i) const {
  auto& self = const_cast<SingleOpModel&>(*this);
  const TensorView& t = self.interpreter_.output(i);
  const uint8_t* p = t.as<uint8_t>();
  return std::vector<uint8_t>(p, p + t.bytes);
}

}  // namespace outpost::testing
