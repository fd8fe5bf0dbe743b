// A realistic quantization-aware model end to end: fashion_cnn quantized by PyTorch and
// exported with QuantizeLinear / DequantizeLinear (models/qdq_fashion_cnn.py writes the model,
// its inputs and ONNX's outputs for them). It compiles without calibration data into integer
// kernels and agrees with ONNX within one output quantization step.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "io/npy.h"
#include "tests/compiler/qdq_test_util.h"

namespace outpost::testing {
namespace {

using ir::DType;
using ir::OpCode;

const std::string kDir = std::string(OUTPOST_SOURCE_DIR) + "/tests/compiler/data/fashion_cnn_qdq/";

class QdqModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    compiler::CompileOptions o;
    Expected<ir::Graph> g = compiler::CompileOnnx(kDir + "model.onnx", o, &report_);
    ASSERT_TRUE(g.ok()) << g.message();
    graph_ = new ir::Graph(std::move(g.value()));
  }
  static void TearDownTestSuite() {
    delete graph_;
    graph_ = nullptr;
  }
  static ir::Graph* graph_;
  static compiler::CompileReport report_;
};

ir::Graph* QdqModel::graph_ = nullptr;
compiler::CompileReport QdqModel::report_;

TEST_F(QdqModel, CompilesToIntegerKernels) {
  const ir::Graph& g = *graph_;
  EXPECT_EQ(Ops(g), (std::vector<OpCode>{OpCode::QUANTIZE, OpCode::CONV_2D, OpCode::MAX_POOL_2D,
                                         OpCode::CONV_2D, OpCode::MAX_POOL_2D, OpCode::CONV_2D,
                                         OpCode::RESHAPE, OpCode::FULLY_CONNECTED,
                                         OpCode::FULLY_CONNECTED, OpCode::DEQUANTIZE}));
  for (const ir::Node& n : g.nodes) {
    if (n.op == OpCode::QUANTIZE || n.op == OpCode::DEQUANTIZE) continue;
    EXPECT_EQ(g.tensors[n.inputs[0]].dtype, DType::INT8) << n.name;
    EXPECT_EQ(g.tensors[n.outputs[0]].dtype, DType::INT8) << n.name;
    if (n.op != OpCode::CONV_2D && n.op != OpCode::FULLY_CONNECTED) continue;
    const ir::Tensor& w = g.tensors[n.inputs[1]];
    EXPECT_EQ(w.dtype, DType::INT8) << n.name;
    EXPECT_EQ(w.quant.axis, 0) << n.name << ": the export's per-channel weight scales";
    EXPECT_EQ(g.tensors[n.inputs[2]].dtype, DType::INT32) << n.name;
  }
  // Every Relu became a clamp: three fused into the convolutions by PyTorch, the one after the
  // first Linear (exported as DequantizeLinear -> Relu -> QuantizeLinear) by the compiler.
  EXPECT_EQ(g.nodes[7].options.AsFullyConnectedOptions()->activation, opm::Activation::RELU);
  EXPECT_EQ(report_.macs, 6047488u);
  EXPECT_TRUE(g.self_test.has_value());
}

TEST_F(QdqModel, AgreesWithOnnxWithinOneStep) {
  const ir::Graph& g = *graph_;
  Expected<io::HostTensor> in = io::ReadNpy(kDir + "input.npy");
  Expected<io::HostTensor> ref = io::ReadNpy(kDir + "reference.npy");
  ASSERT_TRUE(in.ok()) << in.message();
  ASSERT_TRUE(ref.ok()) << ref.message();
  const int64_t images = in.value().shape[0];
  ASSERT_EQ(ref.value().shape, (std::vector<int64_t>{images, 10}));
  // The output is DEQUANTIZE of INT8 values: its quantization step.
  const ir::Node& last = g.nodes.back();
  ASSERT_EQ(last.op, OpCode::DEQUANTIZE);
  const float step = g.tensors[last.inputs[0]].quant.scale.at(0);
  std::vector<float> got, want;
  int same_class = 0;
  for (int64_t i = 0; i < images; ++i) {
    const auto x = in.value().values<float>().subspan(i * 784, 784);
    const std::vector<float> y = RunOn<float>(g, std::vector<float>(x.begin(), x.end()));
    const auto r = ref.value().values<float>().subspan(i * 10, 10);
    same_class += std::max_element(y.begin(), y.end()) - y.begin() ==
                  std::max_element(r.begin(), r.end()) - r.begin();
    got.insert(got.end(), y.begin(), y.end());
    want.insert(want.end(), r.begin(), r.end());
  }
  ExpectWithinOneStep(got, want, step, 0.85);
  EXPECT_EQ(same_class, images);
}

}  // namespace
}  // namespace outpost::testing
