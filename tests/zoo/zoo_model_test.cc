// Every zoo model through the whole compiler and the runtime: outputs match PyTorch's, the
// memory plan is within 10% of its lower bound, the embedded self-test passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compiler/compile.h"
#include "compiler/emit/opm_writer.h"
#include "io/npy.h"
#include "io/session.h"
#include "tests/support/sanitizers.h"
#include "tests/zoo/zoo_models.h"

namespace outpost::testing {
namespace {

class ZooModel : public ::testing::TestWithParam<std::string> {};

TEST(ZooModels, CommittedZooIsPresent) {
  std::vector<std::string> names;
  for (const auto& d : ZooModelDirs()) names.push_back(ZooName(d));
  for (const char* want :
       {"fashion_cnn", "fashion_mobilenet", "kws_dscnn", "ad_autoencoder", "shapes_detector"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want << " missing";
}

TEST_P(ZooModel, CompilesRunsAndMatchesPyTorch) {
  const std::string dir = GetParam();
  compiler::CompileReport report;
  Expected<ir::Graph> graph = compiler::CompileOnnx(dir + "/model.onnx", {}, &report);
  ASSERT_TRUE(graph.ok()) << graph.message();

  // The plan must be close to what any plan of these buffers could achieve.
  const double ratio = static_cast<double>(report.arena_bytes) /
                       static_cast<double>(report.arena_lower_bound_bytes);
  RecordProperty("arena_bytes", std::to_string(report.arena_bytes));
  RecordProperty("arena_lower_bound_bytes", std::to_string(report.arena_lower_bound_bytes));
  std::printf("%s: arena %llu B, lower bound %llu B, ratio %.4f, %zu -> %zu nodes\n",
              ZooName(dir).c_str(), static_cast<unsigned long long>(report.arena_bytes),
              static_cast<unsigned long long>(report.arena_lower_bound_bytes), ratio,
              report.nodes_after_import, report.nodes_after_passes);
  EXPECT_GE(ratio, 1.0);
  EXPECT_LE(ratio, 1.10);

  Expected<io::LoadedModel> model =
      io::LoadedModel::FromBytes(ZooName(dir), emit::EmitOpm(graph.value()));
  ASSERT_TRUE(model.ok()) << model.message();
  auto session = io::Session::Create(*model);
  ASSERT_TRUE(session.ok()) << session.message();
  io::NpyReadOptions f32;
  f32.float64_to_float32 = true;
  Expected<io::HostTensor> x = io::ReadNpy(dir + "/input.npy", f32);
  Expected<io::HostTensor> want = io::ReadNpy(dir + "/output.npy", f32);
  ASSERT_TRUE(x.ok()) << x.message();
  ASSERT_TRUE(want.ok()) << want.message();
  ASSERT_TRUE((*session)->SetInput(0, *x).ok());
  const Expected<Unit> ran = (*session)->Run();
  ASSERT_TRUE(ran.ok()) << ran.message();
  const io::HostTensor got = (*session)->Output(0);
  ASSERT_EQ(got.shape, want->shape);

  // Relative error against the output's scale: max |got - want| / max |want| <= 1e-4.
  const auto a = got.values<float>();
  const auto b = want->values<float>();
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(b[i])));
  }
  std::printf("%s: max |outpost - pytorch| = %.3g, relative %.3g\n", ZooName(dir).c_str(),
              max_diff, max_diff / max_ref);
  EXPECT_LE(max_diff, 1e-4 * max_ref) << "max diff " << max_diff << " of max " << max_ref;

  const Expected<Unit> self_test = (*session)->RunSelfTest();
  EXPECT_TRUE(self_test.ok()) << self_test.message();
}

// Kernels may split work across the session's thread pool, but their results must not depend on
// how: every output byte is the same for 1, 2 and 3 threads.
TEST_P(ZooModel, OutputsDoNotDependOnThreadCount) {
  const std::string dir = GetParam();
  // Six runs of a 224x224 model take minutes under the sanitizers, where the committed models
  // cover the thread plumbing. The release build checks the large ones too: their wide planes
  // take kernel paths the small models do not.
  if (kAddressSanitizer && dir.find("/models/generated/") != std::string::npos)
    GTEST_SKIP() << "large model under the sanitizers: the committed zoo covers the threads";
  Expected<ir::Graph> graph = compiler::CompileOnnx(dir + "/model.onnx", {}, nullptr);
  ASSERT_TRUE(graph.ok()) << graph.message();
  Expected<io::LoadedModel> model =
      io::LoadedModel::FromBytes(ZooName(dir), emit::EmitOpm(graph.value()));
  ASSERT_TRUE(model.ok()) << model.message();
  io::NpyReadOptions f32;
  f32.float64_to_float32 = true;
  Expected<io::HostTensor> x = io::ReadNpy(dir + "/input.npy", f32);
  ASSERT_TRUE(x.ok()) << x.message();
  std::vector<std::vector<uint8_t>> outputs;
  for (int threads : {1, 2, 3}) {
    io::SessionOptions options;
    options.threads = threads;
    auto session = io::Session::Create(*model, options);
    ASSERT_TRUE(session.ok()) << session.message();
    EXPECT_EQ((*session)->threads_used(), threads);
    ASSERT_TRUE((*session)->SetInput(0, *x).ok());
    for (int run = 0; run < 2; ++run) {  // the second run reuses the warm pool
      const Expected<Unit> ran = (*session)->Run();
      ASSERT_TRUE(ran.ok()) << ran.message();
    }
    outputs.push_back((*session)->Output(0).bytes);
  }
  EXPECT_EQ(outputs[0], outputs[1]) << "2 threads differ from 1";
  EXPECT_EQ(outputs[0], outputs[2]) << "3 threads differ from 1";
}

INSTANTIATE_TEST_SUITE_P(Zoo, ZooModel, ::testing::ValuesIn(ZooModelDirs()),
                         [](const auto& info) { return ZooName(info.param); });

}  // namespace
}  // namespace outpost::testing
