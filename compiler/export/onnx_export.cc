#include "compiler/export/onnx_export.h"

#include <cctype>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "common/expected.h"
#include "onnx/onnx_pb.h"
#include "runtime/fp16.h"

namespace outpost::exporter {
namespace {

using ir::DType;
using ir::OpCode;
using onnx::TensorProto;

int OnnxType(DType t) {
  switch (t) {
    case DType::FLOAT32: return TensorProto::FLOAT;
    case DType::INT8: return TensorProto::INT8;
    case DType::UINT8: return TensorProto::UINT8;
    case DType::INT16: return TensorProto::INT16;
    case DType::INT32: return TensorProto::INT32;
    case DType::INT64: return TensorProto::INT64;
    case DType::BOOL: return TensorProto::BOOL;
    case DType::FLOAT16: return TensorProto::FLOAT16;
  }
  throw Error("unknown dtype");
}

bool IsQuantized(const ir::Tensor& t) {
  return t.quant.present() && (t.dtype == DType::INT8 || t.dtype == DType::UINT8 ||
                               t.dtype == DType::INT32 || t.dtype == DType::INT16);
}

class Exporter {
 public:
  Exporter(const ir::Graph& g, const OnnxExportOptions& o) : g_(g), opts_(o) {}

  std::string Run() {
    onnx::ModelProto model;
    model.set_ir_version(8);
    model.set_producer_name(opts_.producer_name);
    model.set_model_version(1);
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(opts_.opset);
    for (const auto& [k, v] : ModelMetadata()) {
      auto* p = model.add_metadata_props();
      p->set_key(k);
      p->set_value(v);
    }
    graph_ = model.mutable_graph();
    graph_->set_name(g_.info.name.empty() ? "outpost" : g_.info.name);

    for (int i : g_.inputs) AddValueInfo(graph_->add_input(), g_.tensors[i], g_.tensors[i].name);
    for (size_t i = 0; i < g_.tensors.size(); ++i)
      if (g_.tensors[i].constant) AddInitializer(g_.tensors[i], g_.tensors[i].name);
    for (const ir::Node& n : g_.nodes) ExportNode(n);
    for (int i : g_.outputs) AddValueInfo(graph_->add_output(), g_.tensors[i], g_.tensors[i].name);

    std::string bytes;
    if (!model.SerializeToString(&bytes)) throw Error("export: ONNX serialization failed");
    return bytes;
  }

 private:
  // ---- building blocks

  // The model's metadata plus what the importer reads from outpost.* keys (task, labels, input
  // preprocessing), so that importing the export gives back the same model description.
  std::map<std::string, std::string> ModelMetadata() const {
    std::map<std::string, std::string> m = g_.info.metadata;
    const auto join = [](const auto& values, auto text) {
      std::string out;
      for (const auto& v : values) out += (out.empty() ? "" : ",") + text(v);
      return out;
    };
    const auto number = [](float v) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));  // round-trips a float
      return std::string(buf);
    };
    std::string task = opm::EnumNameTask(g_.info.task);
    for (char& c : task) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    m["outpost.task"] = task;
    if (!g_.info.labels.empty())
      m["outpost.labels"] = join(g_.info.labels, [](const std::string& s) { return s; });
    if (!g_.info.input_specs.empty()) {
      const ir::InputSpec& s = g_.info.input_specs[0];
      static const char* kLayouts[] = {"any", "nchw", "nhwc"};
      static const char* kColors[] = {"none", "gray", "rgb", "bgr"};
      m["outpost.layout"] = kLayouts[static_cast<int>(s.layout) % 3];
      m["outpost.color"] = kColors[static_cast<int>(s.color) % 4];
      m["outpost.value_scale"] = number(s.value_scale);
      if (!s.mean.empty()) m["outpost.mean"] = join(s.mean, number);
      if (!s.std.empty()) m["outpost.std"] = join(s.std, number);
    }
    return m;
  }

  static void AddValueInfo(onnx::ValueInfoProto* v, const ir::Tensor& t, const std::string& name) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(OnnxType(t.dtype));
    for (int64_t d : t.shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }

  void AddInitializer(const ir::Tensor& t, const std::string& name) {
    TensorProto* p = graph_->add_initializer();
    p->set_name(name);
    p->set_data_type(OnnxType(t.dtype));
    for (int64_t d : t.shape) p->add_dims(d);
    p->set_raw_data(t.data.data(), t.data.size());
  }

  template <typename T>
  std::string Constant(const std::string& base, int onnx_type, const std::vector<T>& values,
                       bool scalar) {
    const std::string name = Fresh(base);
    TensorProto* p = graph_->add_initializer();
    p->set_name(name);
    p->set_data_type(onnx_type);
    if (!scalar) p->add_dims(static_cast<int64_t>(values.size()));
    p->set_raw_data(values.data(), values.size() * sizeof(T));
    return name;
  }

  std::string Fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; used_.count(name) || TensorNamed(name); ++k) name = base + "_" + std::to_string(k);
    used_.insert(name);
    return name;
  }

  bool TensorNamed(const std::string& name) const {
    if (names_.empty())
      for (const ir::Tensor& t : g_.tensors) names_.insert(t.name);
    return names_.count(name) > 0;
  }

  onnx::NodeProto* Node(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    onnx::NodeProto* n = graph_->add_node();
    n->set_op_type(op);
    n->set_name(Fresh(name.empty() ? op : name));
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return n;
  }

  static void Ints(onnx::NodeProto* n, const char* name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void Int(onnx::NodeProto* n, const char* name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void Float(onnx::NodeProto* n, const char* name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void String(onnx::NodeProto* n, const char* name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }

  // OnnxExportOptions::uint8_activations: tensor `t` is an int8 activation written as uint8.
  bool ShiftedToUint8(const ir::Tensor& t) const {
    if (!opts_.uint8_activations || t.dtype != DType::INT8 || t.constant || !t.quant.present())
      return false;
    for (int i : g_.inputs)
      if (&g_.tensors[i] == &t) return false;
    for (int i : g_.outputs)
      if (&g_.tensors[i] == &t) return false;
    return true;
  }

  // Scale and zero-point initializers of a quantized tensor (zero point in the tensor's type).
  std::pair<std::string, std::string> QuantParams(const ir::Tensor& t) {
    const bool scalar = t.quant.axis < 0;
    const std::string s = Constant(t.name + "_scale", TensorProto::FLOAT, t.quant.scale, scalar);
    std::string z;
    if (ShiftedToUint8(t)) {
      std::vector<uint8_t> v;
      for (int64_t zp : t.quant.zero_point) v.push_back(static_cast<uint8_t>(zp + 128));
      return {s, Constant(t.name + "_zero_point", TensorProto::UINT8, v, scalar)};
    }
    switch (t.dtype) {
      case DType::INT8: {
        std::vector<int8_t> v(t.quant.zero_point.begin(), t.quant.zero_point.end());
        z = Constant(t.name + "_zero_point", TensorProto::INT8, v, scalar);
        break;
      }
      case DType::UINT8: {
        std::vector<uint8_t> v(t.quant.zero_point.begin(), t.quant.zero_point.end());
        z = Constant(t.name + "_zero_point", TensorProto::UINT8, v, scalar);
        break;
      }
      case DType::INT32: {
        std::vector<int32_t> v(t.quant.zero_point.begin(), t.quant.zero_point.end());
        z = Constant(t.name + "_zero_point", TensorProto::INT32, v, scalar);
        break;
      }
      default: throw Error("export: tensor '" + t.name + "' has quantization on an unsupported dtype");
    }
    return {s, z};
  }

  // The ONNX name holding tensor `index` as float: itself when float, otherwise a
  // DequantizeLinear of it (made once), or a Cast for fp16 weights.
  std::string FloatValue(int index) {
    if (index < 0) return "";
    const ir::Tensor& t = g_.tensors[index];
    if (t.dtype == DType::FLOAT32) return t.name;
    auto it = float_of_.find(index);
    if (it != float_of_.end()) return it->second;
    std::string out;
    if (t.dtype == DType::FLOAT16) {
      out = Fresh(t.name + "_f32");
      Int(Node("Cast", t.name + "_cast", {t.name}, {out}), "to", TensorProto::FLOAT);
    } else if (IsQuantized(t)) {
      out = Fresh(t.name + "_dq");
      const auto [s, z] = QuantParams(t);
      onnx::NodeProto* n = Node("DequantizeLinear", t.name + "_dq", {t.name, s, z}, {out});
      if (t.quant.axis >= 0) Int(n, "axis", t.quant.axis);
    } else {
      throw Error("export: tensor '" + t.name + "' (" + opm::EnumNameDType(t.dtype) +
                  ") is read as float but has no quantization");
    }
    float_of_[index] = out;
    return out;
  }

  // Where a node writes tensor `index`: the float name when the tensor is quantized (a
  // QuantizeLinear then produces the tensor itself; see Finish).
  std::string FloatResult(int index) {
    const ir::Tensor& t = g_.tensors[index];
    if (!IsQuantized(t)) return t.name;
    const std::string f = Fresh(t.name + "_f32");
    pending_.push_back({index, f});
    return f;
  }

  // Emits the QuantizeLinear of every quantized result the last node produced.
  void Finish() {
    for (const auto& [index, f] : pending_) {
      const ir::Tensor& t = g_.tensors[index];
      const auto [s, z] = QuantParams(t);
      onnx::NodeProto* n = Node("QuantizeLinear", t.name + "_q", {f, s, z}, {t.name});
      if (t.quant.axis >= 0) Int(n, "axis", t.quant.axis);
      // Consumers read the tensor through a DequantizeLinear (FloatValue), so they see the
      // rounded values exactly as the integer graph does.
    }
    pending_.clear();
  }

  // `y` = activation(x) for a fused activation; returns the name holding the result.
  void Activation(const ir::Node& node, opm::Activation a, float lo, float hi,
                  const std::string& x, const std::string& y) {
    switch (a) {
      case opm::Activation::NONE: return;
      case opm::Activation::RELU: Node("Relu", node.name + "_relu", {x}, {y}); return;
      case opm::Activation::CLIP:
        Node("Clip", node.name + "_clip",
             {x, Constant<float>(node.name + "_min", TensorProto::FLOAT, {lo}, true),
              Constant<float>(node.name + "_max", TensorProto::FLOAT, {hi}, true)},
             {y});
        return;
      case opm::Activation::HARD_SWISH: Node("HardSwish", node.name + "_hswish", {x}, {y}); return;
    }
    throw Error("export: node '" + node.name + "' has an unknown fused activation");
  }

  // Runs `build(out)` writing into a temporary when a fused activation follows.
  template <typename Build>
  void WithActivation(const ir::Node& n, opm::Activation a, float lo, float hi, Build build) {
    const std::string y = FloatResult(n.outputs[0]);
    if (a == opm::Activation::NONE) {
      build(y);
    } else {
      const std::string pre = Fresh(g_.tensors[n.outputs[0]].name + "_preact");
      build(pre);
      Activation(n, a, lo, hi, pre, y);
    }
    Finish();
  }

  std::vector<std::string> FloatInputs(const ir::Node& n) {
    std::vector<std::string> v;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const int i = n.inputs[k];
      v.push_back(i < 0 ? "" : k == 2 && IsLinear(n) ? BiasValue(n) : FloatValue(i));
    }
    return v;
  }

  static bool IsLinear(const ir::Node& n) {
    return n.op == OpCode::CONV_2D || n.op == OpCode::FULLY_CONNECTED;
  }

  // An int32 bias's scale is s_input * s_weight[c] by the scheme; when the tensor does not
  // carry it, it is derived from the layer's input and weights.
  std::string BiasValue(const ir::Node& n) {
    const int bi = n.inputs[2];
    const ir::Tensor& b = g_.tensors[bi];
    if (b.dtype != DType::INT32 || b.quant.present()) return FloatValue(bi);
    auto it = float_of_.find(bi);
    if (it != float_of_.end()) return it->second;
    const ir::Tensor& x = g_.tensors[n.inputs[0]];
    const ir::Tensor& w = g_.tensors[n.inputs[1]];
    if (!x.quant.present() || !w.quant.present())
      throw Error("export: int32 bias '" + b.name + "' of node '" + n.name +
                  "' has no scale and its layer's input or weights are not quantized");
    std::vector<float> scale;
    const int64_t channels = b.num_elements();
    for (int64_t c = 0; c < channels; ++c)
      scale.push_back(x.quant.scale[0] *
                      w.quant.scale[w.quant.scale.size() == 1 ? 0 : static_cast<size_t>(c)]);
    const std::string s = Constant(b.name + "_scale", TensorProto::FLOAT, scale, false);
    const std::string z = Constant(b.name + "_zero_point", TensorProto::INT32,
                                   std::vector<int32_t>(static_cast<size_t>(channels), 0), false);
    const std::string out = Fresh(b.name + "_dq");
    Int(Node("DequantizeLinear", b.name + "_dq", {b.name, s, z}, {out}), "axis", 0);
    float_of_[bi] = out;
    return out;
  }

  // ---- operators

  void ExportNode(const ir::Node& n) {
    const auto& o = n.options;
    switch (n.op) {
      case OpCode::CONV_2D: return Conv(n);
      case OpCode::FULLY_CONNECTED: {
        const auto* f = o.AsFullyConnectedOptions();
        if (IsRawInt32(n)) return Integer(n, "MatMulInteger", true);
        WithActivation(n, f->activation, f->act_min, f->act_max, [&](const std::string& y) {
          auto in = FloatInputs(n);
          Int(Node("Gemm", n.name, in, {y}), "transB", 1);
        });
        return;
      }
      case OpCode::MATMUL:
        if (IsRawInt32(n)) return Integer(n, "MatMulInteger", false);
        return Simple(n, "MatMul");
      case OpCode::ADD: return Binary(n, "Add");
      case OpCode::SUB: return Binary(n, "Sub");
      case OpCode::MUL: return Binary(n, "Mul");
      case OpCode::DIV: return Binary(n, "Div");
      case OpCode::RELU: return Simple(n, "Relu");
      case OpCode::SIGMOID: return Simple(n, "Sigmoid");
      case OpCode::TANH: return Simple(n, "Tanh");
      case OpCode::HARD_SWISH: return Simple(n, "HardSwish");
      case OpCode::PRELU: return Simple(n, "PRelu");
      case OpCode::GLOBAL_AVERAGE_POOL: return Simple(n, "GlobalAveragePool");
      case OpCode::GLOBAL_MAX_POOL: return Simple(n, "GlobalMaxPool");
      case OpCode::LEAKY_RELU: {
        const float alpha = o.AsLeakyReluOptions()->alpha;
        return Simple(n, "LeakyRelu", [&](onnx::NodeProto* p) { Float(p, "alpha", alpha); });
      }
      case OpCode::HARD_SIGMOID: {
        const auto* h = o.AsHardSigmoidOptions();
        return Simple(n, "HardSigmoid", [&](onnx::NodeProto* p) {
          Float(p, "alpha", h->alpha);
          Float(p, "beta", h->beta);
        });
      }
      case OpCode::CLIP: {
        const auto* c = o.AsClipOptions();
        const std::string lo = Constant<float>(n.name + "_min", TensorProto::FLOAT, {c->min}, true);
        const std::string hi = Constant<float>(n.name + "_max", TensorProto::FLOAT, {c->max}, true);
        const std::string x = FloatValue(n.inputs[0]);
        Node("Clip", n.name, {x, lo, hi}, {FloatResult(n.outputs[0])});
        Finish();
        return;
      }
      case OpCode::SOFTMAX: {
        const int axis = o.AsSoftmaxOptions()->axis;
        return Simple(n, "Softmax", [&](onnx::NodeProto* p) { Int(p, "axis", axis); });
      }
      case OpCode::MAX_POOL_2D:
      case OpCode::AVERAGE_POOL_2D: return Pool(n);
      case OpCode::CONCAT: {
        const int axis = o.AsConcatOptions()->axis;
        return Simple(n, "Concat", [&](onnx::NodeProto* p) { Int(p, "axis", axis); });
      }
      case OpCode::RESHAPE: {
        const ir::Tensor& y = g_.tensors[n.outputs[0]];
        const std::string shape =
            Constant<int64_t>(n.name + "_shape", TensorProto::INT64, y.shape, false);
        Node("Reshape", n.name, {FloatValue(n.inputs[0]), shape}, {FloatResult(n.outputs[0])});
        Finish();
        return;
      }
      case OpCode::TRANSPOSE: {
        const auto& perm = o.AsTransposeOptions()->perm;
        std::vector<int64_t> p(perm.begin(), perm.end());
        return Simple(n, "Transpose", [&](onnx::NodeProto* node) { Ints(node, "perm", p); });
      }
      case OpCode::PAD: return Pad(n);
      case OpCode::SLICE: return Slice(n);
      case OpCode::SPLIT: return Split(n);
      case OpCode::REDUCE_MEAN: {
        const auto* r = o.AsReduceOptions();
        std::vector<int64_t> axes(r->axes.begin(), r->axes.end());
        const bool keep = r->keep_dims;
        return Simple(n, "ReduceMean", [&](onnx::NodeProto* p) {
          Ints(p, "axes", axes);
          Int(p, "keepdims", keep ? 1 : 0);
        });
      }
      case OpCode::QUANTIZE: return Quantize(n);
      case OpCode::DEQUANTIZE: return Dequantize(n);
      default:
        throw Error("export: node '" + n.name + "' (" + opm::EnumNameOpCode(n.op) +
                    ") has no ONNX export");
    }
  }

  bool IsRawInt32(const ir::Node& n) const {
    const ir::Tensor& y = g_.tensors[n.outputs[0]];
    return y.dtype == DType::INT32 && !y.quant.present();
  }

  template <typename Attrs = void (*)(onnx::NodeProto*)>
  void Simple(const ir::Node& n, const char* op, Attrs attrs = [](onnx::NodeProto*) {}) {
    std::vector<std::string> outs;
    for (int i : n.outputs) outs.push_back(FloatResult(i));
    attrs(Node(op, n.name, FloatInputs(n), outs));
    Finish();
  }

  void Binary(const ir::Node& n, const char* op) {
    const auto* b = n.options.AsBinaryOptions();
    const opm::Activation a = b ? b->activation : opm::Activation::NONE;
    WithActivation(n, a, b ? b->act_min : 0, b ? b->act_max : 0,
                   [&](const std::string& y) { Node(op, n.name, FloatInputs(n), {y}); });
  }

  void Conv(const ir::Node& n) {
    const auto* c = n.options.AsConv2DOptions();
    auto attrs = [&](onnx::NodeProto* p) {
      const ir::Tensor& w = g_.tensors[n.inputs[1]];
      Ints(p, "kernel_shape", {w.shape[2], w.shape[3]});
      Ints(p, "strides", {c->stride_h, c->stride_w});
      Ints(p, "dilations", {c->dilation_h, c->dilation_w});
      Ints(p, "pads", {c->pad_top, c->pad_left, c->pad_bottom, c->pad_right});
      Int(p, "group", c->groups);
    };
    if (IsRawInt32(n)) {
      attrs(IntegerNode(n, "ConvInteger", false));
      return;
    }
    WithActivation(n, c->activation, c->act_min, c->act_max,
                   [&](const std::string& y) { attrs(Node("Conv", n.name, FloatInputs(n), {y})); });
  }

  // ConvInteger / MatMulInteger: integer inputs with their zero points, raw int32 result.
  onnx::NodeProto* IntegerNode(const ir::Node& n, const char* op, bool transpose_b) {
    const ir::Tensor& x = g_.tensors[n.inputs[0]];
    const ir::Tensor& w = g_.tensors[n.inputs[1]];
    if (n.inputs.size() > 2 && n.inputs[2] >= 0)
      throw Error("export: node '" + n.name + "' adds a bias to raw int32 accumulators");
    std::string wname = w.name;
    if (transpose_b) {  // FULLY_CONNECTED keeps W as [O, K]; MatMulInteger wants [K, O]
      wname = Fresh(w.name + "_t");
      Ints(Node("Transpose", n.name + "_wt", {w.name}, {wname}), "perm", {1, 0});
    }
    const auto zp = [&](const ir::Tensor& t) {
      if (!t.quant.present()) return std::string();
      return QuantParams(t).second;
    };
    return Node(op, n.name, {x.name, wname, zp(x), zp(w)}, {g_.tensors[n.outputs[0]].name});
  }
  void Integer(const ir::Node& n, const char* op, bool transpose_b) { IntegerNode(n, op, transpose_b); }

  void Pool(const ir::Node& n) {
    const auto* p = n.options.AsPool2DOptions();
    const bool max = n.op == OpCode::MAX_POOL_2D;
    if (!max && (p->dilation_h != 1 || p->dilation_w != 1))
      throw Error("export: node '" + n.name + "': dilated average pooling needs opset 19");
    Simple(n, max ? "MaxPool" : "AveragePool", [&](onnx::NodeProto* node) {
      Ints(node, "kernel_shape", {p->kernel_h, p->kernel_w});
      Ints(node, "strides", {p->stride_h, p->stride_w});
      Ints(node, "pads", {p->pad_top, p->pad_left, p->pad_bottom, p->pad_right});
      if (max) {
        Ints(node, "dilations", {p->dilation_h, p->dilation_w});
        if (p->storage_order != 0) Int(node, "storage_order", p->storage_order);
      } else if (p->count_include_pad) {
        Int(node, "count_include_pad", 1);
      }
    });
  }

  void Pad(const ir::Node& n) {
    const auto* p = n.options.AsPadOptions();
    std::vector<int64_t> pads(p->pads.begin(), p->pads.end());
    const std::string pn = Constant<int64_t>(n.name + "_pads", TensorProto::INT64, pads, false);
    std::vector<std::string> in = {FloatValue(n.inputs[0]), pn};
    if (p->mode == opm::PadMode::CONSTANT)
      in.push_back(Constant<float>(n.name + "_value", TensorProto::FLOAT, {p->value}, true));
    onnx::NodeProto* node = Node("Pad", n.name, in, {FloatResult(n.outputs[0])});
    String(node, "mode", p->mode == opm::PadMode::CONSTANT ? "constant"
                         : p->mode == opm::PadMode::REFLECT ? "reflect" : "edge");
    Finish();
  }

  void Slice(const ir::Node& n) {
    const auto* s = n.options.AsSliceOptions();
    const ir::Tensor& y = g_.tensors[n.outputs[0]];
    std::vector<int64_t> starts, ends, axes, steps;
    for (size_t a = 0; a < s->starts.size(); ++a) {
      const int64_t start = s->starts[a], step = s->steps[a], count = y.shape[a];
      int64_t end = start + count * step;
      if (step < 0 && end < 0) end = INT64_MIN;  // "before the first element", not "from the end"
      starts.push_back(start);
      ends.push_back(end);
      axes.push_back(static_cast<int64_t>(a));
      steps.push_back(step);
    }
    Node("Slice", n.name,
         {FloatValue(n.inputs[0]),
          Constant<int64_t>(n.name + "_starts", TensorProto::INT64, starts, false),
          Constant<int64_t>(n.name + "_ends", TensorProto::INT64, ends, false),
          Constant<int64_t>(n.name + "_axes", TensorProto::INT64, axes, false),
          Constant<int64_t>(n.name + "_steps", TensorProto::INT64, steps, false)},
         {FloatResult(n.outputs[0])});
    Finish();
  }

  void Split(const ir::Node& n) {
    const int axis = n.options.AsSplitOptions()->axis;
    const int rank = static_cast<int>(g_.tensors[n.inputs[0]].shape.size());
    const int a = axis < 0 ? axis + rank : axis;
    std::vector<int64_t> sizes;
    std::vector<std::string> outs;
    for (int i : n.outputs) {
      sizes.push_back(g_.tensors[i].shape[a]);
      outs.push_back(FloatResult(i));
    }
    const std::string split = Constant<int64_t>(n.name + "_split", TensorProto::INT64, sizes, false);
    Int(Node("Split", n.name, {FloatValue(n.inputs[0]), split}, outs), "axis", axis);
    Finish();
  }

  void Dequantize(const ir::Node& n) {
    const ir::Tensor& x = g_.tensors[n.inputs[0]];
    const std::string y = FloatResult(n.outputs[0]);
    if (x.dtype == DType::FLOAT16) {
      Int(Node("Cast", n.name, {x.name}, {y}), "to", TensorProto::FLOAT);
    } else {
      if (!IsQuantized(x))
        throw Error("export: node '" + n.name + "' dequantizes '" + x.name +
                    "', which has no quantization");
      const auto [s, z] = QuantParams(x);
      onnx::NodeProto* node = Node("DequantizeLinear", n.name, {x.name, s, z}, {y});
      if (x.quant.axis >= 0) Int(node, "axis", x.quant.axis);
    }
    Finish();
  }

  void Quantize(const ir::Node& n) {
    const ir::Tensor& y = g_.tensors[n.outputs[0]];
    const std::string x = FloatValue(n.inputs[0]);
    const auto [s, z] = QuantParams(y);
    onnx::NodeProto* node = Node("QuantizeLinear", n.name, {x, s, z}, {y.name});
    if (y.quant.axis >= 0) Int(node, "axis", y.quant.axis);
  }

  const ir::Graph& g_;
  const OnnxExportOptions& opts_;
  onnx::GraphProto* graph_ = nullptr;
  std::map<int, std::string> float_of_;
  std::vector<std::pair<int, std::string>> pending_;
  std::set<std::string> used_;
  mutable std::set<std::string> names_;
};

}  // namespace

std::string ExportOnnx(const ir::Graph& graph, const OnnxExportOptions& options) {
  graph.Validate();
  return Exporter(graph, options).Run();
}

}  // namespace outpost::exporter
