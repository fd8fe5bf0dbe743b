#include "tests/package/retrained_variants.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <set>

#include "compiler/compile.h"
#include "onnx/onnx_pb.h"

namespace outpost::testing {
namespace {

void Perturb(onnx::TensorProto& t, std::mt19937& rng) {
  std::normal_distribution<float> noise(0.0f, 1.0f);
  auto change = [&](float w) { return w + 0.01f * (std::fabs(w) + 1e-3f) * noise(rng); };
  if (t.float_data_size() > 0) {
    for (int i = 0; i < t.float_data_size(); ++i) t.set_float_data(i, change(t.float_data(i)));
    return;
  }
  std::string raw = t.raw_data();
  for (size_t i = 0; i + 4 <= raw.size(); i += 4) {
    float w;
    std::memcpy(&w, raw.data() + i, 4);
    w = change(w);
    std::memcpy(raw.data() + i, &w, 4);
  }
  t.set_raw_data(raw);
}

}  // namespace

const char* RetrainName(Retrain r) { return r == Retrain::kLastLayer ? "last layer" : "full"; }

Expected<size_t> WriteRetrainedOnnx(const std::string& onnx_path, Retrain retrain,
                                    const std::string& out_path, uint32_t seed) {
  onnx::ModelProto model;
  {
    std::ifstream in(onnx_path, std::ios::binary);
    if (!in || !model.ParseFromIstream(&in)) return Error(onnx_path + ": cannot read ONNX");
  }
  onnx::GraphProto& g = *model.mutable_graph();
  std::set<std::string> chosen;
  for (const auto& init : g.initializer())
    if (init.data_type() == onnx::TensorProto::FLOAT) chosen.insert(init.name());
  if (retrain == Retrain::kLastLayer) {
    std::set<std::string> last;
    for (int n = g.node_size() - 1; n >= 0 && last.empty(); --n)
      for (const auto& input : g.node(n).input())
        if (chosen.count(input)) last.insert(input);
    chosen = last;
  }
  std::mt19937 rng(seed);
  size_t changed = 0;
  for (auto& init : *g.mutable_initializer())
    if (chosen.count(init.name())) {
      Perturb(init, rng);
      ++changed;
    }
  std::ofstream out(out_path, std::ios::binary);
  if (!out || !model.SerializeToOstream(&out)) return Error(out_path + ": cannot write ONNX");
  return changed;
}

Expected<std::vector<uint8_t>> CompileForDelta(const std::string& onnx_path) {
  return compiler::CompileOnnxToOpm(onnx_path, compiler::CompileOptions{});
}

}  // namespace outpost::testing
