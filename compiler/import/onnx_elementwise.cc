// Element-wise ops: arithmetic with broadcasting, activations, Softmax, BatchNormalization,
// and the ops that vanish at inference time (Identity, Dropout).
#include <cmath>

#include "compiler/import/host_eval.h"
#include "compiler/import/import_context.h"

namespace outpost::import {
namespace {

void LowerBinary(OpCode op, ImportContext& ctx, const OnnxNode& n) {
  const int a = ctx.Data(n, 0);
  const int b = ctx.Data(n, 1);
  const ir::Tensor& ta = ctx.tensor(a);
  const ir::Tensor& tb = ctx.tensor(b);
  if (ta.dtype != tb.dtype)
    throw Error(std::string("operands have different dtypes ") + opm::EnumNameDType(ta.dtype) +
                " and " + opm::EnumNameDType(tb.dtype));
  const Shape out = BroadcastShapes(ta.shape, tb.shape);
  const int y = ctx.Output(n, 0, ta.dtype, out);
  ctx.Emit(n, op, {a, b}, {y}, BinaryOptions());
}

// An op with one input and one output of the same shape.
void LowerUnary(OpCode op, ImportContext& ctx, const OnnxNode& n,
                opm::OpOptionsUnion options = {}) {
  const int x = ctx.Data(n, 0);
  const int y = ctx.Output(n, 0, ctx.tensor(x).dtype, ctx.tensor(x).shape);
  ctx.Emit(n, op, {x}, {y}, std::move(options));
}

void LowerLeakyRelu(ImportContext& ctx, const OnnxNode& n) {
  opm::LeakyReluOptionsT o;
  o.alpha = n.Float("alpha", 0.01f);
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  LowerUnary(OpCode::LEAKY_RELU, ctx, n, std::move(u));
}

void LowerHardSigmoid(ImportContext& ctx, const OnnxNode& n) {
  opm::HardSigmoidOptionsT o;
  o.alpha = n.Float("alpha", 0.2f);
  o.beta = n.Float("beta", 0.5f);
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  LowerUnary(OpCode::HARD_SIGMOID, ctx, n, std::move(u));
}

void LowerPRelu(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const int slope = ctx.Weight(n, 1);
  const Shape& xs = ctx.tensor(x).shape;
  // ONNX broadcasts the slope to X in one direction only: the output has X's shape.
  if (BroadcastShapes(xs, ctx.tensor(slope).shape) != xs)
    throw Error("slope of shape " + ShapeStr(ctx.tensor(slope).shape) +
                " does not broadcast to the input shape " + ShapeStr(xs));
  const int y = ctx.Output(n, 0, ctx.tensor(x).dtype, xs);
  ctx.Emit(n, OpCode::PRELU, {x, slope}, {y});
}

float ScalarBound(ImportContext& ctx, const OnnxNode& n, int i, const char* what) {
  const std::vector<float> v = ctx.ConstantFloats(n, i, what);
  if (v.size() != 1) throw Error(std::string(what) + " must be a scalar");
  return v[0];
}

void LowerClip(ImportContext& ctx, const OnnxNode& n) {
  opm::ClipOptionsT o;
  o.min = -INFINITY;
  o.max = INFINITY;
  if (n.has_attr("min") || n.has_attr("max")) {  // opset < 11: bounds are attributes
    o.min = n.Float("min", -INFINITY);
    o.max = n.Float("max", INFINITY);
  }
  if (n.has_input(1)) o.min = ScalarBound(ctx, n, 1, "min");
  if (n.has_input(2)) o.max = ScalarBound(ctx, n, 2, "max");
  // ONNX (like numpy.clip) yields max everywhere when min > max; a clamp to [max, max] does.
  if (o.min > o.max) o.min = o.max;
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  LowerUnary(OpCode::CLIP, ctx, n, std::move(u));
}

void LowerSoftmax(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  const DType dt = ctx.tensor(x).dtype;
  auto softmax = [&](int in, int out, int axis, const std::string& suffix) {
    opm::SoftmaxOptionsT o;
    o.axis = axis;
    opm::OpOptionsUnion u;
    u.Set(std::move(o));
    ctx.Emit(n, OpCode::SOFTMAX, {in}, {out}, std::move(u), suffix);
  };
  if (n.opset() >= 13) {
    const int axis = NormalizeAxis(n.Int("axis", -1), xs.size(), "axis");
    softmax(x, ctx.Output(n, 0, dt, xs), axis, "");
    return;
  }
  // Before opset 13 Softmax flattens the input to 2-D at `axis` ([d0*..*d(axis-1),
  // d(axis)*..*dn]) and normalizes each row: one softmax over all the trailing axes.
  const int axis = NormalizeAxis(n.Int("axis", 1), xs.size(), "axis");
  if (axis == static_cast<int>(xs.size()) - 1) {
    softmax(x, ctx.Output(n, 0, dt, xs), axis, "");
    return;
  }
  int64_t rows = 1, cols = 1;
  for (size_t k = 0; k < xs.size(); ++k) (static_cast<int>(k) < axis ? rows : cols) *= xs[k];
  const int flat = ctx.Reshape(n, x, {rows, cols}, "flatten");
  const int soft = ctx.NewActivation(n.name() + "/softmax", dt, {rows, cols});
  softmax(flat, soft, 1, "softmax");
  ctx.ReshapeInto(n, soft, ctx.Output(n, 0, dt, xs), "unflatten");
}

// Inference BatchNormalization y = (x - mean) / sqrt(var + eps) * scale + bias becomes
// MUL by s = scale / sqrt(var + eps) then ADD of t = bias - mean * s, both shaped [C, 1, ...]
// to broadcast over N, C, spatial...: the pattern the BN-folding pass merges into a preceding
// convolution or fully connected layer.
void LowerBatchNorm(ImportContext& ctx, const OnnxNode& n) {
  if (n.Int("training_mode", 0) != 0)
    Unsupported("BatchNormalization in training mode (training_mode=1)");
  for (int k = 1; k < n.num_outputs(); ++k)
    if (n.has_output(k))
      Unsupported("BatchNormalization training outputs (running mean and variance)");
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  if (xs.size() < 2) throw Error("input must have rank >= 2, has shape " + ShapeStr(xs));
  const int64_t c = xs[1];
  const std::vector<float> scale = ctx.ConstantFloats(n, 1, "scale");
  const std::vector<float> bias = ctx.ConstantFloats(n, 2, "bias");
  const std::vector<float> mean = ctx.ConstantFloats(n, 3, "mean");
  const std::vector<float> var = ctx.ConstantFloats(n, 4, "variance");
  for (const auto* v : {&scale, &bias, &mean, &var})
    if (static_cast<int64_t>(v->size()) != c)
      throw Error("scale, bias, mean and variance must have " + std::to_string(c) +
                  " values (the input's channels)");
  const double eps = n.Float("epsilon", 1e-5f);
  std::vector<float> s(c), t(c);
  for (int64_t i = 0; i < c; ++i) {
    const double si = scale[i] / std::sqrt(static_cast<double>(var[i]) + eps);
    s[i] = static_cast<float>(si);
    t[i] = static_cast<float>(bias[i] - mean[i] * si);
  }
  Shape cshape(xs.size() - 1, 1);
  cshape[0] = c;
  const int sc = ctx.NewConstant<float>(n.name() + "/scale", DType::FLOAT32, cshape, s);
  const int sh = ctx.NewConstant<float>(n.name() + "/shift", DType::FLOAT32, cshape, t);
  const int mid = ctx.NewActivation(n.name() + "/scaled", DType::FLOAT32, xs);
  ctx.Emit(n, OpCode::MUL, {x, sc}, {mid}, BinaryOptions(), "scale");
  const int y = ctx.Output(n, 0, DType::FLOAT32, xs);
  ctx.Emit(n, OpCode::ADD, {mid, sh}, {y}, BinaryOptions(), "shift");
}

void LowerDropout(ImportContext& ctx, const OnnxNode& n) {
  bool training = false;
  if (n.has_input(2)) {
    const std::vector<int64_t> t = ctx.ConstantInts(n, 2, "training_mode");
    training = !t.empty() && t[0] != 0;
  }
  if (training) {
    float ratio = n.Float("ratio", 0.5f);
    if (n.has_input(1)) ratio = ctx.ConstantFloats(n, 1, "ratio").at(0);
    if (ratio != 0.0f) Unsupported("Dropout in training mode with ratio != 0 (it is random)");
  }
  // Inference (or ratio 0): the output is the input and the mask keeps everything.
  if (n.has_output(1)) {
    const Shape xs = ctx.ShapeOf(n, 0);
    const std::vector<int64_t> ones(static_cast<size_t>(ir::NumElements(xs)), 1);
    ctx.OutputConstant(n, 1, host::FromInts(DType::BOOL, xs, ones));
  }
  ctx.Alias(n.output(0), n, 0);
}

}  // namespace

void RegisterElementwiseOps(OpTable& t) {
  t["Add"] = [](ImportContext& c, const OnnxNode& n) { LowerBinary(OpCode::ADD, c, n); };
  t["Sub"] = [](ImportContext& c, const OnnxNode& n) { LowerBinary(OpCode::SUB, c, n); };
  t["Mul"] = [](ImportContext& c, const OnnxNode& n) { LowerBinary(OpCode::MUL, c, n); };
  t["Div"] = [](ImportContext& c, const OnnxNode& n) { LowerBinary(OpCode::DIV, c, n); };
  t["Relu"] = [](ImportContext& c, const OnnxNode& n) { LowerUnary(OpCode::RELU, c, n); };
  t["Sigmoid"] = [](ImportContext& c, const OnnxNode& n) { LowerUnary(OpCode::SIGMOID, c, n); };
  t["Tanh"] = [](ImportContext& c, const OnnxNode& n) { LowerUnary(OpCode::TANH, c, n); };
  t["HardSwish"] = [](ImportContext& c, const OnnxNode& n) {
    LowerUnary(OpCode::HARD_SWISH, c, n);
  };
  t["LeakyRelu"] = LowerLeakyRelu;
  t["HardSigmoid"] = LowerHardSigmoid;
  t["PRelu"] = LowerPRelu;
  t["Clip"] = LowerClip;
  t["Softmax"] = LowerSoftmax;
  t["BatchNormalization"] = LowerBatchNorm;
  t["Dropout"] = LowerDropout;
  t["Identity"] = [](ImportContext& c, const OnnxNode& n) { c.Alias(n.output(0), n, 0); };
}

}  // namespace outpost::import
