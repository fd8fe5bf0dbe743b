#include "compiler/emit/opm_reader.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "common/expected.h"
#include "runtime/model.h"

namespace outpost::emit {
namespace {

// The plain data of buffer `index`, decoded when it is stored sparse.
std::vector<uint8_t> BufferBytes(const Model& model, int index) {
  std::vector<uint8_t> out(static_cast<size_t>(model.BufferDenseSize(index)));
  if (!out.empty()) model.DecodeBuffer(index, out.data());
  return out;
}

}  // namespace

ir::Graph ReadOpmGraph(const std::vector<uint8_t>& bytes) {
  // The reader wants the file 16-byte aligned, as an mmap or a device's flash image is; copy
  // into storage that is, whatever allocator made `bytes`.
  const size_t padded = (bytes.size() + kConstantAlignment - 1) / kConstantAlignment * kConstantAlignment;
  std::unique_ptr<uint8_t, decltype(&std::free)> aligned(
      static_cast<uint8_t*>(std::aligned_alloc(kConstantAlignment, padded > 0 ? padded : kConstantAlignment)),
      &std::free);
  if (!aligned) throw Error("out of memory reading a .opm model");
  if (!bytes.empty()) std::memcpy(aligned.get(), bytes.data(), bytes.size());
  Model model;
  ErrorReporter errors;
  if (model.Load(aligned.get(), bytes.size(), &errors) != Status::kOk)
    throw Error(std::string("not a valid .opm model: ") + errors.message());
  return ReadOpmGraph(model);
}

ir::Graph ReadOpmGraph(const Model& model) {
  std::unique_ptr<opm::ModelT> m(model.fb()->UnPack());

  ir::Graph g;
  g.info.name = m->name;
  g.info.producer = m->producer;
  g.info.task = m->task;
  g.info.labels = m->labels;
  for (const auto& kv : m->metadata) g.info.metadata[kv->key] = kv->value;
  for (const auto& s : m->input_specs) {
    ir::InputSpec spec;
    spec.tensor = s->tensor;
    spec.layout = s->layout;
    spec.color = s->color;
    spec.value_scale = s->value_scale;
    spec.mean = s->mean;
    spec.std = s->std;
    g.info.input_specs.push_back(std::move(spec));
  }
  for (const auto& ft : m->tensors) {
    ir::Tensor t;
    t.name = ft->name;
    t.dtype = ft->dtype;
    t.shape.assign(ft->shape.begin(), ft->shape.end());
    if (ft->quantization) {
      t.quant.scale = ft->quantization->scale;
      t.quant.zero_point = ft->quantization->zero_point;
      // The IR keeps one zero point per scale; the file may share one across channels.
      if (t.quant.zero_point.size() == 1 && t.quant.scale.size() > 1)
        t.quant.zero_point.assign(t.quant.scale.size(), int64_t{t.quant.zero_point[0]});
      t.quant.axis = ft->quantization->axis;
    }
    if (ft->buffer >= 0) {
      t.constant = true;
      t.data = BufferBytes(model, ft->buffer);
    } else {
      t.arena_offset = ft->arena_offset;
    }
    g.tensors.push_back(std::move(t));
  }
  for (const auto& op : m->operators) {
    ir::Node n;
    n.op = op->opcode;
    n.name = op->name;
    n.inputs.assign(op->inputs.begin(), op->inputs.end());
    n.outputs.assign(op->outputs.begin(), op->outputs.end());
    n.options = op->options;
    g.nodes.push_back(std::move(n));
  }
  g.inputs.assign(m->inputs.begin(), m->inputs.end());
  g.outputs.assign(m->outputs.begin(), m->outputs.end());
  if (m->plan) {
    ir::MemoryPlan plan;
    plan.arena_bytes = m->plan->arena_bytes;
    plan.lower_bound_bytes = m->plan->lower_bound_bytes;
    plan.alignment = m->plan->alignment;
    g.plan = plan;
  }
  if (m->self_test) {
    ir::SelfTest st;
    for (int32_t b : m->self_test->inputs) st.inputs.push_back(BufferBytes(model, b));
    for (int32_t b : m->self_test->outputs) st.outputs.push_back(BufferBytes(model, b));
    st.atol = m->self_test->atol;
    st.rtol = m->self_test->rtol;
    g.self_test = std::move(st);
  }
  g.Validate();
  return g;
}

}  // namespace outpost::emit
