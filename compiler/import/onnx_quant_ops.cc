// Quantized ONNX operators: QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul,
// ConvInteger and MatMulInteger, onto the integer scheme of docs/quantization.md.
//
// Quantized values become INT8 tensors carrying ir::Quantization. ONNX uint8 values are stored
// as INT8 holding value - 128 with zero point - 128 (ImportContext::MarkUint8), so that every
// integer kernel sees INT8: constants are converted here, a runtime UINT8 graph input by a
// QUANTIZE node the first time a quantized op reads it, a uint8 graph output by a QUANTIZE node
// at the end (ImportContext::Uint8Output).
//
// QLinearConv and QLinearMatMul become CONV_2D, FULLY_CONNECTED or MATMUL on INT8 tensors with
// the node's own scales; ConvInteger and MatMulInteger the same ops with an INT32 output of raw
// accumulators (their operands get scale 1 and the node's zero points).
//
// QuantizeLinear and DequantizeLinear become QUANTIZE and DEQUANTIZE; the QDQ-folding pass
// (compiler/passes/qdq_folding.cc) later turns DEQUANTIZE -> float op -> QUANTIZE into integer
// ops. A DequantizeLinear of a constant (a weight, a bias) is evaluated here, because the
// lowerings of Conv, Gemm and MatMul need constant weights (Gemm transposes them and folds
// alpha, a constant 2-D MatMul operand becomes a fully connected layer). The FLOAT32 result
// keeps the parameters it was dequantized with in its `quant` field: a record that its values
// are exactly scale * (q - zero_point) for integers q, from which the pass restores q.
//
// One tensor has one set of parameters: a value quantized with one scale and read with another
// (a QuantizeLinear -> DequantizeLinear pair that disagree, two readers that disagree) is
// reported naming the tensor, never silently reinterpreted.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "compiler/import/host_eval.h"
#include "compiler/import/import_context.h"
#include "compiler/passes/quant_params.h"
#include "onnx/onnx_pb.h"

namespace outpost::import {
namespace {

using passes::DescribeQuantization;
using passes::SameQuantization;

// Quantization parameters as a node gives them: zero points in the range of the quantized
// value's ONNX type (0..255 for uint8).
struct Params {
  ir::Quantization q;
  DType type = DType::UINT8;  // INT8, UINT8 or INT32: the quantized value's ONNX type
};

bool IsQuantType(DType t) { return t == DType::INT8 || t == DType::UINT8 || t == DType::INT32; }

std::string TypeName(DType t) {
  switch (t) {
    case DType::INT8: return "int8";
    case DType::UINT8: return "uint8";
    case DType::INT32: return "int32";
    default: return opm::EnumNameDType(t);
  }
}

// Parameters in the IR's domain: uint8 values are stored as INT8 (value - 128).
ir::Quantization Int8Domain(const Params& p) {
  return p.type == DType::UINT8 ? passes::ShiftZeroPoints(p.q, -128) : p.q;
}

// The ONNX type of input i: a tensor marked as uint8 is INT8 in the IR.
DType OnnxType(ImportContext& ctx, const OnnxNode& n, int i) {
  return ctx.InputIsUint8(n, i) ? DType::UINT8 : ctx.DTypeOf(n, i);
}

// Attributes of later opsets (19: saturate for float8; 21: block_size, output_dtype). A model
// of an accepted opset should not have them; if one does, they are not silently ignored.
void RefuseNewerAttributes(const OnnxNode& n) {
  for (const char* a : {"saturate", "block_size", "output_dtype"})
    if (n.has_attr(a))
      Unsupported(std::string("attribute '") + a + "' of " + n.op_type() +
                  " (float8, int4 and blocked quantization of opsets 19 and 21)");
}

// The axis of per-axis parameters of QuantizeLinear / DequantizeLinear: the `axis` attribute
// from opset 13 (default 1; read only when the parameters are per axis, as ONNX ignores it
// otherwise); none before (per-tensor only).
std::optional<int64_t> QdqAxis(const OnnxNode& n) {
  if (n.opset() < 13) return std::nullopt;
  return n.Int("axis", 1);
}

// Reads the scale (input si) and zero point (input zi, optional) of a tensor of shape `shape`
// named `tensor`. Per-axis parameters are allowed along `axis` (negative counts from the end);
// `fallback` is the quantized type when there is no zero point. A scalar zero point with
// per-axis scales (or the reverse) applies to every index, as QLinearConv allows for its
// weights.
Params ReadParams(ImportContext& ctx, const OnnxNode& n, int si, int zi, const Shape& shape,
                  std::optional<int64_t> axis, const std::string& tensor, DType fallback) {
  const ir::Tensor& st = ctx.Constant(n, si, "scale");
  if (st.dtype != DType::FLOAT32)
    throw Error("scale '" + n.input(si) + "' of '" + tensor + "' must be float, is " +
                opm::EnumNameDType(st.dtype));
  if (st.shape.size() > 1)
    throw Error("scale '" + n.input(si) + "' of '" + tensor + "' has shape " +
                ShapeStr(st.shape) + "; it must be a scalar or 1-D");
  Params p;
  p.type = fallback;
  const auto sv = st.values<float>();
  std::vector<float> scales(sv.begin(), sv.end());
  std::vector<int64_t> zps = {0};
  if (zi >= 0 && n.has_input(zi)) {
    const ir::Tensor& zt = ctx.Constant(n, zi, "zero point");
    const bool marked = ctx.InputIsUint8(n, zi);
    p.type = marked ? DType::UINT8 : zt.dtype;
    if (!IsQuantType(p.type))
      Unsupported("zero point '" + n.input(zi) + "' of type " + opm::EnumNameDType(zt.dtype) +
                  " (quantized values may be int8, uint8 or int32)");
    if (zt.shape.size() > 1)
      throw Error("zero point '" + n.input(zi) + "' of '" + tensor + "' has shape " +
                  ShapeStr(zt.shape) + "; it must be a scalar or 1-D");
    zps = host::ToInts(zt);
    if (marked)
      for (int64_t& z : zps) z += 128;
  }
  if (scales.empty() || zps.empty())
    throw Error("the quantization parameters of '" + tensor + "' are empty");
  const size_t count = std::max(scales.size(), zps.size());
  if ((scales.size() != 1 && scales.size() != count) || (zps.size() != 1 && zps.size() != count))
    throw Error("'" + tensor + "' has " + std::to_string(scales.size()) + " scales ('" +
                n.input(si) + "') but " + std::to_string(zps.size()) + " zero points");
  scales.resize(count, scales[0]);
  zps.resize(count, zps[0]);
  p.q.scale = std::move(scales);
  p.q.zero_point = std::move(zps);
  if (count > 1) {
    if (!axis)
      throw Error("'" + tensor + "' has " + std::to_string(count) +
                  " scales or zero points where one (per-tensor) is expected");
    p.q.axis = NormalizeAxis(*axis, shape.size(), "axis");
  }
  try {
    passes::CheckQuantization(p.q, p.type, shape, tensor);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (scale '" + n.input(si) + "'" +
                (zi >= 0 && n.has_input(zi) ? ", zero point '" + n.input(zi) + "'" : "") + ")");
  }
  return p;
}

// Zero points alone (ConvInteger, MatMulInteger): the scale is 1, so the integer op computes
// the raw sum of (x - x_zero_point) * (w - w_zero_point).
Params ReadZeroPoints(ImportContext& ctx, const OnnxNode& n, int zi, const Shape& shape,
                      std::optional<int64_t> axis, const std::string& tensor, DType type) {
  Params p;
  p.type = type;
  std::vector<int64_t> zps = {0};
  if (n.has_input(zi)) {
    const ir::Tensor& zt = ctx.Constant(n, zi, "zero point");
    const DType zt_type = ctx.InputIsUint8(n, zi) ? DType::UINT8 : zt.dtype;
    if (zt_type != type)
      throw Error("zero point '" + n.input(zi) + "' is " + TypeName(zt_type) + " but '" + tensor +
                  "' is " + TypeName(type));
    if (zt.shape.size() > 1)
      throw Error("zero point '" + n.input(zi) + "' has shape " + ShapeStr(zt.shape) +
                  "; it must be a scalar or 1-D");
    zps = host::ToInts(zt);
    if (ctx.InputIsUint8(n, zi))
      for (int64_t& z : zps) z += 128;
  }
  if (zps.empty()) throw Error("zero point '" + n.input(zi) + "' is empty");
  p.q.zero_point = zps;
  p.q.scale.assign(zps.size(), 1.0f);
  if (zps.size() > 1) {
    if (!axis)
      throw Error("'" + tensor + "' has " + std::to_string(zps.size()) +
                  " zero points where one (per-tensor) is expected");
    p.q.axis = NormalizeAxis(*axis, shape.size(), "axis");
  }
  passes::CheckQuantization(p.q, p.type, shape, tensor);
  return p;
}

// Where tensor t's parameters come from, for messages.
std::string Origin(ImportContext& ctx, int t) {
  const int p = ctx.graph().Producer(t);
  if (p >= 0) return " (set by node '" + ctx.graph().nodes[p].name + "')";
  if (ctx.tensor(t).constant) return " (a constant)";
  return " (a graph input)";
}

[[noreturn]] void Inconsistent(ImportContext& ctx, int t, const ir::Quantization& want_ir) {
  const ir::Tensor& v = ctx.tensor(t);
  // Say it in the model's terms: uint8 zero points as the model wrote them.
  const int64_t back = ctx.IsUint8(t) ? 128 : 0;
  throw Error("tensor '" + v.name + "' is quantized with " +
              DescribeQuantization(passes::ShiftZeroPoints(v.quant, back)) + Origin(ctx, t) +
              " but this node reads it with " +
              DescribeQuantization(passes::ShiftZeroPoints(want_ir, back)) +
              "; a tensor must have one set of quantization parameters");
}

// Gives runtime tensor t the parameters q, or checks that it already has them. Data movement
// that produced t from an unquantized source (an INT8 graph input reshaped, ...) gets them too,
// back to the source, since data movement needs equal parameters on both sides.
void AttachQuant(ImportContext& ctx, int t, const ir::Quantization& q) {
  ir::Graph& g = ctx.graph();
  if (g.tensors[t].quant.present()) {
    if (!SameQuantization(g.tensors[t].quant, q)) Inconsistent(ctx, t, q);
    return;
  }
  g.tensors[t].quant = q;
  if (q.axis >= 0) return;
  for (int p = g.Producer(t); p >= 0;) {
    const ir::Node& node = g.nodes[p];
    if (node.op != OpCode::RESHAPE && node.op != OpCode::TRANSPOSE && node.op != OpCode::SLICE)
      break;
    const int src = node.inputs[0];
    if (g.tensors[src].constant || g.tensors[src].quant.present()) break;
    g.tensors[src].quant = q;
    p = g.Producer(src);
  }
}

// Input tensor t (read by Data or Weight) of `n` as an INT8 operand with parameters p: a UINT8
// constant is converted, a runtime UINT8 tensor goes through a QUANTIZE node, an INT8 tensor
// gets the parameters or must already have them.
int QuantizedOperand(ImportContext& ctx, const OnnxNode& n, int i, int t, const Params& p) {
  const ir::Quantization q8 = Int8Domain(p);
  const ir::Tensor& v = ctx.tensor(t);
  const DType type = ctx.IsUint8(t) ? DType::UINT8 : v.dtype;
  if (p.type != DType::INT8 && p.type != DType::UINT8)
    throw Error("'" + n.input(i) + "' must be int8 or uint8, its zero point is " +
                TypeName(p.type));
  if (type != p.type)
    throw Error("'" + n.input(i) + "' is " + TypeName(type) + " but its zero point is " +
                TypeName(p.type));
  if (v.constant) {
    if (v.quant.present()) {
      if (!SameQuantization(v.quant, q8)) Inconsistent(ctx, t, q8);
      return t;
    }
    ir::Tensor c = v;
    if (v.dtype == DType::UINT8) {
      c.dtype = DType::INT8;
      for (uint8_t& b : c.data) b = static_cast<uint8_t>(static_cast<int>(b) - 128);
    }
    c.quant = q8;
    const std::string name = v.name;
    const int k = ctx.NewConstant(name, std::move(c));
    if (p.type == DType::UINT8) ctx.MarkUint8(k);
    return k;
  }
  if (v.dtype == DType::INT8) {
    AttachQuant(ctx, t, q8);
    return t;
  }
  // A runtime UINT8 tensor (a graph input): converted once, by QUANTIZE UINT8 -> INT8.
  AttachQuant(ctx, t, p.q);
  auto cached = ctx.int8_views().find(t);
  if (cached != ctx.int8_views().end()) return cached->second;
  const Shape shape = v.shape;
  const int y = ctx.NewActivation(v.name + "/int8", DType::INT8, shape);
  ctx.graph().tensors[y].quant = q8;
  ctx.MarkUint8(y);
  opm::OpOptionsUnion o;
  o.Set(opm::QuantizeOptionsT{});
  ctx.Emit(n, OpCode::QUANTIZE, {t}, {y}, std::move(o), "to_int8");
  ctx.int8_views()[t] = y;
  return y;
}

template <typename T>
ir::Tensor ConstantOf(DType dtype, const Shape& shape, const std::vector<T>& values) {
  ir::Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  t.constant = true;
  t.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

opm::OpOptionsUnion QuantizeOptions() {
  opm::OpOptionsUnion o;
  o.Set(opm::QuantizeOptionsT{});
  return o;
}

// Index along `axis` of element e of a row-major tensor of `shape` (0 for per-tensor).
int64_t AxisIndex(const Shape& shape, int axis, int64_t e) {
  if (axis < 0) return 0;
  int64_t inner = 1;
  for (size_t k = static_cast<size_t>(axis) + 1; k < shape.size(); ++k) inner *= shape[k];
  return (e / inner) % shape[axis];
}

void LowerQuantizeLinear(ImportContext& ctx, const OnnxNode& n) {
  RefuseNewerAttributes(n);
  const Shape xs = ctx.ShapeOf(n, 0);
  if (ctx.DTypeOf(n, 0) != DType::FLOAT32)
    Unsupported("QuantizeLinear of " + TypeName(ctx.DTypeOf(n, 0)) +
                " values (only float values are quantized)");
  const Params p = ReadParams(ctx, n, 1, 2, xs, QdqAxis(n), n.output(0), DType::UINT8);
  if (p.type == DType::INT32) Unsupported("QuantizeLinear to int32");
  const ir::Quantization q8 = Int8Domain(p);
  const bool u8 = p.type == DType::UINT8;
  const ir::Tensor* c = ctx.InputIsGraphInput(n, 0) ? nullptr : ctx.TryConstant(n, 0);
  if (c != nullptr) {
    // A quantized constant (fake-quantized weights): computed now, as ONNX defines it.
    const auto x = c->values<float>();
    std::vector<int8_t> q(x.size());
    const int64_t lo = passes::DTypeMin(p.type), hi = passes::DTypeMax(p.type);
    for (size_t e = 0; e < x.size(); ++e) {
      const int64_t k = AxisIndex(xs, p.q.axis, static_cast<int64_t>(e));
      const int64_t v = passes::QuantizeValue(x[e], passes::ScaleAt(p.q, k),
                                              passes::ZeroPointAt(p.q, k), lo, hi);
      q[e] = static_cast<int8_t>(u8 ? v - 128 : v);
    }
    ir::Tensor t = ConstantOf(DType::INT8, xs, q);
    t.quant = q8;
    const int k = ctx.NewConstant(n.output(0), std::move(t));
    ctx.Bind(n.output(0), k);
    if (u8) ctx.MarkUint8(k);
    return;
  }
  const int x = ctx.Data(n, 0);
  const IntegerOutput out{DType::INT8, q8, u8};
  ctx.Emit(n, OpCode::QUANTIZE, {x}, {OutputAs(ctx, n, 0, xs, &out)}, QuantizeOptions());
}

void LowerDequantizeLinear(ImportContext& ctx, const OnnxNode& n) {
  RefuseNewerAttributes(n);
  const Shape xs = ctx.ShapeOf(n, 0);
  const DType ir_type = ctx.DTypeOf(n, 0);
  const DType type = OnnxType(ctx, n, 0);
  if (!IsQuantType(type))
    throw Error("input '" + n.input(0) + "' is " + opm::EnumNameDType(type) +
                "; DequantizeLinear takes int8, uint8 or int32");
  const Params p = ReadParams(ctx, n, 1, 2, xs, QdqAxis(n), n.input(0), type);
  if (p.type != type)
    throw Error("'" + n.input(0) + "' is " + TypeName(type) + " but its zero point '" +
                n.input(2) + "' is " + TypeName(p.type));
  // The parameters in the domain the IR stores x in (an INT8 tensor standing for uint8 values
  // has its zero points moved by -128; a UINT8 graph input keeps ONNX's).
  const ir::Quantization q_ir = ir_type == DType::INT8 ? Int8Domain(p) : p.q;
  const ir::Tensor* c = ctx.InputIsGraphInput(n, 0) ? nullptr : ctx.TryConstant(n, 0);
  if (c != nullptr) {
    if (c->quant.present() && !SameQuantization(c->quant, q_ir))
      Inconsistent(ctx, ctx.Weight(n, 0), q_ir);
    const std::vector<int64_t> x = host::ToInts(*c);
    std::vector<float> y(x.size());
    for (size_t e = 0; e < x.size(); ++e) {
      const int64_t k = AxisIndex(xs, q_ir.axis, static_cast<int64_t>(e));
      // ONNX: (x - zero_point) converted to float, times the scale, in float32.
      y[e] = static_cast<float>(x[e] - passes::ZeroPointAt(q_ir, k)) * passes::ScaleAt(q_ir, k);
    }
    ir::Tensor t = ConstantOf(DType::FLOAT32, xs, y);
    // The record of the integers (INT8 domain for 8-bit values, see the file comment).
    t.quant = type == DType::INT32 ? p.q : Int8Domain(p);
    ctx.Bind(n.output(0), ctx.NewConstant(n.output(0), std::move(t)));
    return;
  }
  int x = ctx.Data(n, 0);
  if (ir_type == DType::UINT8 && p.q.axis < 0) {
    // A uint8 graph input: read through its INT8 view, like the QLinear ops read it, so that
    // what follows can fold into integer ops. (FinishQuantization lets a DEQUANTIZE that
    // remains read the UINT8 input directly again.)
    x = QuantizedOperand(ctx, n, 0, x, p);
  } else {
    AttachQuant(ctx, x, ir_type == DType::INT8 ? Int8Domain(p) : p.q);
  }
  ctx.Emit(n, OpCode::DEQUANTIZE, {x}, {ctx.Output(n, 0, DType::FLOAT32, xs)}, QuantizeOptions());
}

// The INT32 bias of QLinearConv: one value per output channel, scale x_scale * w_scale[c].
int ConvBias(ImportContext& ctx, const OnnxNode& n, int i, const Params& px, const Params& pw,
             int64_t channels) {
  const ir::Tensor& bt = ctx.Constant(n, i, "bias");
  if (bt.dtype != DType::INT32)
    throw Error("bias '" + n.input(i) + "' must be int32, is " + opm::EnumNameDType(bt.dtype));
  if (bt.shape != Shape{channels})
    throw Error("bias '" + n.input(i) + "' has shape " + ShapeStr(bt.shape) + ", expected [" +
                std::to_string(channels) + "]");
  ir::Tensor b = bt;
  b.quant = {};
  b.quant.axis = 0;
  for (int64_t c = 0; c < channels; ++c) {
    b.quant.scale.push_back(px.q.scale[0] * passes::ScaleAt(pw.q, c));
    b.quant.zero_point.push_back(0);
  }
  return ctx.NewConstant(n.input(i), std::move(b));
}

void RequireConstantWeights(ImportContext& ctx, const OnnxNode& n, int i) {
  if (ctx.TryConstant(n, i) == nullptr)
    Unsupported(n.op_type() + " with weights '" + n.input(i) +
                "' computed at run time (integer convolutions take constant weights)");
}

// QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B): per-tensor x and y,
// per-tensor or per-output-channel w.
void LowerQLinearConv(ImportContext& ctx, const OnnxNode& n) {
  const Shape xs = ctx.ShapeOf(n, 0), ws = ctx.ShapeOf(n, 3);
  const Params px = ReadParams(ctx, n, 1, 2, xs, std::nullopt, n.input(0), OnnxType(ctx, n, 0));
  const Params pw = ReadParams(ctx, n, 4, 5, ws, 0, n.input(3), OnnxType(ctx, n, 3));
  const Params py = ReadParams(ctx, n, 6, 7, {}, std::nullopt, n.output(0), OnnxType(ctx, n, 0));
  RequireConstantWeights(ctx, n, 3);
  const int x = QuantizedOperand(ctx, n, 0, ctx.Data(n, 0), px);
  const int w = QuantizedOperand(ctx, n, 3, ctx.Weight(n, 3), pw);
  if (ws.empty()) throw Error("weights must have rank >= 3");
  const int b = n.has_input(8) ? ConvBias(ctx, n, 8, px, pw, ws[0]) : -1;
  const IntegerOutput out{DType::INT8, Int8Domain(py), py.type == DType::UINT8};
  EmitConv(ctx, n, x, w, b, &out);
}

// ConvInteger(x, w, x_zp, w_zp): INT32 accumulators of (x - x_zp) * (w - w_zp).
void LowerConvInteger(ImportContext& ctx, const OnnxNode& n) {
  const Shape xs = ctx.ShapeOf(n, 0), ws = ctx.ShapeOf(n, 1);
  const Params px = ReadZeroPoints(ctx, n, 2, xs, std::nullopt, n.input(0), OnnxType(ctx, n, 0));
  const Params pw = ReadZeroPoints(ctx, n, 3, ws, 0, n.input(1), OnnxType(ctx, n, 1));
  RequireConstantWeights(ctx, n, 1);
  const int x = QuantizedOperand(ctx, n, 0, ctx.Data(n, 0), px);
  const int w = QuantizedOperand(ctx, n, 1, ctx.Weight(n, 1), pw);
  const IntegerOutput out{DType::INT32, {}, false};
  EmitConv(ctx, n, x, w, -1, &out);
}

// The per-column axis of B: its last (B is [..., K, N]); 1-D B has one column.
std::optional<int64_t> ColumnAxis(const Shape& bs) {
  if (bs.size() < 2) return std::nullopt;
  return -1;
}

// QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp).
void LowerQLinearMatMul(ImportContext& ctx, const OnnxNode& n) {
  const Shape as = ctx.ShapeOf(n, 0), bs = ctx.ShapeOf(n, 3);
  const Params pa = ReadParams(ctx, n, 1, 2, as, std::nullopt, n.input(0), OnnxType(ctx, n, 0));
  const Params pb = ReadParams(ctx, n, 4, 5, bs, ColumnAxis(bs), n.input(3), OnnxType(ctx, n, 3));
  const Params py = ReadParams(ctx, n, 6, 7, {}, std::nullopt, n.output(0), OnnxType(ctx, n, 0));
  const int a = QuantizedOperand(ctx, n, 0, ctx.Data(n, 0), pa);
  const int b = QuantizedOperand(ctx, n, 3, ctx.Weight(n, 3), pb);
  const IntegerOutput out{DType::INT8, Int8Domain(py), py.type == DType::UINT8};
  EmitMatMul(ctx, n, a, b, &out);
}

// MatMulInteger(A, B, a_zp, b_zp): INT32 accumulators of (A - a_zp) * (B - b_zp).
void LowerMatMulInteger(ImportContext& ctx, const OnnxNode& n) {
  const Shape as = ctx.ShapeOf(n, 0), bs = ctx.ShapeOf(n, 1);
  if (n.has_input(2) && ir::NumElements(ctx.ShapeOf(n, 2)) > 1)
    Unsupported("per-row zero points of A ('" + n.input(2) +
                "'): activations are quantized per tensor");
  const Params pa = ReadZeroPoints(ctx, n, 2, as, std::nullopt, n.input(0), OnnxType(ctx, n, 0));
  const Params pb = ReadZeroPoints(ctx, n, 3, bs, ColumnAxis(bs), n.input(1), OnnxType(ctx, n, 1));
  const int a = QuantizedOperand(ctx, n, 0, ctx.Data(n, 0), pa);
  const int b = QuantizedOperand(ctx, n, 1, ctx.Weight(n, 1), pb);
  const IntegerOutput out{DType::INT32, {}, false};
  EmitMatMul(ctx, n, a, b, &out);
}

}  // namespace

void RegisterQuantOps(OpTable& t) {
  t["QuantizeLinear"] = LowerQuantizeLinear;
  t["DequantizeLinear"] = LowerDequantizeLinear;
  t["QLinearConv"] = LowerQLinearConv;
  t["QLinearMatMul"] = LowerQLinearMatMul;
  t["ConvInteger"] = LowerConvInteger;
  t["MatMulInteger"] = LowerMatMulInteger;
}

}  // namespace outpost::import
