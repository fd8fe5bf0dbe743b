// ONNX importer: shapes, lowering and errors, on small models built with the ONNX protobuf API.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "compiler/emit/graph_runner.h"
#include "compiler/import/onnx_importer.h"
#include "onnx/onnx_pb.h"

namespace outpost {
namespace {

using import::ImportOnnxFile;
using import::ImportOnnxModel;
using import::ImportOptions;
using ir::OpCode;
using Shape = std::vector<int64_t>;

// Builds an ONNX model one piece at a time. A dimension of -1 in an input shape is symbolic.
class OnnxBuilder {
 public:
  explicit OnnxBuilder(int opset = 13) {
    model_.set_ir_version(8);
    model_.set_producer_name("import_test");
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    model_.mutable_graph()->set_name("test_graph");
  }

  OnnxBuilder& Input(const std::string& name, const Shape& shape,
                     int type = onnx::TensorProto::FLOAT) {
    auto* v = model_.mutable_graph()->add_input();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* s = tt->mutable_shape();
    for (int64_t d : shape) {
      if (d < 0) {
        s->add_dim()->set_dim_param("N");
      } else {
        s->add_dim()->set_dim_value(d);
      }
    }
    return *this;
  }

  OnnxBuilder& Output(const std::string& name) {
    model_.mutable_graph()->add_output()->set_name(name);
    return *this;
  }

  OnnxBuilder& Floats(const std::string& name, const Shape& shape, const std::vector<float>& v) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
    return *this;
  }

  OnnxBuilder& Ints(const std::string& name, const Shape& shape, const std::vector<int64_t>& v) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : shape) t->add_dims(d);
    for (int64_t x : v) t->add_int64_data(x);
    return *this;
  }

  onnx::NodeProto& Node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  OnnxBuilder& Meta(const std::string& key, const std::string& value) {
    auto* kv = model_.add_metadata_props();
    kv->set_key(key);
    kv->set_value(value);
    return *this;
  }

  onnx::ModelProto& model() { return model_; }
  Expected<ir::Graph> Import(const ImportOptions& options = {}) {
    return ImportOnnxModel(model_, options);
  }

 private:
  onnx::ModelProto model_;
};

void SetInt(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void SetInts(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

void SetFloat(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void SetString(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

std::vector<OpCode> Ops(const ir::Graph& g) {
  std::vector<OpCode> ops;
  for (const ir::Node& n : g.nodes) ops.push_back(n.op);
  return ops;
}

const ir::Tensor& OutputTensor(const ir::Graph& g, int i = 0) { return g.tensors[g.outputs[i]]; }

std::vector<float> FloatValues(const ir::Tensor& t) {
  auto v = t.values<float>();
  return {v.begin(), v.end()};
}

ir::Tensor Int64Tensor(const Shape& shape, const std::vector<int64_t>& v) {
  ir::Tensor t;
  t.dtype = opm::DType::INT64;
  t.shape = shape;
  t.constant = true;
  t.data.resize(v.size() * 8);
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("outpost_import_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// --- Errors ---------------------------------------------------------------------------------

TEST(OnnxImport, UnsupportedOperatorNamesOpNodeAndOpset) {
  OnnxBuilder b(13);
  b.Input("boxes", {1, 4, 4}).Input("scores", {1, 1, 4}).Output("sel");
  b.Node("NonMaxSuppression", {"boxes", "scores"}, {"sel"}, "nms_1");
  auto g = b.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.message(), "unsupported operator 'NonMaxSuppression' (node 'nms_1', opset 13)");
}

TEST(OnnxImport, RefusesOpsetsAbove17AndOpsetsThatDoNotExist) {
  OnnxBuilder b(18);
  b.Input("x", {1, 4}).Output("y");
  b.Node("Relu", {"x"}, {"y"});
  auto g = b.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("unsupported opset 18"), std::string::npos) << g.message();

  OnnxBuilder z(0);
  z.Input("x", {1, 4}).Output("y");
  z.Node("Relu", {"x"}, {"y"});
  g = z.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("opset 0"), std::string::npos) << g.message();
  EXPECT_EQ(g.message().find("unsupported"), std::string::npos) << g.message();
}

// One node of `op` on a float input x of `shape` into y, in a model of `opset`.
Expected<ir::Graph> ImportOne(int opset, const std::string& op, const Shape& shape,
                              const std::function<void(onnx::NodeProto&)>& attrs = {}) {
  OnnxBuilder b(opset);
  b.Input("x", shape).Output("y");
  onnx::NodeProto& n = b.Node(op, {"x"}, {"y"}, "n");
  if (attrs) attrs(n);
  return b.Import();
}

TEST(OnnxImport, OlderOpsetsTakeOperatorsWhoseDefinitionIsTheCurrentOne) {
  // GlobalAveragePool has had one definition since opset 1, HardSigmoid and Relu since 6.
  auto g = ImportOne(1, "GlobalAveragePool", {1, 2, 3, 3});
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(Ops(*g), std::vector<OpCode>{OpCode::GLOBAL_AVERAGE_POOL});
  g = ImportOne(6, "HardSigmoid", {2, 3}, [](onnx::NodeProto& n) { SetFloat(n, "alpha", 0.5f); });
  ASSERT_TRUE(g.ok()) << g.message();
  ASSERT_EQ(Ops(*g), std::vector<OpCode>{OpCode::HARD_SIGMOID});
  EXPECT_EQ(g->nodes[0].options.AsHardSigmoidOptions()->alpha, 0.5f);
  g = ImportOne(9, "Relu", {2, 3});
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(Ops(*g), std::vector<OpCode>{OpCode::RELU});

  // ConstantOfShape-9 is the definition of every later opset up to 17.
  OnnxBuilder c(9);
  c.Input("x", {2, 3}).Output("y");
  c.Ints("shape", {2}, {2, 3});
  auto& n = c.Node("ConstantOfShape", {"shape"}, {"c"});
  auto* value = n.add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  value->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  value->mutable_t()->add_dims(1);
  value->mutable_t()->add_float_data(2.5f);
  c.Node("Add", {"x", "c"}, {"y"});
  auto gc = c.Import();
  ASSERT_TRUE(gc.ok()) << gc.message();
  ASSERT_EQ(Ops(*gc), std::vector<OpCode>{OpCode::ADD});
  EXPECT_EQ(FloatValues(gc->tensors[gc->nodes[0].inputs[1]]), std::vector<float>(6, 2.5f));
}

TEST(OnnxImport, OlderOpsetsRefuseOperatorsDefinedDifferently) {
  // ConvTranspose-1 splits odd padding the other way round from ConvTranspose-11.
  OnnxBuilder b(8);
  b.Input("x", {1, 1, 3, 3}).Output("y");
  b.Floats("w", {1, 1, 2, 2}, {1, 1, 1, 1});
  b.Node("ConvTranspose", {"x", "w"}, {"y"}, "ct");
  auto g = b.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.message(),
            "node 'ct' (ConvTranspose, opset 8): unsupported ConvTranspose-1, the definition "
            "opset 8 uses: the importer implements ConvTranspose-11 and later, which define the "
            "operator differently (convert the model with onnx.version_converter)");
  // HardSigmoid-1 (opsets 1 to 5) and Reshape-1 (shape as an attribute, opsets 1 to 4).
  g = ImportOne(5, "HardSigmoid", {2, 3});
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("unsupported HardSigmoid-1"), std::string::npos) << g.message();
  g = ImportOne(4, "Reshape", {2, 3}, [](onnx::NodeProto& n) { SetInts(n, "shape", {3, 2}); });
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("unsupported Reshape-1"), std::string::npos) << g.message();
  // MaxPool-10 predates MaxPool-11's definition.
  g = ImportOne(10, "MaxPool", {1, 1, 4, 4}, [](onnx::NodeProto& n) {
    SetInts(n, "kernel_shape", {2, 2});
  });
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("unsupported MaxPool-10"), std::string::npos) << g.message();
  EXPECT_NE(g.message().find("MaxPool-11"), std::string::npos) << g.message();
  // An operator that the model's opset does not have yet: a malformed model, not a limit.
  OnnxBuilder r(9);
  r.Output("y");
  r.Floats("a", {}, {0}).Floats("l", {}, {3}).Floats("d", {}, {1});
  r.Node("Range", {"a", "l", "d"}, {"y"}, "range");
  g = r.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("Range does not exist in opset 9"), std::string::npos) << g.message();
  EXPECT_EQ(g.message().find("unsupported"), std::string::npos) << g.message();
}

TEST(OnnxImport, OlderOpsetsTakeTheOlderFormsTheLoweringsRead) {
  // Clip-6: bounds as attributes. Clip-1 (opset 5) also had consumed_inputs: refused.
  auto clip = [](onnx::NodeProto& n) {
    SetFloat(n, "min", -1.0f);
    SetFloat(n, "max", 2.0f);
  };
  auto g = ImportOne(6, "Clip", {4}, clip);
  ASSERT_TRUE(g.ok()) << g.message();
  ASSERT_EQ(Ops(*g), std::vector<OpCode>{OpCode::CLIP});
  EXPECT_EQ(g->nodes[0].options.AsClipOptions()->min, -1.0f);
  EXPECT_EQ(g->nodes[0].options.AsClipOptions()->max, 2.0f);
  g = ImportOne(5, "Clip", {4}, clip);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("unsupported Clip-1"), std::string::npos) << g.message();
  // Softmax-1 flattens at axis, as Softmax-11 does.
  g = ImportOne(9, "Softmax", {2, 3, 4}, [](onnx::NodeProto& n) { SetInt(n, "axis", 1); });
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(Ops(*g), (std::vector<OpCode>{OpCode::RESHAPE, OpCode::SOFTMAX, OpCode::RESHAPE}));
  // Squeeze-1, Unsqueeze-1 and Split-2: attributes, as before opset 13.
  g = ImportOne(7, "Unsqueeze", {3, 4}, [](onnx::NodeProto& n) { SetInts(n, "axes", {0, 3}); });
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{1, 3, 4, 1}));
  g = ImportOne(7, "Squeeze", {1, 3, 1}, [](onnx::NodeProto& n) { SetInts(n, "axes", {2}); });
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{1, 3}));
  OnnxBuilder s(8);
  s.Input("x", {5, 2}).Output("a").Output("b");
  SetInts(s.Node("Split", {"x"}, {"a", "b"}), "split", {2, 3});
  auto gs = s.Import();
  ASSERT_TRUE(gs.ok()) << gs.message();
  EXPECT_EQ(OutputTensor(*gs, 1).shape, (Shape{3, 2}));
  // Constant-1 and -9: the `value` attribute.
  OnnxBuilder k(7);
  k.Input("x", {2}).Output("y");
  auto& cn = k.Node("Constant", {}, {"c"});
  auto* value = cn.add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  value->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  value->mutable_t()->add_dims(2);
  value->mutable_t()->add_float_data(1.0f);
  value->mutable_t()->add_float_data(2.0f);
  k.Node("Mul", {"x", "c"}, {"y"});
  auto gk = k.Import();
  ASSERT_TRUE(gk.ok()) << gk.message();
  EXPECT_EQ(Ops(*gk), std::vector<OpCode>{OpCode::MUL});
}

TEST(OnnxImport, MissingFile) {
  auto g = ImportOnnxFile("/nonexistent/dir/model.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("no such file"), std::string::npos) << g.message();
}

TEST(OnnxImport, GarbageAndEmptyFiles) {
  const std::string garbage = TempPath("garbage.onnx");
  {
    std::ofstream f(garbage, std::ios::binary);
    f << "this is certainly not a protobuf \xff\xff\xff\xff\x0f\x01 model";
  }
  auto g = ImportOnnxFile(garbage);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("is not an ONNX model"), std::string::npos) << g.message();
  std::remove(garbage.c_str());

  const std::string empty = TempPath("empty.onnx");
  { std::ofstream f(empty, std::ios::binary); }
  g = ImportOnnxFile(empty);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("is not an ONNX model"), std::string::npos) << g.message();
  std::remove(empty.c_str());
}

TEST(OnnxImport, RefusesExternalData) {
  OnnxBuilder b;
  b.Input("x", {2}).Output("y");
  auto* t = b.model().mutable_graph()->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(2);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* e = t->add_external_data();
  e->set_key("location");
  e->set_value("weights.bin");
  b.Node("Add", {"x", "w"}, {"y"});
  auto g = b.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("external data"), std::string::npos) << g.message();
}

TEST(OnnxImport, RefusesNonFloatDataInput) {
  OnnxBuilder b;
  b.Input("x", {4}, onnx::TensorProto::UINT8).Output("y");
  b.Node("Relu", {"x"}, {"y"}, "r");
  auto g = b.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("unsupported input dtype UINT8 of graph input 'x' for Relu"),
            std::string::npos)
      << g.message();
  EXPECT_NE(g.message().find("reserved for quantized tensors"), std::string::npos) << g.message();
}

std::vector<uint8_t> Int32Bytes(const std::vector<int32_t>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(OnnxImport, NonFloatInputsPassThroughDataMovement) {
  // x [2, 3] INT32 -> Pad (edge) -> Transpose -> Flatten, concatenated with z [1, 8] INT32.
  OnnxBuilder b;
  b.Input("x", {2, 3}, onnx::TensorProto::INT32)
      .Input("z", {1, 8}, onnx::TensorProto::INT32)
      .Output("y");
  b.Ints("pads", {4}, {0, 1, 0, 0});
  SetString(b.Node("Pad", {"x", "pads"}, {"p"}), "mode", "edge");
  SetInts(b.Node("Transpose", {"p"}, {"t"}), "perm", {1, 0});
  SetInt(b.Node("Flatten", {"t"}, {"f"}), "axis", 0);
  SetInt(b.Node("Concat", {"f", "z"}, {"y"}), "axis", 1);
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(Ops(*g),
            (std::vector<OpCode>{OpCode::PAD, OpCode::TRANSPOSE, OpCode::RESHAPE, OpCode::CONCAT}));
  for (const ir::Node& n : g->nodes) EXPECT_EQ(g->tensors[n.outputs[0]].dtype, opm::DType::INT32);
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{1, 16}));
  // p = [[1,1,2,3],[4,4,5,6]]; t = p^T flattened = 1,4,1,4,2,5,3,6.
  const auto out = emit::RunGraph(
      *g, {Int32Bytes({1, 2, 3, 4, 5, 6}), Int32Bytes({10, 11, 12, 13, 14, 15, 16, 17})});
  EXPECT_EQ(out[0], Int32Bytes({1, 4, 1, 4, 2, 5, 3, 6, 10, 11, 12, 13, 14, 15, 16, 17}));

  // Gather and Slice on an INT64 input; a BOOL input passed straight through.
  OnnxBuilder m;
  m.Input("x", {4}, onnx::TensorProto::INT64)
      .Input("flag", {2}, onnx::TensorProto::BOOL)
      .Output("y")
      .Output("flag_out");
  m.Ints("idx", {2}, {3, 0}).Ints("starts", {1}, {1}).Ints("ends", {1}, {2});
  m.Node("Gather", {"x", "idx"}, {"gathered"});
  m.Node("Slice", {"gathered", "starts", "ends"}, {"y"});
  m.Node("Identity", {"flag"}, {"flag_out"});
  auto gm = m.Import();
  ASSERT_TRUE(gm.ok()) << gm.message();
  EXPECT_EQ(OutputTensor(*gm, 0).dtype, opm::DType::INT64);
  EXPECT_EQ(OutputTensor(*gm, 1).dtype, opm::DType::BOOL);
}

TEST(OnnxImport, NonFloatRuntimeTensorsAreRefusedByComputeOps) {
  // Through a data-movement op first: the refusal names the intermediate tensor.
  OnnxBuilder b;
  b.Input("x", {2, 3}, onnx::TensorProto::INT32).Output("y");
  b.Ints("shape", {1}, {6});
  b.Node("Reshape", {"x", "shape"}, {"r"});
  b.Node("Add", {"r", "r"}, {"y"}, "add");
  auto g = b.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("node 'add' (Add, opset 13): unsupported operand dtype INT32 of "
                             "'r' for Add"),
            std::string::npos)
      << g.message();
  // Through an alias: the refusal names the graph input.
  OnnxBuilder a;
  a.Input("x", {3}, onnx::TensorProto::INT8).Output("y");
  a.Node("Identity", {"x"}, {"i"});
  a.Node("MaxPool", {"i"}, {"y"}, "pool");
  g = a.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("unsupported input dtype INT8 of graph input 'x' for MaxPool"),
            std::string::npos)
      << g.message();
  // Runtime weights are operands too.
  OnnxBuilder w;
  w.Input("x", {1, 1, 3, 3}).Input("w", {1, 1, 1, 1}, onnx::TensorProto::UINT8).Output("y");
  w.Node("Conv", {"x", "w"}, {"y"});
  g = w.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("unsupported input dtype UINT8 of graph input 'w' for Conv"),
            std::string::npos)
      << g.message();
}

TEST(OnnxImport, IntegerPadValueMustBeExactAsAFloat) {
  for (int64_t value : {int64_t{-7}, (int64_t{1} << 40) + 1}) {
    OnnxBuilder b;
    b.Input("x", {3}, onnx::TensorProto::INT64).Output("y");
    b.Ints("pads", {2}, {1, 1}).Ints("value", {}, {value});
    b.Node("Pad", {"x", "pads", "value"}, {"y"});
    auto g = b.Import();
    if (value == -7) {
      ASSERT_TRUE(g.ok()) << g.message();
      EXPECT_EQ(g->nodes[0].options.AsPadOptions()->value, -7.0f);
    } else {
      ASSERT_FALSE(g.ok());
      EXPECT_NE(g.message().find("unsupported Pad constant_value 1099511627777"), std::string::npos)
          << g.message();
    }
  }
}

TEST(OnnxImport, ParameterInputNeedsAGivenValue) {
  OnnxBuilder b;
  b.Input("x", {2, 6}).Input("shape", {2}, onnx::TensorProto::INT64).Output("y");
  b.Node("Reshape", {"x", "shape"}, {"y"}, "reshape_1");
  auto g = b.Import();
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("reshape_1"), std::string::npos) << g.message();
  EXPECT_NE(g.message().find("'shape'"), std::string::npos) << g.message();
  EXPECT_NE(g.message().find("input_values"), std::string::npos) << g.message();

  ImportOptions o;
  o.input_values["shape"] = Int64Tensor({2}, {3, -1});
  auto ok = b.Import(o);
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ(OutputTensor(*ok).shape, (Shape{3, 4}));
  ASSERT_EQ(ok->inputs.size(), 1u);  // the frozen input is no longer a runtime input
  EXPECT_EQ(ok->tensors[ok->inputs[0]].name, "x");
}

// --- Inputs and model information -------------------------------------------------------------

TEST(OnnxImport, DynamicDimensionsAndShapeOverrides) {
  OnnxBuilder b;
  b.Input("x", {-1, 3}).Output("y");
  b.Node("Relu", {"x"}, {"y"});
  ImportOptions o;
  o.dynamic_dim = 5;
  auto g = b.Import(o);
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->tensors[g->inputs[0]].shape, (Shape{5, 3}));
  o.input_shapes["x"] = {7, 3};
  g = b.Import(o);
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{7, 3}));
}

TEST(OnnxImport, MetadataBecomesModelInfo) {
  OnnxBuilder b;
  b.Input("image", {1, 3, 4, 4}).Output("y");
  b.Node("Relu", {"image"}, {"y"});
  b.Meta("outpost.task", "classification")
      .Meta("outpost.labels", "cat, dog,bird")
      .Meta("outpost.layout", "NCHW")
      .Meta("outpost.color", "rgb")
      .Meta("outpost.value_scale", "0.00392157")
      .Meta("outpost.mean", "0.485,0.456,0.406")
      .Meta("outpost.std", "0.229,0.224,0.225")
      .Meta("author", "someone");
  b.model().set_producer_version("2.1");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  const ir::ModelInfo& info = g->info;
  EXPECT_EQ(info.name, "test_graph");
  EXPECT_EQ(info.producer, "import_test 2.1");
  EXPECT_EQ(info.task, opm::Task::CLASSIFICATION);
  EXPECT_EQ(info.labels, (std::vector<std::string>{"cat", "dog", "bird"}));
  ASSERT_EQ(info.input_specs.size(), 1u);
  const ir::InputSpec& s = info.input_specs[0];
  EXPECT_EQ(g->tensors[s.tensor].name, "image");
  EXPECT_EQ(s.layout, opm::Layout::NCHW);
  EXPECT_EQ(s.color, opm::ColorFormat::RGB);
  EXPECT_FLOAT_EQ(s.value_scale, 0.00392157f);
  EXPECT_EQ(s.mean, (std::vector<float>{0.485f, 0.456f, 0.406f}));
  EXPECT_EQ(s.std, (std::vector<float>{0.229f, 0.224f, 0.225f}));
  EXPECT_EQ(info.metadata.at("author"), "someone");
  EXPECT_EQ(info.metadata.count("outpost.task"), 0u);

  b.Meta("outpost.task", "juggling");
  EXPECT_FALSE(b.Import().ok());
}

TEST(OnnxImport, ReadsModelsLargerThan64MiB) {
  // 18M floats = 72 MB of weights: above protobuf's historical 64 MiB default limit.
  const int64_t n = 18'000'000;
  OnnxBuilder b;
  b.Input("x", {n}).Output("y");
  auto* t = b.model().mutable_graph()->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(n);
  t->mutable_raw_data()->assign(static_cast<size_t>(n) * 4, '\0');
  b.Node("Add", {"x", "w"}, {"y"});
  const std::string path = TempPath("large.onnx");
  {
    std::ofstream f(path, std::ios::binary);
    ASSERT_TRUE(b.model().SerializeToOstream(&f));
  }
  b.model().Clear();
  auto g = ImportOnnxFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{n}));
}

// --- Convolution and pooling -----------------------------------------------------------------

ir::Graph ImportConv(const std::string& auto_pad, const std::vector<int64_t>& pads = {}) {
  OnnxBuilder b;
  b.Input("x", {1, 3, 7, 7}).Output("y");
  b.Floats("w", {8, 3, 4, 4}, std::vector<float>(8 * 3 * 16, 0.5f));
  auto& n = b.Node("Conv", {"x", "w"}, {"y"}, "conv");
  SetInts(n, "strides", {2, 2});
  if (!auto_pad.empty()) SetString(n, "auto_pad", auto_pad);
  if (!pads.empty()) SetInts(n, "pads", pads);
  auto g = b.Import();
  EXPECT_TRUE(g.ok()) << g.message();
  return g.ok() ? std::move(g.value()) : ir::Graph{};
}

TEST(OnnxImport, ConvAutoPadShapes) {
  // in 7, kernel 4, stride 2. SAME: out 4, total pad (4-1)*2+4-7 = 3.
  ir::Graph upper = ImportConv("SAME_UPPER");
  ASSERT_EQ(Ops(upper), std::vector<OpCode>{OpCode::CONV_2D});
  EXPECT_EQ(OutputTensor(upper).shape, (Shape{1, 8, 4, 4}));
  const auto* u = upper.nodes[0].options.AsConv2DOptions();
  EXPECT_EQ(u->pad_top, 1);
  EXPECT_EQ(u->pad_bottom, 2);
  EXPECT_EQ(u->stride_h, 2);

  ir::Graph lower = ImportConv("SAME_LOWER");
  const auto* l = lower.nodes[0].options.AsConv2DOptions();
  EXPECT_EQ(OutputTensor(lower).shape, (Shape{1, 8, 4, 4}));
  EXPECT_EQ(l->pad_top, 2);
  EXPECT_EQ(l->pad_bottom, 1);

  ir::Graph valid = ImportConv("VALID", {1, 1, 1, 1});  // VALID ignores pads
  EXPECT_EQ(OutputTensor(valid).shape, (Shape{1, 8, 2, 2}));
  EXPECT_EQ(valid.nodes[0].options.AsConv2DOptions()->pad_left, 0);

  ir::Graph explicit_pads = ImportConv("", {1, 1, 1, 1});  // (7 + 2 - 4) / 2 + 1 = 3
  EXPECT_EQ(OutputTensor(explicit_pads).shape, (Shape{1, 8, 3, 3}));
}

TEST(OnnxImport, Conv1DRunsAs2DAnd3DIsRefused) {
  OnnxBuilder b;
  b.Input("x", {1, 2, 10}).Output("y");
  b.Floats("w", {4, 2, 3}, std::vector<float>(24, 1.0f));
  b.Floats("b", {4}, {1, 2, 3, 4});
  SetInts(b.Node("Conv", {"x", "w", "b"}, {"y"}, "c1"), "dilations", {2});
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(Ops(*g), (std::vector<OpCode>{OpCode::RESHAPE, OpCode::CONV_2D, OpCode::RESHAPE}));
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{1, 4, 6}));
  const ir::Node& conv = g->nodes[1];
  EXPECT_EQ(g->tensors[conv.inputs[1]].shape, (Shape{4, 2, 1, 3}));  // weights folded to 2-D
  EXPECT_TRUE(g->tensors[conv.inputs[1]].constant);
  EXPECT_EQ(conv.options.AsConv2DOptions()->dilation_w, 2);
  EXPECT_EQ(conv.options.AsConv2DOptions()->dilation_h, 1);

  OnnxBuilder b3;
  b3.Input("x", {1, 2, 4, 4, 4}).Output("y");
  b3.Floats("w", {1, 2, 1, 1, 1}, {1, 1});
  b3.Node("Conv", {"x", "w"}, {"y"}, "c3");
  auto g3 = b3.Import();
  ASSERT_FALSE(g3.ok());
  EXPECT_NE(g3.message().find("unsupported 3-D convolution"), std::string::npos) << g3.message();
}

TEST(OnnxImport, PoolCeilModeAndIndicesOutput) {
  OnnxBuilder b;
  b.Input("x", {1, 1, 6, 6}).Output("y");
  auto& n = b.Node("MaxPool", {"x"}, {"y"}, "pool");
  SetInts(n, "kernel_shape", {3, 3});
  SetInts(n, "strides", {2, 2});
  SetInt(n, "ceil_mode", 1);
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{1, 1, 3, 3}));  // floor mode would give 2

  // The Indices output: a second INT64 output of MAX_POOL_2D.
  OnnxBuilder bi;
  bi.Input("x", {1, 1, 4, 4}).Output("y").Output("i");
  auto& pi = bi.Node("MaxPool", {"x"}, {"y", "i"}, "pool");
  SetInts(pi, "kernel_shape", {2, 2});
  SetInts(pi, "strides", {2, 2});
  SetInt(pi, "storage_order", 1);
  auto gi = bi.Import();
  ASSERT_TRUE(gi.ok()) << gi.message();
  ASSERT_EQ(Ops(*gi), std::vector<OpCode>{OpCode::MAX_POOL_2D});
  ASSERT_EQ(gi->nodes[0].outputs.size(), 2u);
  EXPECT_EQ(gi->nodes[0].options.AsPool2DOptions()->storage_order, 1);
  EXPECT_EQ(OutputTensor(*gi, 1).dtype, opm::DType::INT64);
  EXPECT_EQ(OutputTensor(*gi, 1).shape, (Shape{1, 1, 2, 2}));
  std::vector<float> x(16);
  for (int k = 0; k < 16; ++k) x[k] = static_cast<float>(k);
  std::vector<uint8_t> xb(64);
  std::memcpy(xb.data(), x.data(), 64);
  auto out = emit::RunGraph(*gi, {xb});
  std::vector<int64_t> idx(4);
  std::memcpy(idx.data(), out[1].data(), 32);
  EXPECT_EQ(idx, (std::vector<int64_t>{5, 13, 7, 15}));  // h + w * H of 5, 7, 13, 15

  // 1-D: the [N, C, 1, L] view gives the same flattened indices.
  OnnxBuilder b1;
  b1.Input("x", {1, 2, 5}).Output("y").Output("i");
  SetInts(b1.Node("MaxPool", {"x"}, {"y", "i"}, "pool"), "kernel_shape", {2});
  auto g1 = b1.Import();
  ASSERT_TRUE(g1.ok()) << g1.message();
  EXPECT_EQ(Ops(*g1), (std::vector<OpCode>{OpCode::RESHAPE, OpCode::MAX_POOL_2D, OpCode::RESHAPE,
                                           OpCode::RESHAPE}));
  EXPECT_EQ(OutputTensor(*g1, 1).shape, (Shape{1, 2, 4}));
  const std::vector<float> x1 = {0, 3, 1, 1, 2, 9, 8, 7, 6, 5};
  std::vector<uint8_t> x1b(40);
  std::memcpy(x1b.data(), x1.data(), 40);
  out = emit::RunGraph(*g1, {x1b});
  std::vector<int64_t> idx1(8);
  std::memcpy(idx1.data(), out[1].data(), 64);
  EXPECT_EQ(idx1, (std::vector<int64_t>{1, 1, 2, 4, 5, 6, 7, 8}));

  OnnxBuilder bad;
  bad.Input("x", {1, 1, 4, 4}).Output("y").Output("i");
  auto& pb = bad.Node("MaxPool", {"x"}, {"y", "i"}, "pool");
  SetInts(pb, "kernel_shape", {2, 2});
  SetInt(pb, "storage_order", 2);
  auto gb = bad.Import();
  ASSERT_FALSE(gb.ok());
  EXPECT_NE(gb.message().find("storage_order 2"), std::string::npos) << gb.message();
}

TEST(OnnxImport, BatchNormalizationLowersToMulThenAdd) {
  OnnxBuilder b(15);
  b.Input("x", {1, 2, 3, 3}).Output("y");
  b.Floats("scale", {2}, {1.0f, 2.0f})
      .Floats("bias", {2}, {0.5f, -1.0f})
      .Floats("mean", {2}, {0.0f, 1.0f})
      .Floats("var", {2}, {4.0f, 1.0f});
  SetFloat(b.Node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}, "bn"),
           "epsilon", 0.0f);
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  ASSERT_EQ(Ops(*g), (std::vector<OpCode>{OpCode::MUL, OpCode::ADD}));
  const ir::Tensor& s = g->tensors[g->nodes[0].inputs[1]];
  const ir::Tensor& t = g->tensors[g->nodes[1].inputs[1]];
  EXPECT_EQ(s.shape, (Shape{2, 1, 1}));
  EXPECT_EQ(t.shape, (Shape{2, 1, 1}));
  // s = scale / sqrt(var + eps), t = bias - mean * s.
  EXPECT_EQ(FloatValues(s), (std::vector<float>{0.5f, 2.0f}));
  EXPECT_EQ(FloatValues(t), (std::vector<float>{0.5f, -3.0f}));
  EXPECT_EQ(g->nodes[1].inputs[0], g->nodes[0].outputs[0]);
}

// --- Gemm, MatMul -----------------------------------------------------------------------------

TEST(OnnxImport, GemmWithConstantBBecomesFullyConnected) {
  // A [2, 3], B [4, 3] with transB: the weights are B as is; alpha scales them, beta the bias.
  const std::vector<float> bv = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  OnnxBuilder b;
  b.Input("a", {2, 3}).Output("y");
  b.Floats("b", {4, 3}, bv).Floats("c", {4}, {1, 2, 3, 4});
  auto& n = b.Node("Gemm", {"a", "b", "c"}, {"y"}, "fc");
  SetInt(n, "transB", 1);
  SetFloat(n, "alpha", 2.0f);
  SetFloat(n, "beta", 0.5f);
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  ASSERT_EQ(Ops(*g), std::vector<OpCode>{OpCode::FULLY_CONNECTED});
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{2, 4}));
  const ir::Node& fc = g->nodes[0];
  const ir::Tensor& w = g->tensors[fc.inputs[1]];
  EXPECT_EQ(w.shape, (Shape{4, 3}));
  std::vector<float> expect_w;
  for (float v : bv) expect_w.push_back(2 * v);
  EXPECT_EQ(FloatValues(w), expect_w);
  EXPECT_EQ(FloatValues(g->tensors[fc.inputs[2]]), (std::vector<float>{0.5f, 1, 1.5f, 2}));

  // Without transB the weights are B transposed.
  OnnxBuilder b2;
  b2.Input("a", {2, 3}).Output("y");
  b2.Floats("b", {3, 2}, {1, 2, 3, 4, 5, 6});
  b2.Node("Gemm", {"a", "b"}, {"y"}, "fc");
  auto g2 = b2.Import();
  ASSERT_TRUE(g2.ok()) << g2.message();
  const ir::Tensor& w2 = g2->tensors[g2->nodes[0].inputs[1]];
  EXPECT_EQ(w2.shape, (Shape{2, 3}));
  EXPECT_EQ(FloatValues(w2), (std::vector<float>{1, 3, 5, 2, 4, 6}));
}

TEST(OnnxImport, GemmMatrixBiasAndRuntimeB) {
  OnnxBuilder b;
  b.Input("a", {2, 3}).Output("y");
  b.Floats("b", {3, 2}, {1, 2, 3, 4, 5, 6}).Floats("c", {2, 2}, {1, 2, 3, 4});
  b.Node("Gemm", {"a", "b", "c"}, {"y"}, "fc");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(Ops(*g), (std::vector<OpCode>{OpCode::FULLY_CONNECTED, OpCode::ADD}));

  OnnxBuilder r;
  r.Input("a", {2, 3}).Input("b", {2, 3}).Output("y");
  auto& n = r.Node("Gemm", {"a", "b"}, {"y"}, "mm");
  SetInt(n, "transB", 1);
  SetFloat(n, "alpha", 3.0f);
  auto gr = r.Import();
  ASSERT_TRUE(gr.ok()) << gr.message();
  EXPECT_EQ(Ops(*gr), (std::vector<OpCode>{OpCode::TRANSPOSE, OpCode::MATMUL, OpCode::MUL}));
  EXPECT_EQ(OutputTensor(*gr).shape, (Shape{2, 2}));
}

TEST(OnnxImport, MatMulShapes) {
  OnnxBuilder b;
  b.Input("a", {2, 1, 3, 4}).Input("b", {5, 4, 6}).Input("v", {6}).Output("y").Output("z");
  b.Node("MatMul", {"a", "b"}, {"y"});
  b.Node("MatMul", {"y", "v"}, {"z"});
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(OutputTensor(*g, 0).shape, (Shape{2, 5, 3, 6}));
  EXPECT_EQ(OutputTensor(*g, 1).shape, (Shape{2, 5, 3}));
}

// --- Softmax ------------------------------------------------------------------------------------

TEST(OnnxImport, SoftmaxOpset11FlattensAndOpset13UsesOneAxis) {
  for (int opset : {11, 13}) {
    OnnxBuilder b(opset);
    b.Input("x", {2, 3, 4}).Output("y");
    SetInt(b.Node("Softmax", {"x"}, {"y"}, "sm"), "axis", 1);
    auto g = b.Import();
    ASSERT_TRUE(g.ok()) << g.message();
    EXPECT_EQ(OutputTensor(*g).shape, (Shape{2, 3, 4}));
    if (opset == 11) {
      ASSERT_EQ(Ops(*g), (std::vector<OpCode>{OpCode::RESHAPE, OpCode::SOFTMAX, OpCode::RESHAPE}));
      EXPECT_EQ(g->tensors[g->nodes[1].inputs[0]].shape, (Shape{2, 12}));
      EXPECT_EQ(g->nodes[1].options.AsSoftmaxOptions()->axis, 1);
    } else {
      ASSERT_EQ(Ops(*g), std::vector<OpCode>{OpCode::SOFTMAX});
      EXPECT_EQ(g->nodes[0].options.AsSoftmaxOptions()->axis, 1);
    }
  }
}

// --- Tensor ops -------------------------------------------------------------------------------

const opm::SliceOptionsT& SliceOf(const ir::Graph& g) {
  return *g.nodes.at(0).options.AsSliceOptions();
}

TEST(OnnxImport, SliceClampsLikeOnnx) {
  OnnxBuilder b;
  b.Input("x", {5, 6}).Output("y");
  // Axis 0: start -100 clamps to 0, end 1000 to 5. Axis 1 backwards: start 100 clamps to 5,
  // end -100 to -1, step -2: indices 5, 3, 1.
  b.Ints("starts", {2}, {-100, 100})
      .Ints("ends", {2}, {1000, -100})
      .Ints("axes", {2}, {0, -1})
      .Ints("steps", {2}, {1, -2});
  b.Node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"}, "s");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{5, 3}));
  EXPECT_EQ(SliceOf(*g).starts, (std::vector<int32_t>{0, 5}));
  EXPECT_EQ(SliceOf(*g).steps, (std::vector<int32_t>{1, -2}));

  // A start past the end gives an empty slice, which a runtime tensor cannot be.
  OnnxBuilder e;
  e.Input("x", {5, 6}).Output("y");
  e.Ints("starts", {1}, {7}).Ints("ends", {1}, {9}).Ints("axes", {1}, {1});
  e.Node("Slice", {"x", "starts", "ends", "axes"}, {"y"}, "s");
  auto ge = e.Import();
  ASSERT_FALSE(ge.ok());
  EXPECT_NE(ge.message().find("unsupported empty tensor"), std::string::npos) << ge.message();
}

TEST(OnnxImport, ResizeScalesVersusSizes) {
  OnnxBuilder b;
  b.Input("x", {1, 1, 3, 4}).Output("y").Output("z");
  b.Floats("roi", {0}, {}).Floats("scales", {4}, {1, 1, 2, 1.5f}).Ints("sizes", {4}, {1, 1, 5, 7});
  auto& up = b.Node("Resize", {"x", "roi", "scales"}, {"y"}, "up");
  SetString(up, "mode", "linear");
  auto& sized = b.Node("Resize", {"x", "roi", "", "sizes"}, {"z"}, "sized");
  SetString(sized, "coordinate_transformation_mode", "asymmetric");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(OutputTensor(*g, 0).shape, (Shape{1, 1, 6, 6}));  // floor(in * scale)
  EXPECT_EQ(OutputTensor(*g, 1).shape, (Shape{1, 1, 5, 7}));
  const auto* o0 = g->nodes[0].options.AsResizeOptions();
  EXPECT_EQ(o0->mode, opm::ResizeMode::LINEAR);
  EXPECT_EQ(o0->scales, (std::vector<float>{1, 1, 2, 1.5f}));
  const auto* o1 = g->nodes[1].options.AsResizeOptions();
  EXPECT_EQ(o1->coordinate_transform, opm::CoordinateTransform::ASYMMETRIC);
  EXPECT_FLOAT_EQ(o1->scales[2], 5.0f / 3.0f);
  EXPECT_FLOAT_EQ(o1->scales[3], 7.0f / 4.0f);

  OnnxBuilder c;
  c.Input("x", {1, 1, 3, 4}).Output("y");
  c.Floats("roi", {0}, {}).Floats("scales", {4}, {1, 1, 2, 2});
  SetInt(c.Node("Resize", {"x", "roi", "scales"}, {"y"}, "r"), "antialias", 1);
  auto gc = c.Import();
  ASSERT_FALSE(gc.ok());
  EXPECT_NE(gc.message().find("unsupported Resize with antialias"), std::string::npos);
}

TEST(OnnxImport, ResizeCubic) {
  auto import = [](const std::string& mode, bool exclude_outside) {
    OnnxBuilder b;
    b.Input("x", {1, 1, 3, 4}).Output("y");
    b.Floats("roi", {0}, {}).Floats("scales", {4}, {1, 1, 2, 2});
    auto& n = b.Node("Resize", {"x", "roi", "scales"}, {"y"}, "r");
    SetString(n, "mode", mode);
    SetFloat(n, "cubic_coeff_a", -0.5f);
    SetInt(n, "exclude_outside", exclude_outside);
    return b.Import();
  };
  auto g = import("cubic", true);
  ASSERT_TRUE(g.ok()) << g.message();
  const auto* o = g->nodes[0].options.AsResizeOptions();
  EXPECT_EQ(o->mode, opm::ResizeMode::CUBIC);
  EXPECT_EQ(o->cubic_coeff_a, -0.5f);
  EXPECT_TRUE(o->exclude_outside);
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{1, 1, 6, 8}));
  // ONNX's reference would apply exclude_outside to nearest too, with NaN as a result.
  for (const char* mode : {"nearest", "linear"}) {
    g = import(mode, true);
    ASSERT_FALSE(g.ok()) << mode;
    EXPECT_NE(g.message().find("unsupported Resize exclude_outside"), std::string::npos)
        << g.message();
  }
}

TEST(OnnxImport, ResizeCropAndResizeNeedsRoiAndSizes) {
  auto import = [](const std::vector<float>& roi, bool sizes) {
    OnnxBuilder b;
    b.Input("x", {1, 1, 4, 4}).Output("y");
    b.Floats("roi", {static_cast<int64_t>(roi.size())}, roi)
        .Floats("scales", {4}, {1, 1, 0.75f, 0.75f})
        .Ints("sizes", {4}, {1, 1, 3, 3});
    auto& n =
        b.Node("Resize", {"x", "roi", sizes ? "" : "scales", sizes ? "sizes" : ""}, {"y"}, "crop");
    SetString(n, "mode", "linear");
    SetString(n, "coordinate_transformation_mode", "tf_crop_and_resize");
    SetFloat(n, "extrapolation_value", 10.0f);
    return b.Import();
  };
  const std::vector<float> roi = {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f};
  auto g = import(roi, true);
  ASSERT_TRUE(g.ok()) << g.message();
  const auto* o = g->nodes[0].options.AsResizeOptions();
  EXPECT_EQ(o->coordinate_transform, opm::CoordinateTransform::TF_CROP_AND_RESIZE);
  EXPECT_EQ(o->roi, roi);
  EXPECT_EQ(o->extrapolation_value, 10.0f);
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{1, 1, 3, 3}));

  g = import(roi, false);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("unsupported Resize tf_crop_and_resize with scales"),
            std::string::npos)
      << g.message();
  g = import({0, 0, 0.5f, 1, 1, 1}, true);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("roi of 8 values"), std::string::npos) << g.message();
  EXPECT_EQ(g.message().find("unsupported"), std::string::npos) << g.message();
  g = import({0, 0, 0.5f, NAN, 1, 1, 1, 1}, true);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("finite"), std::string::npos) << g.message();
}

TEST(OnnxImport, ShapeArithmeticFoldsToConstants) {
  // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): a flatten after the batch.
  OnnxBuilder b;
  b.Input("x", {2, 3, 4}).Output("y");
  b.Ints("zero", {}, {0}).Ints("minus1", {1}, {-1}).Ints("axes0", {1}, {0});
  b.Node("Shape", {"x"}, {"s"});
  b.Node("Gather", {"s", "zero"}, {"n"});
  b.Node("Unsqueeze", {"n", "axes0"}, {"n1"});
  SetInt(b.Node("Concat", {"n1", "minus1"}, {"target"}), "axis", 0);
  b.Node("Reshape", {"x", "target"}, {"y"});
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(Ops(*g), std::vector<OpCode>{OpCode::RESHAPE});
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{2, 12}));
  EXPECT_EQ(g->nodes[0].inputs.size(), 1u);
}

TEST(OnnxImport, ConstantGraphOutputIsMaterialized) {
  OnnxBuilder b(15);
  b.Input("x", {2, 3, 4}).Output("s");
  SetInt(b.Node("Shape", {"x"}, {"s"}), "start", 1);
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  ASSERT_EQ(Ops(*g), std::vector<OpCode>{OpCode::RESHAPE});
  const ir::Tensor& out = OutputTensor(*g);
  EXPECT_EQ(out.name, "s");
  EXPECT_FALSE(out.constant);
  EXPECT_EQ(out.dtype, opm::DType::INT64);
  const ir::Tensor& src = g->tensors[g->nodes[0].inputs[0]];
  ASSERT_TRUE(src.constant);
  EXPECT_EQ(src.values<int64_t>()[0], 3);
  EXPECT_EQ(src.values<int64_t>()[1], 4);
  EXPECT_EQ(emit::RunGraph(*g, {std::vector<uint8_t>(24 * 4)})[0], src.data);
}

TEST(OnnxImport, GatherScalarIndexOnRuntimeTensorIsSliceAndReshape) {
  OnnxBuilder b;
  b.Input("x", {4, 5}).Output("y");
  b.Ints("i", {}, {-2});
  SetInt(b.Node("Gather", {"x", "i"}, {"y"}, "g"), "axis", 0);
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(Ops(*g), (std::vector<OpCode>{OpCode::SLICE, OpCode::RESHAPE}));
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{5}));
  EXPECT_EQ(SliceOf(*g).starts, (std::vector<int32_t>{2, 0}));
}

TEST(OnnxImport, UnsqueezeAxesAttributeBeforeOpset13InputAfter) {
  OnnxBuilder b11(11);
  b11.Input("x", {3, 4}).Output("y");
  SetInts(b11.Node("Unsqueeze", {"x"}, {"y"}), "axes", {0, -1});
  auto g11 = b11.Import();
  ASSERT_TRUE(g11.ok()) << g11.message();
  EXPECT_EQ(OutputTensor(*g11).shape, (Shape{1, 3, 4, 1}));

  OnnxBuilder b13(13);
  b13.Input("x", {3, 4}).Output("y");
  b13.Ints("axes", {2}, {0, -1});
  b13.Node("Unsqueeze", {"x", "axes"}, {"y"});
  auto g13 = b13.Import();
  ASSERT_TRUE(g13.ok()) << g13.message();
  EXPECT_EQ(OutputTensor(*g13).shape, (Shape{1, 3, 4, 1}));
}

TEST(OnnxImport, ClipBounds) {
  OnnxBuilder b(13);
  b.Input("x", {4}).Output("y").Output("z");
  b.Floats("lo", {}, {-1.0f});
  b.Node("Clip", {"x", "lo"}, {"y"});
  b.Node("Clip", {"x"}, {"z"});
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  const auto* c0 = g->nodes[0].options.AsClipOptions();
  EXPECT_EQ(c0->min, -1.0f);
  EXPECT_TRUE(std::isinf(c0->max) && c0->max > 0);
  const auto* c1 = g->nodes[1].options.AsClipOptions();
  EXPECT_TRUE(std::isinf(c1->min) && c1->min < 0);
}

TEST(OnnxImport, IdentityAndDropoutVanish) {
  OnnxBuilder b;
  b.Input("x", {2, 2}).Output("y");
  b.Node("Relu", {"x"}, {"r"});
  b.Node("Dropout", {"r"}, {"d"});
  b.Node("Identity", {"d"}, {"y"});
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(Ops(*g), std::vector<OpCode>{OpCode::RELU});
  EXPECT_EQ(OutputTensor(*g).name, "y");
}

TEST(OnnxImport, PadTakesPadsAndValueAsInputs) {
  OnnxBuilder b(13);
  b.Input("x", {2, 3}).Output("y");
  b.Ints("pads", {4}, {0, 1, 2, -1}).Floats("value", {}, {1.5f});
  SetString(b.Node("Pad", {"x", "pads", "value"}, {"y"}), "mode", "constant");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(OutputTensor(*g).shape, (Shape{4, 3}));
  const auto* p = g->nodes[0].options.AsPadOptions();
  EXPECT_EQ(p->pads, (std::vector<int32_t>{0, 1, 2, -1}));
  EXPECT_EQ(p->value, 1.5f);
}

TEST(OnnxImport, ComputeOnConstantsIsEvaluated) {
  OnnxBuilder b;
  b.Input("x", {3}).Output("y");
  b.Floats("c", {3}, {-1.0f, 2.0f, -3.0f});
  b.Node("Relu", {"c"}, {"rc"});
  b.Node("Add", {"x", "rc"}, {"y"});
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.message();
  ASSERT_EQ(Ops(*g), std::vector<OpCode>{OpCode::ADD});
  EXPECT_EQ(FloatValues(g->tensors[g->nodes[0].inputs[1]]), (std::vector<float>{0, 2, 0}));
}

TEST(OnnxImport, SupportedOperatorList) {
  const std::vector<std::string> ops = import::SupportedOnnxOperators();
  for (const char* op : {"Conv", "Gemm", "Resize", "Shape", "Where", "Identity"})
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
}

}  // namespace
}  // namespace outpost
