// ONNX export: the exported model passes ONNX's checker, and importing it again gives a graph
// that computes the same outputs as the original.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "compiler/compile.h"
#include "compiler/emit/graph_runner.h"
#include "compiler/export/onnx_export.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"

namespace outpost {
namespace {

const std::string kZoo = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/";

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("outpost_export_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::vector<float> AsFloats(const std::vector<uint8_t>& b) {
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

TEST(OnnxExport, FloatZooModelsRoundTripThroughTheImporter) {
  for (const char* name : {"fashion_cnn", "fashion_mobilenet", "kws_dscnn", "ad_autoencoder"}) {
    SCOPED_TRACE(name);
    Expected<ir::Graph> g = compiler::CompileOnnx(kZoo + name + "/model.onnx", {});
    ASSERT_TRUE(g.ok()) << g.message();
    const std::string bytes = exporter::ExportOnnx(*g);

    onnx::ModelProto proto;
    ASSERT_TRUE(proto.ParseFromString(bytes));
    EXPECT_NO_THROW(onnx::checker::check_model(proto));
    // One ONNX node per operator, plus one per fused activation.
    EXPECT_GE(proto.graph().node_size(), static_cast<int>(g->nodes.size()));

    const std::string path = TempPath(std::string(name) + ".onnx");
    std::ofstream(path, std::ios::binary) << bytes;
    compiler::CompileOptions options;
    options.optimize = false;  // compare the graph as exported, not a re-optimized one
    Expected<ir::Graph> back = compiler::CompileOnnx(path, options);
    std::filesystem::remove(path);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(back->info.labels, g->info.labels);
    EXPECT_EQ(back->info.task, g->info.task);
    ASSERT_EQ(back->info.input_specs.size(), g->info.input_specs.size());
    if (!g->info.input_specs.empty()) {
      EXPECT_EQ(back->info.input_specs[0].mean, g->info.input_specs[0].mean);
      EXPECT_EQ(back->info.input_specs[0].std, g->info.input_specs[0].std);
      EXPECT_EQ(back->info.input_specs[0].value_scale, g->info.input_specs[0].value_scale);
      EXPECT_EQ(back->info.input_specs[0].color, g->info.input_specs[0].color);
    }

    ASSERT_TRUE(g->self_test.has_value());
    const auto want = AsFloats(g->self_test->outputs[0]);
    const auto got = AsFloats(emit::RunGraph(*back, g->self_test->inputs)[0]);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-5f + 1e-5f * std::fabs(want[i])) << "output " << i;
  }
}

TEST(OnnxExport, NamesTheNodeItCannotExport) {
  Expected<ir::Graph> g = compiler::CompileOnnx(kZoo + "fashion_cnn/model.onnx", {});
  ASSERT_TRUE(g.ok()) << g.message();
  g->nodes[0].op = opm::OpCode::RESIZE;  // no ONNX form is written for resize
  g->nodes[0].options.Set(opm::ResizeOptionsT());
  try {
    exporter::ExportOnnx(*g);
    FAIL() << "export accepted an operator it has no form for";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(g->nodes[0].name), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace outpost
