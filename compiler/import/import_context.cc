#include "compiler/import/import_context.h"

#include <limits>

#include "compiler/import/host_eval.h"
#include "compiler/passes/passes.h"
#include "compiler/passes/quant_params.h"
#include "onnx/onnx_pb.h"

namespace outpost::import {

// --- OnnxNode -------------------------------------------------------------------------------

OnnxNode::OnnxNode(const onnx::NodeProto& proto, int opset) : proto_(proto), opset_(opset) {
  if (!proto.name().empty()) {
    name_ = proto.name();
  } else if (proto.output_size() > 0 && !proto.output(0).empty()) {
    name_ = proto.output(0);
  } else {
    name_ = proto.op_type();
  }
}

const std::string& OnnxNode::op_type() const { return proto_.op_type(); }

std::string OnnxNode::Label() const {
  return "node '" + name_ + "' (" + proto_.op_type() + ", opset " + std::to_string(opset_) + ")";
}

int OnnxNode::num_inputs() const { return proto_.input_size(); }
bool OnnxNode::has_input(int i) const {
  return i < proto_.input_size() && !proto_.input(i).empty();
}
const std::string& OnnxNode::input(int i) const { return proto_.input(i); }
int OnnxNode::num_outputs() const { return proto_.output_size(); }
bool OnnxNode::has_output(int i) const {
  return i < proto_.output_size() && !proto_.output(i).empty();
}
const std::string& OnnxNode::output(int i) const { return proto_.output(i); }

const onnx::AttributeProto* OnnxNode::Attr(std::string_view name) const {
  for (const onnx::AttributeProto& a : proto_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

namespace {

// Whether an ONNX op lowers only to CONCAT, RESHAPE, TRANSPOSE, PAD, SLICE and SPLIT, whose
// runtime kernels move bytes and are registered for every dtype: the only ops that may take
// runtime tensors of a dtype other than FLOAT32.
bool MovesDataOnly(const std::string& op_type) {
  static const std::unordered_set<std::string> kOps = {
      "Concat", "Flatten", "Gather",  "Pad",       "Reshape",
      "Slice",  "Split",   "Squeeze", "Transpose", "Unsqueeze",
  };
  return kOps.count(op_type) > 0;
}

// ONNX ops whose operands are quantized integers (onnx_quant_ops.cc): they take INT8, UINT8
// and INT32 runtime tensors and read them with the quantization parameters the node gives.
bool TakesQuantizedOperands(const std::string& op_type) {
  static const std::unordered_set<std::string> kOps = {
      "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger",
  };
  return kOps.count(op_type) > 0;
}

const onnx::AttributeProto* TypedAttr(const OnnxNode& n, std::string_view name,
                                      onnx::AttributeProto::AttributeType type) {
  const onnx::AttributeProto* a = n.Attr(name);
  if (a == nullptr) return nullptr;
  // Old exporters leave `type` unset; trust the field that is filled in then.
  if (a->type() != type && a->type() != onnx::AttributeProto::UNDEFINED)
    throw Error("attribute '" + std::string(name) + "' has type " +
                onnx::AttributeProto::AttributeType_Name(a->type()) + ", expected " +
                onnx::AttributeProto::AttributeType_Name(type));
  return a;
}

}  // namespace

int64_t OnnxNode::Int(std::string_view name, int64_t fallback) const {
  const auto* a = TypedAttr(*this, name, onnx::AttributeProto::INT);
  return a ? a->i() : fallback;
}

float OnnxNode::Float(std::string_view name, float fallback) const {
  const auto* a = TypedAttr(*this, name, onnx::AttributeProto::FLOAT);
  return a ? a->f() : fallback;
}

std::string OnnxNode::String(std::string_view name, const std::string& fallback) const {
  const auto* a = TypedAttr(*this, name, onnx::AttributeProto::STRING);
  return a ? a->s() : fallback;
}

std::vector<int64_t> OnnxNode::Ints(std::string_view name) const {
  const auto* a = TypedAttr(*this, name, onnx::AttributeProto::INTS);
  if (!a) return {};
  return {a->ints().begin(), a->ints().end()};
}

std::vector<float> OnnxNode::Floats(std::string_view name) const {
  const auto* a = TypedAttr(*this, name, onnx::AttributeProto::FLOATS);
  if (!a) return {};
  return {a->floats().begin(), a->floats().end()};
}

// --- Helpers --------------------------------------------------------------------------------

int NormalizeAxis(int64_t axis, size_t rank, std::string_view what) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    throw Error(std::string(what) + " " + std::to_string(axis) + " is out of range for rank " +
                std::to_string(rank));
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

Shape BroadcastShapes(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error("shapes " + ShapeStr(a) + " and " + ShapeStr(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::string ShapeStr(const Shape& s) { return ir::ShapeString(s); }

int32_t ToInt32(int64_t v, std::string_view what) {
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
    throw Error(std::string(what) + " " + std::to_string(v) + " does not fit in 32 bits");
  return static_cast<int32_t>(v);
}

int OutputAs(ImportContext& ctx, const OnnxNode& node, int i, Shape shape,
             const IntegerOutput* out) {
  const int t = ctx.Output(node, i, out ? out->dtype : DType::FLOAT32, std::move(shape));
  if (out) {
    ctx.graph().tensors[t].quant = out->quant;
    if (out->uint8) ctx.MarkUint8(t);
  }
  return t;
}

int ActivationAs(ImportContext& ctx, const std::string& base, Shape shape,
                 const IntegerOutput* out) {
  const int t = ctx.NewActivation(base, out ? out->dtype : DType::FLOAT32, std::move(shape));
  if (out) {
    ctx.graph().tensors[t].quant = out->quant;
    if (out->uint8) ctx.MarkUint8(t);
  }
  return t;
}

// --- ImportContext --------------------------------------------------------------------------

ImportContext::ImportContext(ir::Graph& graph, const ImportOptions& options)
    : graph_(graph), options_(options) {}

void ImportContext::DeclareInput(const std::string& name, int onnx_type, Shape shape) {
  PendingInput p;
  p.onnx_type = onnx_type;
  p.shape = std::move(shape);
  inputs_[name] = std::move(p);
  input_order_.push_back(name);
}

void ImportContext::Bind(const std::string& name, int tensor) {
  if (values_.count(name) || inputs_.count(name) || aliases_.count(name))
    throw Error("value '" + name + "' is defined more than once");
  values_[name] = tensor;
}

bool ImportContext::IsDefined(const std::string& name) const {
  return values_.count(name) || inputs_.count(name) || aliases_.count(name);
}

std::string ImportContext::NewName(const std::string& base) {
  const std::string b = base.empty() ? "t" : base;
  std::string candidate = b;
  for (int i = 1; names_.count(candidate) || (candidate != base && IsDefined(candidate)); ++i)
    candidate = b + "_" + std::to_string(i);
  names_.insert(candidate);
  return candidate;
}

int ImportContext::NewActivation(const std::string& base, DType dtype, Shape shape) {
  for (int64_t d : shape)
    if (d < 0) throw Error("internal: negative dimension for '" + base + "'");
  return graph_.AddActivation(NewName(base), dtype, std::move(shape));
}

int ImportContext::NewConstant(const std::string& base, ir::Tensor value) {
  value.name = NewName(base);
  value.constant = true;
  value.arena_offset = -1;
  if (value.data.size() != value.bytes())
    throw Error("internal: constant '" + value.name + "' data does not match its shape");
  return graph_.AddTensor(std::move(value));
}

int ImportContext::Output(const OnnxNode& node, int i, DType dtype, Shape shape) {
  const int t = NewActivation(node.output(i), dtype, std::move(shape));
  Bind(node.output(i), t);
  return t;
}

void ImportContext::OutputConstant(const OnnxNode& node, int i, ir::Tensor value) {
  Bind(node.output(i), NewConstant(node.output(i), std::move(value)));
}

const std::string& ImportContext::Resolve(const OnnxNode& node, int i) const {
  if (!node.has_input(i)) throw Error("required input " + std::to_string(i) + " is missing");
  auto a = aliases_.find(node.input(i));
  return a != aliases_.end() ? a->second : node.input(i);
}

ImportContext::PendingInput* ImportContext::Pending(const OnnxNode& node, int i) {
  if (!node.has_input(i)) return nullptr;
  auto p = inputs_.find(Resolve(node, i));
  return p != inputs_.end() ? &p->second : nullptr;
}

int ImportContext::Lookup(const OnnxNode& node, int i) {
  const std::string& name = Resolve(node, i);
  auto it = values_.find(name);
  if (it == values_.end())
    throw Error("input '" + name +
                "' is not defined before this node (no initializer, graph input or earlier node "
                "produces it)");
  return it->second;
}

void ImportContext::Alias(const std::string& name, const OnnxNode& node, int i) {
  if (Pending(node, i)) {
    if (values_.count(name) || inputs_.count(name) || aliases_.count(name))
      throw Error("value '" + name + "' is defined more than once");
    aliases_[name] = Resolve(node, i);
    return;
  }
  Bind(name, Lookup(node, i));
}

void ImportContext::CheckOperandDType(const OnnxNode& node, int t, const std::string& input) {
  const ir::Tensor& v = tensor(t);
  if (v.constant || v.dtype == DType::FLOAT32 || MovesDataOnly(node.op_type()) ||
      TakesQuantizedOperands(node.op_type()))
    return;
  std::string what;
  if (input.empty()) {
    what = std::string("operand dtype ") + opm::EnumNameDType(v.dtype) + " of '" + v.name + "'";
  } else {
    what = "input dtype " + OnnxTypeName(InputOnnxType(input)) + " of graph input '" + input + "'";
  }
  Unsupported(what + " for " + node.op_type() +
              " (only data-movement ops take runtime tensors other than FLOAT32; the runtime's "
              "INT8/UINT8 arithmetic is reserved for quantized tensors, which QuantizeLinear, "
              "DequantizeLinear and the QLinear ops describe)");
}

int ImportContext::InputOnnxType(const std::string& name) const {
  auto p = inputs_.find(name);
  return p != inputs_.end() ? p->second.onnx_type : 0;
}

int ImportContext::RuntimeInput(const std::string& name, PendingInput& in) {
  if (in.runtime >= 0) return in.runtime;
  DType dt;
  if (!RuntimeDType(in.onnx_type, &dt))
    Unsupported("input dtype " + OnnxTypeName(in.onnx_type) + " of graph input '" + name +
                "' (the runtime has FLOAT32, INT8, UINT8, INT16, INT32, INT64 and BOOL; inputs "
                "that feed parameters may be frozen through ImportOptions::input_values)");
  for (int64_t d : in.shape)
    if (d < 1)
      Unsupported("empty graph input '" + name + "' of shape " + ShapeStr(in.shape) +
                  " (the runtime has no zero-sized tensors)");
  in.runtime = graph_.AddActivation(NewName(name), dt, in.shape);
  return in.runtime;
}

int ImportContext::FrozenInput(const std::string& name, PendingInput& in) {
  if (in.frozen >= 0) return in.frozen;
  const ir::Tensor& value = options_.input_values.at(name);
  DType declared;
  if (!RuntimeDType(in.onnx_type, &declared))
    Unsupported("input dtype " + OnnxTypeName(in.onnx_type) + " of graph input '" + name + "'");
  if (value.dtype != declared)
    throw Error(std::string("ImportOptions::input_values['") + name + "'] has dtype " +
                opm::EnumNameDType(value.dtype) + ", the model declares " +
                OnnxTypeName(in.onnx_type));
  if (value.data.size() != value.bytes())
    throw Error("ImportOptions::input_values['" + name + "'] has " +
                std::to_string(value.data.size()) + " bytes for shape " + ShapeStr(value.shape));
  in.frozen = NewConstant(name, value);
  return in.frozen;
}

Shape ImportContext::ShapeOf(const OnnxNode& node, int i) {
  if (PendingInput* p = Pending(node, i)) {
    auto given = options_.input_values.find(Resolve(node, i));
    return given != options_.input_values.end() ? given->second.shape : p->shape;
  }
  return tensor(Lookup(node, i)).shape;
}

DType ImportContext::DTypeOf(const OnnxNode& node, int i) {
  if (PendingInput* p = Pending(node, i)) {
    DType dt;
    if (!RuntimeDType(p->onnx_type, &dt))
      Unsupported("input dtype " + OnnxTypeName(p->onnx_type) + " of graph input '" +
                  Resolve(node, i) + "'");
    return dt;
  }
  return tensor(Lookup(node, i)).dtype;
}

int ImportContext::Data(const OnnxNode& node, int i) {
  if (PendingInput* p = Pending(node, i)) {
    const std::string& name = Resolve(node, i);
    const int t = RuntimeInput(name, *p);
    CheckOperandDType(node, t, name);
    return t;
  }
  const int t = Lookup(node, i);
  CheckOperandDType(node, t, "");
  return t;
}

int ImportContext::Weight(const OnnxNode& node, int i) {
  if (PendingInput* p = Pending(node, i)) {
    const std::string& name = Resolve(node, i);
    if (options_.input_values.count(name)) return FrozenInput(name, *p);
    const int t = RuntimeInput(name, *p);
    CheckOperandDType(node, t, name);
    return t;
  }
  const int t = Lookup(node, i);
  CheckOperandDType(node, t, "");
  return t;
}

const ir::Tensor* ImportContext::TryConstant(const OnnxNode& node, int i) {
  if (!node.has_input(i)) return nullptr;
  if (PendingInput* p = Pending(node, i)) {
    const std::string& name = Resolve(node, i);
    if (!options_.input_values.count(name)) return nullptr;
    return &tensor(FrozenInput(name, *p));
  }
  const ir::Tensor& t = tensor(Lookup(node, i));
  return t.constant ? &t : nullptr;
}

const ir::Tensor& ImportContext::Constant(const OnnxNode& node, int i, std::string_view what) {
  if (!node.has_input(i))
    throw Error("input " + std::to_string(i) + " (" + std::string(what) + ") is missing");
  if (const ir::Tensor* t = TryConstant(node, i)) return *t;
  if (Pending(node, i))
    throw Error("needs the value of graph input '" + Resolve(node, i) + "' (its " +
                std::string(what) + ") at import time; give it in ImportOptions::input_values");
  throw Error("its " + std::string(what) + " ('" + node.input(i) +
              "') must be a constant, but it is computed at run time");
}

std::vector<int64_t> ImportContext::ConstantInts(const OnnxNode& node, int i,
                                                 std::string_view what) {
  const ir::Tensor& t = Constant(node, i, what);
  if (t.dtype == DType::FLOAT32)
    throw Error("its " + std::string(what) + " ('" + node.input(i) + "') must be integers");
  return host::ToInts(t);
}

std::vector<float> ImportContext::ConstantFloats(const OnnxNode& node, int i,
                                                 std::string_view what) {
  const std::vector<double> d = host::ToDoubles(Constant(node, i, what));
  return {d.begin(), d.end()};
}

bool ImportContext::FoldNow(const ir::Node& node) {
  bool any = false;
  for (int i : node.inputs) {
    if (i < 0) continue;
    if (!graph_.tensors[i].constant) return false;
    any = true;
  }
  if (!any) return false;
  std::vector<ir::Tensor> values;
  if (!host::Fold(graph_, node, &values)) {
    try {
      values = passes::EvaluateNode(graph_, node);
    } catch (const Error&) {
      // The runtime has no kernel for these operands here (e.g. an integer dtype): keep the
      // node; the constant-folding pass or the device evaluates it, or reports it.
      return false;
    }
  }
  for (size_t k = 0; k < node.outputs.size(); ++k) {
    ir::Tensor& out = graph_.tensors[node.outputs[k]];
    values[k].name = out.name;
    values[k].quant = out.quant;  // set by PropagateQuantization
    values[k].constant = true;
    values[k].arena_offset = -1;
    out = std::move(values[k]);
  }
  return true;
}

void ImportContext::RequireNonEmpty(const ir::Node& n) const {
  auto check = [&](int t) {
    if (t < 0) return;
    for (int64_t d : graph_.tensors[t].shape)
      if (d == 0)
        Unsupported("empty tensor '" + graph_.tensors[t].name + "' of shape " +
                    ShapeStr(graph_.tensors[t].shape) +
                    " computed at run time (the runtime has no zero-sized tensors)");
  };
  for (int t : n.inputs) check(t);
  for (int t : n.outputs) check(t);
}

void ImportContext::Emit(const OnnxNode& node, OpCode op, std::vector<int> inputs,
                         std::vector<int> outputs, opm::OpOptionsUnion options,
                         const std::string& suffix) {
  ir::Node n;
  n.op = op;
  n.name = suffix.empty() ? node.name() : node.name() + "/" + suffix;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.options = std::move(options);
  PropagateQuantization(n);
  if (FoldNow(n)) return;
  RequireNonEmpty(n);
  graph_.AddNode(std::move(n));
}

int ImportContext::Reshape(const OnnxNode& node, int x, Shape shape, const std::string& suffix) {
  if (tensor(x).shape == shape) return x;
  const int y = NewActivation(node.name() + "/" + suffix, tensor(x).dtype, std::move(shape));
  ReshapeInto(node, x, y, suffix);
  return y;
}

void ImportContext::ReshapeInto(const OnnxNode& node, int x, int y, const std::string& suffix) {
  if (ir::NumElements(tensor(x).shape) != ir::NumElements(tensor(y).shape))
    throw Error("internal: reshape of " + ShapeStr(tensor(x).shape) + " to " +
                ShapeStr(tensor(y).shape));
  opm::OpOptionsUnion o;
  o.Set(opm::ReshapeOptionsT{});
  Emit(node, OpCode::RESHAPE, {x}, {y}, std::move(o), suffix);
}

std::vector<int> ImportContext::FinishInputs() {
  std::vector<int> out;
  for (const std::string& name : input_order_) {
    PendingInput& p = inputs_[name];
    // Replaced by its given value (or given one and never read).
    if (p.runtime < 0 && (p.frozen >= 0 || options_.input_values.count(name))) continue;
    if (p.runtime < 0) {
      // Read by nothing, or only for its shape: it stays an input so the interface holds.
      DType dt;
      if (!RuntimeDType(p.onnx_type, &dt))
        Unsupported("input dtype " + OnnxTypeName(p.onnx_type) + " of graph input '" + name + "'");
      p.runtime = graph_.AddActivation(NewName(name), dt, p.shape);
    }
    out.push_back(p.runtime);
  }
  return out;
}

int ImportContext::ValueForOutput(const std::string& output) {
  auto a = aliases_.find(output);
  const std::string& name = a != aliases_.end() ? a->second : output;
  auto p = inputs_.find(name);
  if (p != inputs_.end()) return RuntimeInput(p->first, p->second);
  auto it = values_.find(name);
  if (it == values_.end()) throw Error("graph output '" + name + "' is not produced by any node");
  return it->second;
}

bool ImportContext::InputIsGraphInput(const OnnxNode& node, int i) {
  return Pending(node, i) != nullptr;
}

bool ImportContext::InputIsUint8(const OnnxNode& node, int i) {
  if (!node.has_input(i) || Pending(node, i)) return false;
  return IsUint8(Lookup(node, i));
}

int ImportContext::Uint8Output(int t, const std::string& name) {
  const ir::Tensor src = tensor(t);
  const ir::Quantization q = src.quant.present()
                                 ? passes::ShiftZeroPoints(src.quant, 128)
                                 : ir::Quantization{};
  if (src.constant) {
    ir::Tensor u = src;
    u.dtype = DType::UINT8;
    for (uint8_t& b : u.data) b = static_cast<uint8_t>(static_cast<int8_t>(b) + 128);
    u.quant = q;
    return Materialize(NewConstant(name + "/uint8", std::move(u)), name);
  }
  // The output's name goes to the UINT8 tensor; the INT8 one it converts is renamed.
  if (src.name == name) {
    graph_.tensors[t].name = NewName(name + "/int8");
    names_.erase(name);
  }
  const int y = NewActivation(name, DType::UINT8, src.shape);
  graph_.tensors[y].quant = q;
  ir::Node n;
  n.op = OpCode::QUANTIZE;
  n.name = name + "/to_uint8";
  n.inputs = {t};
  n.outputs = {y};
  n.options.Set(opm::QuantizeOptionsT{});
  RequireNonEmpty(n);
  graph_.AddNode(std::move(n));
  return y;
}

bool ImportContext::IsInputTensor(int t) const {
  for (const auto& [name, p] : inputs_)
    if (p.runtime == t) return true;
  return false;
}

bool ImportContext::Rename(int t, const std::string& name) {
  if (graph_.tensors[t].name == name) return true;
  if (names_.count(name)) return false;
  names_.insert(name);
  graph_.tensors[t].name = name;
  return true;
}

int ImportContext::Materialize(int t, const std::string& name) {
  if (graph_.tensors[t].constant && graph_.tensors[t].name == name) {
    // The output's name goes to the arena copy; the constant it copies is renamed.
    graph_.tensors[t].name = NewName(name + "/value");
    names_.erase(name);
  }
  const ir::Tensor& src = tensor(t);
  const DType dtype = src.dtype;
  const ir::Quantization quant = src.quant;
  const int y = NewActivation(name, dtype, src.shape);
  // A copy of quantized data is quantized alike (data movement keeps parameters).
  if (dtype != DType::FLOAT32) graph_.tensors[y].quant = quant;
  ir::Node n;
  n.op = OpCode::RESHAPE;
  n.name = name + "/copy";
  n.inputs = {t};
  n.outputs = {y};
  n.options.Set(opm::ReshapeOptionsT{});
  RequireNonEmpty(n);
  graph_.AddNode(std::move(n));
  return y;
}

}  // namespace outpost::import
