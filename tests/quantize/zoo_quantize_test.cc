// End to end on the committed Fashion-MNIST zoo models: compile, calibrate on training images,
// quantize, plan, self-test, emit; the int8 model runs in the runtime, agrees with the float
// model on test images, and its file is several times smaller. (The full 10,000-image accuracy
// comparison is the slow test quantize_accuracy_tests.)
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "compiler/compile.h"
#include "compiler/emit/opm_writer.h"
#include "compiler/plan/memory_planner.h"
#include "compiler/quantize/dataset.h"
#include "compiler/quantize/finalize.h"
#include "compiler/quantize/opm_graph.h"
#include "io/classification.h"
#include "io/model_file.h"
#include "io/session.h"
#include "runtime/cpu_features.h"

namespace outpost::quant {
namespace {

const std::string kData = "/usr/share/datasets/fashion-mnist";
constexpr int kCalibSamples = 300;
constexpr int kTestSamples = 200;

struct Zoo {
  ir::Graph float_graph;
  std::vector<uint8_t> float_opm;
  CalibrationResult stats;
  Dataset calib;
  Dataset test;
};

class ZooQuantize : public ::testing::TestWithParam<std::string> {
 protected:
  static Zoo& Load(const std::string& name) {
    static std::map<std::string, Zoo> cache;
    auto it = cache.find(name);
    if (it != cache.end()) return it->second;
    Zoo z;
    compiler::CompileOptions co;
    const std::string onnx =
        std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/" + name + "/model.onnx";
    z.float_graph = compiler::CompileOnnx(onnx, co).value();
    z.float_opm = emit::EmitOpm(z.float_graph);
    z.float_graph.plan.reset();
    z.float_graph.self_test.reset();
    DatasetOptions limit;
    limit.limit = kCalibSamples;
    z.calib =
        LoadDataset({kData + "/train-images-idx3-ubyte.gz", ""}, z.float_graph, limit).value();
    limit.limit = kTestSamples;
    z.test =
        LoadDataset({kData + "/t10k-images-idx3-ubyte.gz", kData + "/t10k-labels-idx1-ubyte.gz"},
                    z.float_graph, limit)
            .value();
    z.stats = Calibrate(z.float_graph, z.calib).value();
    return cache.emplace(name, std::move(z)).first->second;
  }

  void SetUp() override {
    if (!std::filesystem::exists(kData + "/t10k-images-idx3-ubyte.gz"))
      GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)";
  }

  // Plans, self-tests and emits `g`, loads it back and returns the predicted class of every
  // test sample.
  static std::vector<int> Predict(ir::Graph g, const Zoo& z, std::vector<uint8_t>* bytes) {
    Expected<Unit> fin = PlanAndSelfTest(g, &z.calib.samples[0]);
    if (!fin.ok()) throw Error(fin.message());
    *bytes = emit::EmitOpm(g);
    io::LoadedModel m = io::LoadedModel::FromBytes("model", *bytes).value();
    std::unique_ptr<io::Session> s = io::Session::Create(m).value();
    Expected<Unit> st = s->RunSelfTest();
    if (!st.ok()) throw Error(st.message());
    std::vector<int> out;
    for (const auto& sample : z.test.samples) {
      if (!s->SetInputFromFloat(0, sample).ok() || !s->Run().ok()) throw Error("run failed");
      out.push_back(io::ArgMax(s->OutputAsFloat(0)));
    }
    return out;
  }

  static int Agreement(const std::vector<int>& a, const std::vector<int>& b) {
    int n = 0;
    for (size_t i = 0; i < a.size(); ++i) n += a[i] == b[i];
    return n;
  }
};

TEST_P(ZooQuantize, Int8AgreesWithFloatAndIsSmaller) {
  const Zoo& z = Load(GetParam());
  std::vector<uint8_t> fbytes, qbytes;
  const std::vector<int> f = Predict(z.float_graph, z, &fbytes);
  QuantizeReport report;
  Expected<ir::Graph> q = QuantizeGraph(z.float_graph, z.stats, {}, &report);
  ASSERT_TRUE(q.ok()) << q.message();
  for (const LayerReport& l : report.layers)
    EXPECT_TRUE(l.quantized) << l.node << ": " << l.why_float;
  const std::vector<int> p = Predict(q.value(), z, &qbytes);
  const int agree = Agreement(f, p);
  std::printf("%s: int8 agrees with float on %d/%d test images; .opm %zu -> %zu bytes (%.2fx)\n",
              GetParam().c_str(), agree, kTestSamples, z.float_opm.size(), qbytes.size(),
              static_cast<double>(z.float_opm.size()) / static_cast<double>(qbytes.size()));
  EXPECT_GE(agree, kTestSamples * 97 / 100);
  EXPECT_GT(static_cast<double>(report.float_weight_bytes) / report.weight_bytes, 3.6);
  // The CNN's file is dominated by weights; the small MobileNet's carries per-channel scales
  // and the graph description, which int8 does not shrink (docs/quantization.md).
  const double min_ratio = GetParam() == "fashion_cnn" ? 3.8 : 2.3;
  EXPECT_GE(static_cast<double>(z.float_opm.size()) / qbytes.size(), min_ratio);
}

TEST_P(ZooQuantize, WeightOnlyModesAgreeWithFloat) {
  const Zoo& z = Load(GetParam());
  std::vector<uint8_t> fbytes, bytes;
  const std::vector<int> f = Predict(z.float_graph, z, &fbytes);
  for (WeightOnly mode : {WeightOnly::kFloat16, WeightOnly::kInt8}) {
    QuantizeOptions o;
    o.weight_only = mode;
    Expected<ir::Graph> q = QuantizeGraph(z.float_graph, {}, o);
    ASSERT_TRUE(q.ok()) << q.message();
    const int agree = Agreement(f, Predict(q.value(), z, &bytes));
    const bool fp16 = mode == WeightOnly::kFloat16;
    const double ratio = static_cast<double>(fbytes.size()) / static_cast<double>(bytes.size());
    std::printf("%s: weight-only %s agrees with float on %d/%d; .opm %.2fx smaller\n",
                GetParam().c_str(), fp16 ? "fp16" : "int8", agree, kTestSamples, ratio);
    EXPECT_GE(agree, fp16 ? kTestSamples : kTestSamples * 98 / 100) << (fp16 ? "fp16" : "int8");
    // The graph description and (int8) per-channel scales do not shrink: the CNN, mostly
    // weights, comes close to 2x and 4x; the small MobileNet less so.
    const bool cnn = GetParam() == "fashion_cnn";
    EXPECT_GE(ratio, fp16 ? (cnn ? 1.95 : 1.7) : (cnn ? 3.8 : 2.3));
  }
}

TEST_P(ZooQuantize, CalibrationCoversEveryActivation) {
  const Zoo& z = Load(GetParam());
  for (const ir::Node& n : z.float_graph.nodes)
    for (int o : n.outputs)
      EXPECT_TRUE(z.stats.tensors.count(z.float_graph.tensors[o].name)) << n.name;
  EXPECT_EQ(z.stats.samples, kCalibSamples);
  EXPECT_TRUE(z.stats.warnings.empty());
}

TEST_P(ZooQuantize, FloatOpmGivesBackTheGraph) {
  const Zoo& z = Load(GetParam());
  Expected<ir::Graph> g = GraphFromOpm(z.float_opm, "float.opm");
  ASSERT_TRUE(g.ok()) << g.message();
  ASSERT_EQ(g->tensors.size(), z.float_graph.tensors.size());
  ASSERT_EQ(g->nodes.size(), z.float_graph.nodes.size());
  for (size_t i = 0; i < g->tensors.size(); ++i) {
    EXPECT_EQ(g->tensors[i].name, z.float_graph.tensors[i].name);
    EXPECT_EQ(g->tensors[i].data, z.float_graph.tensors[i].data);
  }
  for (size_t i = 0; i < g->nodes.size(); ++i) {
    EXPECT_EQ(g->nodes[i].name, z.float_graph.nodes[i].name);
    EXPECT_EQ(g->nodes[i].inputs, z.float_graph.nodes[i].inputs);
  }
  EXPECT_EQ(g->info.labels, z.float_graph.info.labels);
  ASSERT_EQ(g->info.input_specs.size(), 1u);
  EXPECT_EQ(g->info.input_specs[0].mean, z.float_graph.info.input_specs[0].mean);
  // Quantizing either gives the same model.
  const ir::Graph a = QuantizeGraph(z.float_graph, z.stats, {}).value();
  const ir::Graph b = QuantizeGraph(g.value(), z.stats, {}).value();
  ir::Graph pa = a, pb = b;
  plan::PlanMemory(pa);
  plan::PlanMemory(pb);
  EXPECT_EQ(emit::EmitOpm(pa), emit::EmitOpm(pb));
}

// The optimized int8 kernels are bit-exact with the reference kernels on whole models: the
// reference kernels, the AVX2 ones (AVX-512 left out of the CPU features, as on a CPU without
// it) on 1 and 3 threads, and the best this CPU has give the same output bytes.
TEST_P(ZooQuantize, OptimizedInt8KernelsMatchReferenceExactly) {
  const Zoo& z = Load(GetParam());
  ir::Graph q = QuantizeGraph(z.float_graph, z.stats, {}).value();
  ASSERT_TRUE(PlanAndSelfTest(q, &z.calib.samples[0]).ok());
  const std::vector<uint8_t> bytes = emit::EmitOpm(q);
  const io::LoadedModel m = io::LoadedModel::FromBytes("model", bytes).value();
  struct Variant {
    const char* name;
    bool reference;
    uint32_t features;
    int threads;
  };
  const Variant variants[] = {{"reference", true, ~0u, 1},
                              {"avx2", false, kCpuX86Avx2Fma, 1},
                              {"avx2, 3 threads", false, kCpuX86Avx2Fma, 3},
                              {"auto", false, ~0u, 2}};
  std::vector<std::vector<uint8_t>> want;
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    io::SessionOptions o;
    o.reference_kernels = v.reference;
    o.cpu_feature_mask = v.features;
    o.threads = v.threads;
    o.profile = true;
    std::unique_ptr<io::Session> s = io::Session::Create(m, o).value();
    std::vector<std::vector<uint8_t>> got;
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(s->SetInputFromFloat(0, z.test.samples[i]).ok());
      ASSERT_TRUE(s->Run().ok());
      got.push_back(s->Output(0).bytes);
    }
    if (v.reference) {
      want = got;
      continue;
    }
    EXPECT_EQ(got, want);
    if (v.features == kCpuX86Avx2Fma && (DetectCpuFeatures() & kCpuX86Avx2Fma)) {
      int avx2_convs = 0;
      for (const io::OpProfile& p : s->op_profiles()) avx2_convs += p.kernel == "conv2d_i8_avx2";
      EXPECT_GT(avx2_convs, 0) << "the AVX2 convolution did not run";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fashion, ZooQuantize,
                         ::testing::Values("fashion_cnn", "fashion_mobilenet"));

}  // namespace
}  // namespace outpost::quant
