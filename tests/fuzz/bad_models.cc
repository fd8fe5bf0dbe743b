#include "tests/fuzz/bad_models.h"

#include <cstring>
#include <functional>

#include "compiler/emit/opm_file.h"
#include "compiler/emit/opm_writer.h"
#include "compiler/plan/memory_planner.h"
#include "runtime/model.h"
#include "tests/optimizer/graph_builder.h"

namespace outpost::fuzz {
namespace {

using opm::OpCode;
using testing::GraphBuilder;

ir::Graph ValidGraph() {
  GraphBuilder b;
  const int x = b.Input("x", {1, 3, 8, 8});
  const int w = b.RandomConst("w", {4, 3, 3, 3}, 1);
  const int bias = b.RandomConst("b", {4}, 2);
  const int c = b.Node(OpCode::CONV_2D, {x, w, bias}, {1, 4, 8, 8}, testing::ConvOpts(1, 1));
  const int r = b.Node(OpCode::RELU, {c}, {1, 4, 8, 8});
  const int f = b.Node(OpCode::RESHAPE, {r}, {1, 256});
  const int fw = b.RandomConst("fw", {10, 256}, 3);
  opm::OpOptionsUnion fc;
  fc.Set(opm::FullyConnectedOptionsT());
  const int y = b.Node(OpCode::FULLY_CONNECTED, {f, fw, -1}, {1, 10}, fc);
  opm::OpOptionsUnion sm;
  sm.Set(opm::SoftmaxOptionsT());
  const int p = b.Node(OpCode::SOFTMAX, {y}, {1, 10}, sm);
  b.Output(p);
  plan::PlanMemory(b.g);
  return b.g;
}

// Rebuilds a file after `edit` changes its object form (offsets and hashes are recomputed, so
// each corruption is exactly the one intended).
std::vector<uint8_t> Edit(const std::vector<uint8_t>& file,
                          const std::function<void(opm::ModelT&, std::vector<std::vector<uint8_t>>&)>& edit) {
  FileHeader h;
  std::memcpy(&h, file.data(), sizeof(h));
  auto m = opm::UnPackModel(file.data() + h.flatbuffer_offset);
  std::vector<std::vector<uint8_t>> payloads;
  for (const auto& b : m->buffers)
    payloads.emplace_back(file.begin() + b->offset, file.begin() + b->offset + b->size);
  edit(*m, payloads);
  return emit::WriteOpmBytes(std::move(*m), payloads);
}

template <typename T>
void Poke(std::vector<uint8_t>& f, size_t offset, T value) {
  std::memcpy(f.data() + offset, &value, sizeof(T));
}

}  // namespace

std::vector<uint8_t> MakeValidModel() { return emit::EmitOpm(ValidGraph()); }

std::vector<std::pair<std::string, std::vector<uint8_t>>> MakeBadModels() {
  const std::vector<uint8_t> good = MakeValidModel();
  std::vector<std::pair<std::string, std::vector<uint8_t>>> bad;
  auto add = [&](const std::string& name, std::vector<uint8_t> bytes) {
    bad.emplace_back(name, std::move(bytes));
  };
  auto edited = [&](const std::string& name,
                    const std::function<void(opm::ModelT&, std::vector<std::vector<uint8_t>>&)>& e) {
    add(name, Edit(good, e));
  };

  add("empty", {});
  add("header_only", std::vector<uint8_t>(good.begin(), good.begin() + 64));
  add("truncated_half", std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2));
  add("truncated_last_byte", std::vector<uint8_t>(good.begin(), good.end() - 1));
  {
    auto f = good;
    f[0] = 'X';
    add("bad_magic", f);
  }
  {
    auto f = good;
    Poke<uint16_t>(f, offsetof(FileHeader, format_major), 2);
    add("future_major_version", f);
  }
  {
    auto f = good;
    Poke<uint64_t>(f, offsetof(FileHeader, flatbuffer_size), uint64_t{1} << 40);
    add("graph_section_past_end", f);
  }
  {
    auto f = good;
    Poke<uint64_t>(f, offsetof(FileHeader, data_offset), 65);
    add("data_section_misaligned", f);
  }
  {
    auto f = good;
    FileHeader h;
    std::memcpy(&h, f.data(), sizeof(h));
    for (size_t i = 0; i < h.flatbuffer_size; i += 7) f[h.flatbuffer_offset + i] ^= 0x5a;
    add("graph_section_scrambled", f);
  }
  {
    auto f = good;
    f.resize(f.size() + 100, 0);
    add("trailing_garbage", f);
  }
  edited("tensor_outside_arena", [](opm::ModelT& m, auto&) {
    m.tensors[m.outputs[0]]->arena_offset = static_cast<int64_t>(m.plan->arena_bytes);
  });
  edited("negative_arena_offset", [](opm::ModelT& m, auto&) {
    m.tensors[m.inputs[0]]->arena_offset = -64;
  });
  edited("huge_dimension", [](opm::ModelT& m, auto&) {
    m.tensors[m.inputs[0]]->shape = {1, 3, 1 << 30, 1 << 30};
  });
  edited("zero_dimension", [](opm::ModelT& m, auto&) { m.tensors[m.inputs[0]]->shape = {1, 0, 8, 8}; });
  edited("rank_seven", [](opm::ModelT& m, auto&) {
    m.tensors[m.inputs[0]]->shape = {1, 1, 1, 1, 3, 8, 8};
  });
  edited("unknown_dtype", [](opm::ModelT& m, auto&) {
    m.tensors[m.inputs[0]]->dtype = static_cast<opm::DType>(42);
  });
  edited("constant_size_mismatch", [](opm::ModelT&, auto& payloads) { payloads[0].resize(4); });
  edited("buffer_index_out_of_range", [](opm::ModelT& m, auto&) {
    for (auto& t : m.tensors)
      if (t->buffer >= 0) t->buffer = 1000;
  });
  edited("operator_reads_missing_tensor", [](opm::ModelT& m, auto&) {
    m.operators[0]->inputs[0] = 9999;
  });
  edited("operator_writes_constant", [](opm::ModelT& m, auto&) {
    m.operators[0]->outputs[0] = m.operators[0]->inputs[1];
  });
  edited("unknown_opcode", [](opm::ModelT& m, auto&) {
    m.operators[0]->opcode = static_cast<opm::OpCode>(999);
  });
  edited("conv_without_options", [](opm::ModelT& m, auto&) { m.operators[0]->options.Reset(); });
  {
    // The union's type says Conv2DOptions but the table itself is absent: the object API cannot
    // write this, so the operator's vtable entry for the table is zeroed in the bytes.
    auto f = good;
    FileHeader h;
    std::memcpy(&h, f.data(), sizeof(h));
    const auto* op = opm::GetModel(f.data() + h.flatbuffer_offset)->operators()->Get(0);
    const auto* table = reinterpret_cast<const uint8_t*>(op);
    int32_t to_vtable;
    std::memcpy(&to_vtable, table, sizeof(to_vtable));
    const size_t vtable = static_cast<size_t>(table - f.data()) - static_cast<size_t>(to_vtable);
    Poke<uint16_t>(f, vtable + opm::Operator::VT_OPTIONS, 0);
    add("conv_options_type_without_table", f);
  }
  edited("conv_weight_shape_mismatch", [](opm::ModelT& m, auto& payloads) {
    // Consistent file, inconsistent op: weights claim 5 input channels for a 3-channel input.
    const int w = m.operators[0]->inputs[1];
    m.tensors[w]->shape = {4, 5, 3, 3};
    payloads[m.tensors[w]->buffer].resize(4 * 5 * 3 * 3 * 4);
  });
  edited("conv_output_shape_mismatch", [](opm::ModelT& m, auto&) {
    m.tensors[m.operators[0]->outputs[0]]->shape = {1, 4, 9, 9};
  });
  edited("conv_zero_stride", [](opm::ModelT& m, auto&) {
    m.operators[0]->options.AsConv2DOptions()->stride_h = 0;
  });
  edited("conv_negative_padding", [](opm::ModelT& m, auto&) {
    m.operators[0]->options.AsConv2DOptions()->pad_top = -5;
  });
  edited("conv_groups_do_not_divide", [](opm::ModelT& m, auto&) {
    m.operators[0]->options.AsConv2DOptions()->groups = 2;
  });
  edited("reshape_element_count_mismatch", [](opm::ModelT& m, auto&) {
    m.tensors[m.operators[2]->outputs[0]]->shape = {1, 255};
  });
  edited("fc_weights_wrong_width", [](opm::ModelT& m, auto& payloads) {
    const int w = m.operators[3]->inputs[1];
    m.tensors[w]->shape = {10, 128};
    payloads[m.tensors[w]->buffer].resize(10 * 128 * 4);
  });
  edited("softmax_axis_out_of_range", [](opm::ModelT& m, auto&) {
    m.operators[4]->options.AsSoftmaxOptions()->axis = 7;
  });
  edited("softmax_dtype_int8", [](opm::ModelT& m, auto&) {
    m.tensors[m.operators[4]->inputs[0]]->dtype = opm::DType::INT8;
  });
  edited("quantization_count_mismatch", [](opm::ModelT& m, auto&) {
    auto q = std::make_unique<opm::QuantizationT>();
    q->scale = {0.1f, 0.2f};
    q->zero_point = {0};
    q->axis = 0;
    m.tensors[m.inputs[0]]->quantization = std::move(q);
  });
  edited("self_test_wrong_size", [](opm::ModelT& m, auto& payloads) {
    m.self_test = std::make_unique<opm::SelfTestT>();
    m.self_test->inputs = {static_cast<int32_t>(payloads.size())};
    m.self_test->outputs = {static_cast<int32_t>(payloads.size())};
    payloads.push_back(std::vector<uint8_t>(3));
  });
  edited("no_memory_plan", [](opm::ModelT& m, auto&) { m.plan.reset(); });
  // Cached packed weights (1.4) naming a buffer that does not exist, or without a layout.
  edited("packed_weights_bad_buffer", [](opm::ModelT& m, auto& payloads) {
    auto pw = std::make_unique<opm::PackedWeightsT>();
    pw->layout = "f32-conv-panels/avx2/mr6/kc256/v1";
    pw->buffer = static_cast<int32_t>(payloads.size()) + 5;
    m.operators[0]->packed.push_back(std::move(pw));
  });
  edited("packed_weights_without_layout", [](opm::ModelT& m, auto& payloads) {
    auto pw = std::make_unique<opm::PackedWeightsT>();
    pw->buffer = static_cast<int32_t>(payloads.size());
    payloads.push_back(std::vector<uint8_t>(64));
    m.operators[0]->packed.push_back(std::move(pw));
  });
  edited("no_outputs", [](opm::ModelT& m, auto&) { m.outputs.clear(); });
  return bad;
}

}  // namespace outpost::fuzz
