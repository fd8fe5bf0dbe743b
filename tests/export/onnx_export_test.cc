// ONNX export: the exported model passes ONNX's checker, and importing it again gives a graph
// that computes the same outputs as the original.
#include "compiler/export/onnx_export.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "compiler/compile.h"
#include "compiler/emit/graph_runner.h"
#include "compiler/emit/opm_reader.h"
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

// The zero point initializers of an exported model, by name.
std::map<std::string, const onnx::TensorProto*> Initializers(const onnx::ModelProto& m) {
  std::map<std::string, const onnx::TensorProto*> v;
  for (const onnx::TensorProto& t : m.graph().initializer()) v[t.name()] = &t;
  return v;
}

TEST(OnnxExport, Uint8ActivationsAreTheInt8ModelShiftedBy128) {
  std::ifstream f(std::string(OUTPOST_SOURCE_DIR) + "/tests/mcu/small_cnn_int8.opm",
                  std::ios::binary);
  const std::vector<uint8_t> opm((std::istreambuf_iterator<char>(f)), {});
  ASSERT_FALSE(opm.empty());
  const ir::Graph g = emit::ReadOpmGraph(opm);
  ASSERT_TRUE(g.self_test.has_value());
  exporter::OnnxExportOptions u8;
  u8.uint8_activations = true;
  std::vector<std::vector<uint8_t>> outputs;
  for (const exporter::OnnxExportOptions& options : {exporter::OnnxExportOptions{}, u8}) {
    SCOPED_TRACE(options.uint8_activations ? "uint8 activations" : "int8 activations");
    const std::string bytes = exporter::ExportOnnx(g, options);
    onnx::ModelProto proto;
    ASSERT_TRUE(proto.ParseFromString(bytes));
    EXPECT_NO_THROW(onnx::checker::check_model(proto));
    // Every activation a QuantizeLinear writes: uint8 with the int8 zero point + 128 when
    // shifted, else int8 as in the model. Weights behind a DequantizeLinear stay int8.
    const auto init = Initializers(proto);
    int activations = 0, weights = 0;
    for (const onnx::NodeProto& n : proto.graph().node()) {
      if (n.op_type() != "QuantizeLinear" && n.op_type() != "DequantizeLinear") continue;
      ASSERT_EQ(n.input_size(), 3) << n.name();
      const onnx::TensorProto& zp = *init.at(n.input(2));
      if (n.op_type() == "DequantizeLinear" && init.count(n.input(0))) {
        if (zp.data_type() == onnx::TensorProto::INT8) ++weights;
        continue;
      }
      if (n.op_type() != "QuantizeLinear") continue;
      const ir::Tensor* t = nullptr;
      for (const ir::Tensor& x : g.tensors)
        if (x.name == n.output(0)) t = &x;
      ASSERT_NE(t, nullptr) << n.output(0);
      ASSERT_EQ(t->quant.zero_point.size(), 1u);
      ASSERT_EQ(zp.raw_data().size(), 1u);
      const bool io = n.output(0) == g.tensors[g.outputs[0]].name;
      if (options.uint8_activations && !io) {
        EXPECT_EQ(zp.data_type(), onnx::TensorProto::UINT8) << n.output(0);
        EXPECT_EQ(static_cast<uint8_t>(zp.raw_data()[0]), t->quant.zero_point[0] + 128);
      } else {
        EXPECT_EQ(zp.data_type(), onnx::TensorProto::INT8) << n.output(0);
        EXPECT_EQ(static_cast<int8_t>(zp.raw_data()[0]), t->quant.zero_point[0]);
      }
      ++activations;
    }
    EXPECT_GT(activations, 2);
    EXPECT_GT(weights, 0);
    // Imported again, both forms compute the same bytes.
    const std::string path = TempPath("small_cnn_int8.onnx");
    std::ofstream(path, std::ios::binary) << bytes;
    compiler::CompileOptions co;
    co.optimize = false;
    Expected<ir::Graph> back = compiler::CompileOnnx(path, co);
    std::filesystem::remove(path);
    ASSERT_TRUE(back.ok()) << back.message();
    outputs.push_back(emit::RunGraph(*back, g.self_test->inputs)[0]);
  }
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0], outputs[1]);
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
