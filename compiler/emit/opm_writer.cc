#include "compiler/emit/opm_writer.h"

#include "compiler/emit/opm_file.h"

#include <algorithm>

namespace outpost::emit {
namespace {

std::vector<int32_t> ToInt32(const std::vector<int64_t>& v, const std::string& what) {
  std::vector<int32_t> out;
  out.reserve(v.size());
  for (int64_t x : v) {
    if (x < INT32_MIN || x > INT32_MAX) throw Error(what + ": dimension out of 32-bit range");
    out.push_back(static_cast<int32_t>(x));
  }
  return out;
}

}  // namespace

std::vector<uint8_t> EmitOpm(const ir::Graph& g) {
  g.Validate();
  if (!g.plan) throw Error("emit: graph has no memory plan");
  opm::ModelT m;
  m.name = g.info.name;
  m.producer = g.info.producer;
  std::vector<std::vector<uint8_t>> payloads;

  for (const ir::Tensor& t : g.tensors) {
    auto ft = std::make_unique<opm::TensorT>();
    ft->name = t.name;
    ft->dtype = t.dtype;
    ft->shape = ToInt32(t.shape, "tensor '" + t.name + "'");
    if (t.quant.present()) {
      ft->quantization = std::make_unique<opm::QuantizationT>();
      ft->quantization->scale = t.quant.scale;
      ft->quantization->zero_point = t.quant.zero_point;
      // One zero point serves every channel when they are all equal (symmetric weights): the
      // format allows it since 1.3, and it saves 8 bytes per output channel.
      auto& zp = ft->quantization->zero_point;
      if (zp.size() > 1 && std::all_of(zp.begin(), zp.end(), [&](int64_t z) { return z == zp[0]; }))
        zp.erase(zp.begin() + 1, zp.end());
      ft->quantization->axis = t.quant.axis;
    }
    if (t.constant) {
      ft->buffer = static_cast<int32_t>(payloads.size());
      payloads.push_back(t.data);
    } else {
      if (t.arena_offset < 0) throw Error("emit: tensor '" + t.name + "' was not planned");
      ft->arena_offset = t.arena_offset;
    }
    m.tensors.push_back(std::move(ft));
  }
  for (const ir::Node& n : g.nodes) {
    auto op = std::make_unique<opm::OperatorT>();
    op->opcode = n.op;
    op->name = n.name;
    op->inputs.assign(n.inputs.begin(), n.inputs.end());
    op->outputs.assign(n.outputs.begin(), n.outputs.end());
    op->options = n.options;
    m.operators.push_back(std::move(op));
  }
  m.inputs.assign(g.inputs.begin(), g.inputs.end());
  m.outputs.assign(g.outputs.begin(), g.outputs.end());
  for (const ir::InputSpec& s : g.info.input_specs) {
    auto spec = std::make_unique<opm::InputSpecT>();
    spec->tensor = s.tensor;
    spec->layout = s.layout;
    spec->color = s.color;
    spec->value_scale = s.value_scale;
    spec->mean = s.mean;
    spec->std = s.std;
    m.input_specs.push_back(std::move(spec));
  }
  m.task = g.info.task;
  m.labels = g.info.labels;
  m.plan = std::make_unique<opm::MemoryPlanT>();
  m.plan->arena_bytes = g.plan->arena_bytes;
  m.plan->lower_bound_bytes = g.plan->lower_bound_bytes;
  m.plan->alignment = g.plan->alignment;
  m.macs = g.CountMacs();
  for (const auto& [k, v] : g.info.metadata) {
    auto kv = std::make_unique<opm::KeyValueT>();
    kv->key = k;
    kv->value = v;
    m.metadata.push_back(std::move(kv));
  }
  if (g.self_test) {
    const ir::SelfTest& st = *g.self_test;
    if (st.inputs.size() != g.inputs.size() || st.outputs.size() != g.outputs.size())
      throw Error("emit: self-test does not match the graph's inputs and outputs");
    m.self_test = std::make_unique<opm::SelfTestT>();
    for (const auto& data : st.inputs) {
      m.self_test->inputs.push_back(static_cast<int32_t>(payloads.size()));
      payloads.push_back(data);
    }
    for (const auto& data : st.outputs) {
      m.self_test->outputs.push_back(static_cast<int32_t>(payloads.size()));
      payloads.push_back(data);
    }
    m.self_test->atol = st.atol;
    m.self_test->rtol = st.rtol;
  }
  return WriteOpmBytes(std::move(m), payloads);
}

}  // namespace outpost::emit
