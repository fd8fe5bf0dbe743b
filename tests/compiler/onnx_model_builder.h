// Builds small ONNX models in memory with the ONNX protobuf API, for importer tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "compiler/import/onnx_importer.h"
#include "onnx/onnx_pb.h"

namespace outpost::testing {

class OnnxModelBuilder {
 public:
  explicit OnnxModelBuilder(int opset = 13) {
    model_.set_ir_version(8);
    model_.set_producer_name("qdq_test");
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    model_.mutable_graph()->set_name("qdq_graph");
  }

  OnnxModelBuilder& Input(const std::string& name, const std::vector<int64_t>& shape,
                          int type = onnx::TensorProto::FLOAT) {
    auto* v = model_.mutable_graph()->add_input();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
    return *this;
  }

  OnnxModelBuilder& Output(const std::string& name) {
    model_.mutable_graph()->add_output()->set_name(name);
    return *this;
  }

  // An initializer of ONNX type `type` holding `values` (converted to that type, stored raw).
  template <typename T>
  OnnxModelBuilder& Init(const std::string& name, int type, const std::vector<int64_t>& shape,
                         const std::vector<T>& values) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : shape) t->add_dims(d);
    std::string raw;
    for (T v : values) {
      switch (type) {
        case onnx::TensorProto::FLOAT: Append<float>(raw, static_cast<float>(v)); break;
        case onnx::TensorProto::INT8: Append<int8_t>(raw, static_cast<int8_t>(v)); break;
        case onnx::TensorProto::UINT8: Append<uint8_t>(raw, static_cast<uint8_t>(v)); break;
        case onnx::TensorProto::INT32: Append<int32_t>(raw, static_cast<int32_t>(v)); break;
        case onnx::TensorProto::INT64: Append<int64_t>(raw, static_cast<int64_t>(v)); break;
        default: break;
      }
    }
    t->set_raw_data(raw);
    return *this;
  }
  OnnxModelBuilder& Floats(const std::string& name, const std::vector<int64_t>& shape,
                           const std::vector<float>& v) {
    return Init(name, onnx::TensorProto::FLOAT, shape, v);
  }
  OnnxModelBuilder& Scalar(const std::string& name, float v) {
    return Init(name, onnx::TensorProto::FLOAT, {}, std::vector<float>{v});
  }
  // A scalar zero point of ONNX type INT8 or UINT8.
  OnnxModelBuilder& ZeroPoint(const std::string& name, int type, int v) {
    return Init(name, type, {}, std::vector<int>{v});
  }

  onnx::NodeProto& Node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? outputs.at(0) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  onnx::ModelProto& model() { return model_; }
  Expected<ir::Graph> Import(const import::ImportOptions& options = {}) const {
    return import::ImportOnnxModel(model_, options);
  }

 private:
  template <typename T>
  static void Append(std::string& raw, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    raw.append(b, sizeof(T));
  }

  onnx::ModelProto model_;
};

inline void SetIntAttr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

inline void SetIntsAttr(onnx::NodeProto& n, const std::string& name,
                        const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

}  // namespace outpost::testing
