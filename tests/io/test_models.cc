#include "tests/io/test_models.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include "compiler/emit/opm_file.h"
#include "opm_generated.h"

namespace outpost::testing {
namespace {

std::vector<uint8_t> FloatBytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::unique_ptr<opm::TensorT> Tensor(const std::string& name, std::vector<int32_t> shape,
                                     int32_t buffer, int64_t arena_offset) {
  auto t = std::make_unique<opm::TensorT>();
  t->name = name;
  t->shape = std::move(shape);
  t->buffer = buffer;
  t->arena_offset = arena_offset;
  return t;
}

}  // namespace

std::vector<uint8_t> TinyClassifierOpm(const TinyModelOptions& o) {
  opm::ModelT m;
  m.name = "tiny_classifier";
  m.producer = "outpost tests";
  const int n = o.features;
  if (n < 1 || n > 16) throw std::invalid_argument("TinyClassifierOpm: features must be 1..16");
  std::vector<float> bias(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) bias[static_cast<size_t>(i)] = kTinyBias[i % 4];
  std::vector<std::vector<uint8_t>> payloads;
  payloads.push_back(FloatBytes(bias));
  m.tensors.push_back(Tensor("x", {1, n}, -1, 0));
  m.tensors.push_back(Tensor("bias", {n}, 0, -1));
  m.tensors.push_back(Tensor("scores", {1, n}, -1, 64));
  auto add = std::make_unique<opm::OperatorT>();
  add->opcode = opm::OpCode::ADD;
  add->name = "add_bias";
  add->inputs = {0, 1};
  add->outputs = {2};
  add->options.Set(opm::BinaryOptionsT());
  m.operators.push_back(std::move(add));
  m.inputs = {0};
  m.outputs = {2};
  m.task = opm::Task::CLASSIFICATION;
  if (o.labels && n == 4) m.labels = {"cat", "dog", "bird", "fish"};
  m.plan = std::make_unique<opm::MemoryPlanT>();
  m.plan->arena_bytes = 128;
  m.plan->lower_bound_bytes = 32;
  m.macs = 0;
  if (o.self_test) {
    std::vector<float> in(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) in[static_cast<size_t>(i)] = static_cast<float>(i + 1);
    std::vector<float> out(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) out[static_cast<size_t>(i)] = in[static_cast<size_t>(i)] + bias[static_cast<size_t>(i)];
    if (o.wrong_golden_output) out[n > 2 ? 2 : 0] += 1.0f;
    payloads.push_back(FloatBytes(in));
    payloads.push_back(FloatBytes(out));
    m.self_test = std::make_unique<opm::SelfTestT>();
    m.self_test->inputs = {1};
    m.self_test->outputs = {2};
    m.self_test->atol = 1e-6f;
    m.self_test->rtol = 1e-5f;
  }
  if (!o.reference_json.empty()) {
    auto kv = std::make_unique<opm::KeyValueT>();
    kv->key = "outpost.reference";
    kv->value = o.reference_json;
    m.metadata.push_back(std::move(kv));
  }
  return emit::WriteOpmBytes(std::move(m), payloads);
}

std::vector<uint8_t> TinyImageOpm() {
  opm::ModelT m;
  m.name = "tiny_image";
  m.producer = "outpost tests";
  m.tensors.push_back(Tensor("image", {1, 1, 4, 4}, -1, 0));
  m.tensors.push_back(Tensor("y", {1, 1, 4, 4}, -1, 64));
  auto relu = std::make_unique<opm::OperatorT>();
  relu->opcode = opm::OpCode::RELU;
  relu->name = "relu";
  relu->inputs = {0};
  relu->outputs = {1};
  m.operators.push_back(std::move(relu));
  m.inputs = {0};
  m.outputs = {1};
  auto spec = std::make_unique<opm::InputSpecT>();
  spec->tensor = 0;
  spec->layout = opm::Layout::NCHW;
  spec->color = opm::ColorFormat::GRAY;
  spec->value_scale = 1.0f / 255.0f;
  spec->mean = {0.5f};
  spec->std = {0.25f};
  m.input_specs.push_back(std::move(spec));
  m.plan = std::make_unique<opm::MemoryPlanT>();
  m.plan->arena_bytes = 128;
  m.plan->lower_bound_bytes = 128;
  return emit::WriteOpmBytes(std::move(m), {});
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string MakeTempDir(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("outpost_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace outpost::testing
