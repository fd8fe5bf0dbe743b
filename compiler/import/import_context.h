// Internals of the ONNX importer shared by the per-family lowering files.
//
// The importer walks the ONNX graph once, in its (topological) node order. Every ONNX value
// name is bound to an IR tensor; constants are IR tensors with data. Each ONNX node is lowered
// by a function of its family file (onnx_conv_pool.cc, onnx_elementwise.cc, ...) that reads
// its inputs through ImportContext, computes the output shapes (shapes are fully static) and
// emits runtime nodes. Nodes whose inputs are all constant are evaluated on the spot, so that
// shape arithmetic (Shape -> Gather -> Concat -> Reshape) resolves to constants before the op
// that needs them is lowered.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/expected.h"
#include "compiler/import/onnx_importer.h"
#include "compiler/ir/graph.h"

namespace onnx {
class NodeProto;
class AttributeProto;
class TensorProto;
}  // namespace onnx

namespace outpost::import {

using ir::DType;
using ir::OpCode;
using Shape = std::vector<int64_t>;

// Throws the error every deliberate limit of the importer uses: its message starts with
// "unsupported", which is how tools tell a refusal from a malformed model.
[[noreturn]] void Unsupported(const std::string& what);

// Options of the element-wise binary ops (ADD, MUL, ...), which all lowerings share.
inline opm::OpOptionsUnion BinaryOptions() {
  opm::OpOptionsUnion o;
  o.Set(opm::BinaryOptionsT{});
  return o;
}

// ONNX TensorProto_DataType names ("FLOAT", "UINT8", ...), for messages.
std::string OnnxTypeName(int onnx_type);
// The runtime dtype for an ONNX element type; false when the runtime has none. Floating types
// other than FLOAT (DOUBLE, FLOAT16, BFLOAT16) are not runtime types: constants of those types
// are converted to FLOAT32 when read (TensorFromOnnx), graph inputs of those types are refused.
bool RuntimeDType(int onnx_type, DType* out);
// Reads a TensorProto (raw or typed fields) into a constant IR tensor. DOUBLE, FLOAT16 and
// BFLOAT16 become FLOAT32; external data, strings and unsigned types wider than 8 bits are
// refused.
ir::Tensor TensorFromOnnx(const onnx::TensorProto& proto);

// An ONNX node with typed attribute access and the opset it was imported under.
class OnnxNode {
 public:
  OnnxNode(const onnx::NodeProto& proto, int opset);

  const onnx::NodeProto& proto() const { return proto_; }
  const std::string& op_type() const;
  int opset() const { return opset_; }
  // The ONNX node name, or the name of its first output when the node has none.
  const std::string& name() const { return name_; }
  // "node 'conv1' (Conv, opset 13)": the prefix of every error about this node.
  std::string Label() const;

  int num_inputs() const;
  // Input i exists and is not an omitted optional input (ONNX writes those as "").
  bool has_input(int i) const;
  const std::string& input(int i) const;
  int num_outputs() const;
  bool has_output(int i) const;
  const std::string& output(int i) const;

  const onnx::AttributeProto* Attr(std::string_view name) const;
  bool has_attr(std::string_view name) const { return Attr(name) != nullptr; }
  int64_t Int(std::string_view name, int64_t fallback) const;
  float Float(std::string_view name, float fallback) const;
  std::string String(std::string_view name, const std::string& fallback) const;
  std::vector<int64_t> Ints(std::string_view name) const;  // empty when absent
  std::vector<float> Floats(std::string_view name) const;

 private:
  const onnx::NodeProto& proto_;
  int opset_;
  std::string name_;
};

class ImportContext {
 public:
  ImportContext(ir::Graph& graph, const ImportOptions& options);

  ir::Graph& graph() { return graph_; }
  const ImportOptions& options() const { return options_; }
  const ir::Tensor& tensor(int index) const { return graph_.tensors[index]; }

  // --- Values -----------------------------------------------------------------------------
  // Registers a graph input (one that is not also an initializer). Its IR tensor is created on
  // first use: a runtime tensor when it feeds data, a constant from ImportOptions::input_values
  // when it feeds a parameter.
  void DeclareInput(const std::string& name, int onnx_type, Shape shape);
  // Binds ONNX value `name` to IR tensor `tensor` (an initializer, a node output).
  void Bind(const std::string& name, int tensor);
  // Makes ONNX value `name` another name for input i of `node` (Identity, Dropout). A graph
  // input stays undecided: its uses through the alias decide how it is read.
  void Alias(const std::string& name, const OnnxNode& node, int i);
  bool IsDefined(const std::string& name) const;

  // Static shape and dtype of input i of `node`, without deciding how the value is used.
  Shape ShapeOf(const OnnxNode& node, int i);
  DType DTypeOf(const OnnxNode& node, int i);
  // Input i as an operand: a graph input stays a runtime input. A runtime operand other than
  // FLOAT32 is refused unless `node` only moves data (Concat, Reshape, Transpose, Pad, ...).
  int Data(const OnnxNode& node, int i);
  // Input i as a weight: constant when its value is known (an initializer, or a graph input
  // listed in input_values), otherwise a runtime operand like Data.
  int Weight(const OnnxNode& node, int i);
  // Input i as a parameter the lowering needs at import time. Fails naming the input and
  // `what` when it is computed at run time or is a graph input without a given value.
  const ir::Tensor& Constant(const OnnxNode& node, int i, std::string_view what);
  // Input i's value if it is known at import time, else null.
  const ir::Tensor* TryConstant(const OnnxNode& node, int i);
  // Input i of `node` as int64 values (any integer dtype), via Constant().
  std::vector<int64_t> ConstantInts(const OnnxNode& node, int i, std::string_view what);
  // Input i as float values (any numeric dtype), via Constant().
  std::vector<float> ConstantFloats(const OnnxNode& node, int i, std::string_view what);

  // --- Building ---------------------------------------------------------------------------
  // A fresh, unique IR tensor name derived from `base`.
  std::string NewName(const std::string& base);
  // A tensor computed by a node. It may be empty (a dimension of 0) only if it ends up
  // constant: Emit refuses runtime nodes with empty operands.
  int NewActivation(const std::string& base, DType dtype, Shape shape);
  // A constant tensor; `value`'s name is replaced by a unique one derived from `base`.
  int NewConstant(const std::string& base, ir::Tensor value);
  template <typename T>
  int NewConstant(const std::string& base, DType dtype, Shape shape, const std::vector<T>& v) {
    ir::Tensor t;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.constant = true;
    t.data.resize(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(t.data.data(), v.data(), t.data.size());
    return NewConstant(base, std::move(t));
  }
  // The IR tensor for output i of `node`: a runtime tensor named after the ONNX output and
  // bound to it.
  int Output(const OnnxNode& node, int i, DType dtype, Shape shape);
  // Binds output i of `node` to a constant holding `value`.
  void OutputConstant(const OnnxNode& node, int i, ir::Tensor value);

  // Appends a runtime node named after `node` (plus "/suffix" for helper nodes of a multi-node
  // lowering). When every input is constant the node is evaluated now instead (on the host for
  // data movement and arithmetic of any dtype, else with the runtime's reference kernels) and
  // its outputs become constants.
  void Emit(const OnnxNode& node, OpCode op, std::vector<int> inputs, std::vector<int> outputs,
            opm::OpOptionsUnion options = {}, const std::string& suffix = "");
  // `x` reshaped to `shape` (a RESHAPE node, or `x` itself when the shape is unchanged).
  int Reshape(const OnnxNode& node, int x, Shape shape, const std::string& suffix);
  // A RESHAPE node from `x` into the existing tensor `y`.
  void ReshapeInto(const OnnxNode& node, int x, int y, const std::string& suffix);

  // --- Finishing --------------------------------------------------------------------------
  // Graph inputs in declaration order that remain runtime inputs: those read as data, and
  // those nothing read (kept so the model keeps its interface). Inputs with a value in
  // ImportOptions::input_values that nothing reads as data are dropped.
  std::vector<int> FinishInputs();
  // The IR tensor bound to ONNX value `name` for a graph output.
  int ValueForOutput(const std::string& output);
  // Whether `t` is the runtime tensor of a graph input.
  bool IsInputTensor(int t) const;
  // A graph output for tensor `t` that stands for ONNX uint8 values (IsUint8): a QUANTIZE
  // node converts it into a new UINT8 tensor named `name` (a constant is converted now and
  // copied by Materialize).
  int Uint8Output(int t, const std::string& name);

  // --- Quantized values (onnx_quant_ops.cc) -------------------------------------------------
  // ONNX uint8 quantized values live in the IR as INT8 tensors holding value - 128 with zero
  // point - 128 (docs/quantization.md), so that every integer kernel sees INT8. These tensors
  // are remembered here: a graph output, a Cast to uint8 or a zero point's dtype must see the
  // uint8 value they stand for. Data movement (Reshape, Transpose, ...) passes the mark on.
  void MarkUint8(int t) { uint8_values_.insert(t); }
  bool IsUint8(int t) const { return uint8_values_.count(t) > 0; }
  // Whether input i of `node` is a graph input (a runtime input when read as data, even when
  // ImportOptions::input_values gives its value).
  bool InputIsGraphInput(const OnnxNode& node, int i);
  // Whether input i of `node` is a tensor marked by MarkUint8 (false for graph inputs).
  bool InputIsUint8(const OnnxNode& node, int i);
  // The INT8 tensors that QUANTIZE nodes made from runtime UINT8 tensors (graph inputs), by
  // UINT8 tensor, so that each is converted once.
  std::unordered_map<int, int>& int8_views() { return int8_views_; }
  // Gives tensor `t` the name `name` if no other tensor has it; returns whether it did.
  bool Rename(int t, const std::string& name);
  // A new runtime tensor named `name` that a RESHAPE node fills with a copy of `t` (never
  // folded): how a graph output that is a constant, a graph input or a repeated output gets
  // its own arena tensor.
  int Materialize(int t, const std::string& name);

 private:
  struct PendingInput {
    int onnx_type = 0;
    Shape shape;
    int runtime = -1;  // IR tensor when used as data
    int frozen = -1;   // IR constant from input_values when used as a parameter
  };
  int Lookup(const OnnxNode& node, int i);
  // The value name input i of `node` refers to, aliases followed.
  const std::string& Resolve(const OnnxNode& node, int i) const;
  PendingInput* Pending(const OnnxNode& node, int i);
  int RuntimeInput(const std::string& name, PendingInput& in);
  // Refuses runtime tensor `t` as an operand of `node` when its dtype is not FLOAT32 and the
  // node does more than move data; `input` names the graph input `t` stands for, if any.
  void CheckOperandDType(const OnnxNode& node, int t, const std::string& input);
  int InputOnnxType(const std::string& name) const;
  int FrozenInput(const std::string& name, PendingInput& in);
  bool FoldNow(const ir::Node& node);
  // Gives the outputs of a data-movement node its input's quantization and uint8 mark, and
  // turns PAD's raw integer pad value of a quantized tensor into the real value the kernel
  // quantizes (quant_propagation.cc).
  void PropagateQuantization(ir::Node& node);
  void RequireNonEmpty(const ir::Node& node) const;

  ir::Graph& graph_;
  const ImportOptions& options_;
  std::unordered_map<std::string, int> values_;
  std::map<std::string, PendingInput> inputs_;
  std::unordered_map<std::string, std::string> aliases_;  // alias -> graph input name
  std::vector<std::string> input_order_;
  std::unordered_set<std::string> names_;
  std::unordered_set<int> uint8_values_;
  std::unordered_map<int, int> int8_views_;
};

// The output of a lowering that computes integers (onnx_quant_ops.cc): INT8 with the output's
// quantization, or INT32 raw accumulators without any; `uint8` marks INT8 results that stand
// for ONNX uint8 values (ImportContext::MarkUint8).
struct IntegerOutput {
  DType dtype = DType::INT8;
  ir::Quantization quant;
  bool uint8 = false;
};
// Output i of `node` (ImportContext::Output), FLOAT32 when `out` is null, else typed,
// quantized and marked as `out` says.
int OutputAs(ImportContext& ctx, const OnnxNode& node, int i, Shape shape,
             const IntegerOutput* out);
// An intermediate tensor (ImportContext::NewActivation) typed like OutputAs.
int ActivationAs(ImportContext& ctx, const std::string& base, Shape shape,
                 const IntegerOutput* out);

// Convolution and matrix product lowerings shared by the float ops and the quantized ones: `x`,
// `w`, `b` (-1: none), `a` are IR tensors already read; `out` as for OutputAs.
void EmitConv(ImportContext& ctx, const OnnxNode& node, int x, int w, int b,
              const IntegerOutput* out);                                          // onnx_conv_pool.cc
void EmitMatMul(ImportContext& ctx, const OnnxNode& node, int a, int b,
                const IntegerOutput* out);                                        // onnx_linear.cc

// One lowering function per ONNX op type.
using LowerFn = std::function<void(ImportContext&, const OnnxNode&)>;
using OpTable = std::unordered_map<std::string, LowerFn>;

void RegisterConvPoolOps(OpTable& table);         // onnx_conv_pool.cc
void RegisterElementwiseOps(OpTable& table);      // onnx_elementwise.cc
void RegisterLinearOps(OpTable& table);           // onnx_linear.cc
void RegisterTensorOps(OpTable& table);           // onnx_tensor_ops.cc
void RegisterPadResizeReduceOps(OpTable& table);  // onnx_pad_resize_reduce.cc
void RegisterShapeOps(OpTable& table);            // onnx_shape_ops.cc
void RegisterQuantOps(OpTable& table);            // onnx_quant_ops.cc

// --- Small helpers shared by the lowerings ----------------------------------------------------

// Normalizes axis into [0, rank); throws naming the attribute when out of range.
int NormalizeAxis(int64_t axis, size_t rank, std::string_view what);
// NumPy (multidirectional) broadcast of two shapes; throws when incompatible.
Shape BroadcastShapes(const Shape& a, const Shape& b);
std::string ShapeStr(const Shape& s);
// Checked narrowing for option fields (the runtime stores int32).
int32_t ToInt32(int64_t v, std::string_view what);

}  // namespace outpost::import
