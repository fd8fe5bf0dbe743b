// Ops evaluated entirely at import time: Constant, Shape, Cast, ConstantOfShape, Range, Equal,
// Where. Exporters emit them to compute shapes (Shape -> Gather -> Concat -> Reshape); the
// runtime has no kernels for them, so their inputs must be known while importing (for Shape,
// only the input's static shape is).
#include <cmath>

#include "compiler/import/host_eval.h"
#include "compiler/import/import_context.h"
#include "onnx/onnx_pb.h"

namespace outpost::import {
namespace {

void LowerConstant(ImportContext& ctx, const OnnxNode& n) {
  ir::Tensor t;
  if (const auto* a = n.Attr("value")) {
    t = TensorFromOnnx(a->t());
  } else if (n.has_attr("value_float")) {
    t = host::FromDoubles(DType::FLOAT32, {}, {n.Float("value_float", 0.0f)});
  } else if (n.has_attr("value_floats")) {
    const std::vector<float> v = n.Floats("value_floats");
    t = host::FromDoubles(DType::FLOAT32, {static_cast<int64_t>(v.size())},
                          std::vector<double>(v.begin(), v.end()));
  } else if (n.has_attr("value_int")) {
    t = host::FromInts(DType::INT64, {}, {n.Int("value_int", 0)});
  } else if (n.has_attr("value_ints")) {
    const std::vector<int64_t> v = n.Ints("value_ints");
    t = host::FromInts(DType::INT64, {static_cast<int64_t>(v.size())}, v);
  } else if (n.has_attr("value_string") || n.has_attr("value_strings")) {
    Unsupported("string constants");
  } else if (n.has_attr("sparse_value")) {
    Unsupported("sparse constants");
  } else {
    throw Error("Constant has no value attribute");
  }
  ctx.OutputConstant(n, 0, std::move(t));
}

void LowerShape(ImportContext& ctx, const OnnxNode& n) {
  const Shape xs = ctx.ShapeOf(n, 0);
  const int64_t rank = static_cast<int64_t>(xs.size());
  // start / end (opset 15) select a range of axes, clamped like Python slicing.
  auto clamp = [&](int64_t v) {
    if (v < 0) v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  const int64_t start = clamp(n.Int("start", 0));
  const int64_t end = clamp(n.Int("end", rank));
  std::vector<int64_t> dims;
  for (int64_t k = start; k < end; ++k) dims.push_back(xs[k]);
  ctx.OutputConstant(n, 0, host::FromInts(DType::INT64, {static_cast<int64_t>(dims.size())}, dims));
}

void LowerCast(ImportContext& ctx, const OnnxNode& n) {
  const int to_onnx = static_cast<int>(n.Int("to", 0));
  DType to;
  if (!RuntimeDType(to_onnx, &to))
    Unsupported("Cast to " + OnnxTypeName(to_onnx) +
                " (the runtime has FLOAT32, INT8, UINT8, INT16, INT32, INT64 and BOOL)");
  if (ctx.InputIsUint8(n, 0)) {
    // INT8 in the IR, uint8 in the model (ImportContext::MarkUint8): exporters cast quantized
    // values to their own type (PyTorch writes Cast(to=UINT8) between QuantizeLinear and
    // DequantizeLinear), which changes nothing.
    if (to == DType::UINT8) {
      ctx.Alias(n.output(0), n, 0);
      return;
    }
    if (const ir::Tensor* x = ctx.TryConstant(n, 0)) {
      std::vector<int64_t> v = host::ToInts(*x);
      for (int64_t& e : v) e += 128;
      ctx.OutputConstant(n, 0, host::Cast(host::FromInts(DType::UINT8, x->shape, v), to));
      return;
    }
    Unsupported(std::string("Cast of quantized uint8 values to ") + opm::EnumNameDType(to) +
                " (use DequantizeLinear)");
  }
  if (const ir::Tensor* x = ctx.TryConstant(n, 0)) {
    ctx.OutputConstant(n, 0, host::Cast(*x, to));
    return;
  }
  if (ctx.DTypeOf(n, 0) == to) {
    ctx.Alias(n.output(0), n, 0);
    return;
  }
  Unsupported(std::string("Cast of a runtime tensor to ") + opm::EnumNameDType(to) +
              " (the runtime has no Cast kernel: only a cast of a constant, or to the dtype the "
              "tensor already has, is accepted)");
}

void LowerConstantOfShape(ImportContext& ctx, const OnnxNode& n) {
  const std::vector<int64_t> shape = ctx.ConstantInts(n, 0, "shape");
  for (int64_t d : shape)
    if (d < 0) throw Error("shape has a negative dimension");
  ir::Tensor value = host::FromDoubles(DType::FLOAT32, {1}, {0.0});
  if (const auto* a = n.Attr("value")) value = TensorFromOnnx(a->t());
  if (value.num_elements() != 1) throw Error("value must hold one element");
  const std::vector<int64_t> index(static_cast<size_t>(ir::NumElements(shape)), 0);
  ctx.OutputConstant(n, 0, host::Take(value, shape, index));
}

void LowerRange(ImportContext& ctx, const OnnxNode& n) {
  const ir::Tensor& start_t = ctx.Constant(n, 0, "start");
  const DType dt = start_t.dtype;
  const double start = host::ToDoubles(start_t).at(0);
  const double limit = host::ToDoubles(ctx.Constant(n, 1, "limit")).at(0);
  const double delta = host::ToDoubles(ctx.Constant(n, 2, "delta")).at(0);
  if (delta == 0.0) throw Error("delta must not be 0");
  const int64_t count =
      std::max<int64_t>(0, static_cast<int64_t>(std::ceil((limit - start) / delta)));
  if (dt == DType::FLOAT32) {
    // The ONNX definition accumulates in the output type: start + i * delta, in float.
    std::vector<double> v(count);
    const float s = static_cast<float>(start), d = static_cast<float>(delta);
    for (int64_t i = 0; i < count; ++i) v[i] = s + static_cast<float>(i) * d;
    ctx.OutputConstant(n, 0, host::FromDoubles(dt, {count}, v));
    return;
  }
  const int64_t s = host::ToInts(ctx.Constant(n, 0, "start")).at(0);
  const int64_t d = host::ToInts(ctx.Constant(n, 2, "delta")).at(0);
  std::vector<int64_t> v(count);
  for (int64_t i = 0; i < count; ++i) v[i] = s + i * d;
  ctx.OutputConstant(n, 0, host::FromInts(dt, {count}, v));
}

// Ops with no runtime kernel: every input must be known at import time.
std::vector<ir::Tensor> ConstantInputs(ImportContext& ctx, const OnnxNode& n, int count) {
  std::vector<ir::Tensor> v;
  for (int i = 0; i < count; ++i) {
    const ir::Tensor* t = ctx.TryConstant(n, i);
    if (t == nullptr)
      Unsupported(n.op_type() +
                  " on tensors computed at run time (the runtime has no kernel for "
                  "it; it is evaluated at import time when its inputs are constant)");
    v.push_back(*t);
  }
  return v;
}

void LowerEqual(ImportContext& ctx, const OnnxNode& n) {
  const std::vector<ir::Tensor> in = ConstantInputs(ctx, n, 2);
  if (in[0].dtype != in[1].dtype) throw Error("operands have different dtypes");
  ctx.OutputConstant(n, 0, host::Equal(in[0], in[1]));
}

void LowerWhere(ImportContext& ctx, const OnnxNode& n) {
  const std::vector<ir::Tensor> in = ConstantInputs(ctx, n, 3);
  ctx.OutputConstant(n, 0, host::Where(in[0], in[1], in[2]));
}

}  // namespace

void RegisterShapeOps(OpTable& t) {
  t["Constant"] = LowerConstant;
  t["Shape"] = LowerShape;
  t["Cast"] = LowerCast;
  t["ConstantOfShape"] = LowerConstantOfShape;
  t["Range"] = LowerRange;
  t["Equal"] = LowerEqual;
  t["Where"] = LowerWhere;
}

}  // namespace outpost::import
