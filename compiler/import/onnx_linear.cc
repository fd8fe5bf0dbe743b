// Gemm and MatMul.
//
// With constant weights both become FULLY_CONNECTED (y = x W^T + b, W stored [N, K]): the
// transposition and alpha are applied to the weights here, once, and a bias that is one value
// per output column goes into the op. Runtime weights use MATMUL, with MUL and ADD for alpha,
// beta and C.
#include "compiler/import/host_eval.h"
#include "compiler/import/import_context.h"
#include "compiler/passes/quant_params.h"

namespace outpost::import {
namespace {

opm::OpOptionsUnion FcOptions() {
  opm::OpOptionsUnion o;
  o.Set(opm::FullyConnectedOptionsT{});
  return o;
}

int Transpose2D(ImportContext& ctx, const OnnxNode& n, int x, const std::string& suffix) {
  const Shape& s = ctx.tensor(x).shape;
  const int y = ctx.NewActivation(n.name() + "/" + suffix, ctx.tensor(x).dtype, {s[1], s[0]});
  opm::TransposeOptionsT o;
  o.perm = {1, 0};
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  ctx.Emit(n, OpCode::TRANSPOSE, {x}, {y}, std::move(u), suffix);
  return y;
}

std::vector<float> Floats(const ir::Tensor& t) {
  if (t.dtype != DType::FLOAT32) throw Error("'" + t.name + "' must be FLOAT32");
  auto v = t.values<float>();
  return {v.begin(), v.end()};
}

// x * factor into `into` (a new tensor when -1).
int MulBy(ImportContext& ctx, const OnnxNode& n, int x, float factor, const std::string& suffix,
          int into = -1) {
  const int f = ctx.NewConstant<float>(n.name() + "/" + suffix, DType::FLOAT32, {},
                                       std::vector<float>{factor});
  const int y = into >= 0 ? into
                          : ctx.NewActivation(n.name() + "/" + suffix + "_out", DType::FLOAT32,
                                              ctx.tensor(x).shape);
  ctx.Emit(n, OpCode::MUL, {x, f}, {y}, BinaryOptions(), suffix);
  return y;
}

// Whether C (broadcast to [M, N]) holds one value per column: then it is the FC bias.
bool IsRowBias(const Shape& cs, int64_t cols) {
  if (cs.size() > 2 || (cs.size() == 2 && cs[0] != 1)) return false;
  return cs.empty() || cs.back() == 1 || cs.back() == cols;
}

void LowerGemm(ImportContext& ctx, const OnnxNode& n) {
  const float alpha = n.Float("alpha", 1.0f);
  const float beta = n.Float("beta", 1.0f);
  const bool trans_a = n.Int("transA", 0) != 0;
  const bool trans_b = n.Int("transB", 0) != 0;
  int a = ctx.Data(n, 0);
  const int b = ctx.Weight(n, 1);
  const int c = n.has_input(2) && beta != 0.0f ? ctx.Weight(n, 2) : -1;
  const Shape as = ctx.tensor(a).shape, bs = ctx.tensor(b).shape;
  if (as.size() != 2 || bs.size() != 2)
    throw Error("A and B must be 2-D, are " + ShapeStr(as) + " and " + ShapeStr(bs));
  const int64_t m = trans_a ? as[1] : as[0], k = trans_a ? as[0] : as[1];
  const int64_t kb = trans_b ? bs[1] : bs[0], cols = trans_b ? bs[0] : bs[1];
  if (k != kb) throw Error("A " + ShapeStr(as) + " and B " + ShapeStr(bs) + " do not multiply");
  const Shape out = {m, cols};
  Shape cs;
  if (c >= 0) {
    cs = ctx.tensor(c).shape;
    if (BroadcastShapes(cs, out) != out)
      throw Error("C of shape " + ShapeStr(cs) + " does not broadcast to " + ShapeStr(out));
  }
  if (trans_a) a = Transpose2D(ctx, n, a, "transpose_a");

  const bool c_const = c >= 0 && ctx.tensor(c).constant;
  const bool c_is_row = c_const && IsRowBias(cs, cols);
  int y;
  if (ctx.tensor(b).constant) {
    // W[N, K] = alpha * (transB ? B : B^T).
    const ir::Tensor& bt = ctx.tensor(b);
    std::vector<float> w = Floats(trans_b ? bt : host::Transpose(bt, {1, 0}));
    if (alpha != 1.0f)
      for (float& v : w) v *= alpha;
    // A dequantized B (onnx_quant_ops.cc) keeps its record: transposed with the values and
    // scaled by alpha, it still describes the integers the weights are made of.
    const ir::Quantization bq = bt.quant;
    const int wt = ctx.NewConstant<float>(n.name() + "/weights", DType::FLOAT32, {cols, k}, w);
    if (bq.present() && alpha > 0.0f) {
      ir::Quantization q = trans_b ? bq : passes::TransposedQuantization(bq, {1, 0});
      for (float& s : q.scale) s *= alpha;
      ctx.graph().tensors[wt].quant = q;
    }
    int bias = -1;
    if (c_is_row) {
      const std::vector<float> cv = Floats(ctx.tensor(c));
      const ir::Quantization cq = ctx.tensor(c).quant;
      std::vector<float> bv(cols);
      for (int64_t j = 0; j < cols; ++j) bv[j] = beta * cv[cv.size() == 1 ? 0 : j];
      bias = ctx.NewConstant<float>(n.name() + "/bias", DType::FLOAT32, {cols}, bv);
      // A per-column record of C ([N] or [1, N]) becomes one over the bias' only axis.
      if (cq.present() && beta > 0.0f && (cq.axis < 0 || cq.scale.size() == static_cast<size_t>(cols))) {
        ir::Quantization q = cq;
        if (q.axis >= 0) q.axis = 0;
        for (float& s : q.scale) s *= beta;
        ctx.graph().tensors[bias].quant = q;
      }
    }
    const bool add_c = c >= 0 && !c_is_row;
    y = add_c ? ctx.NewActivation(n.name() + "/fc", DType::FLOAT32, out)
              : ctx.Output(n, 0, DType::FLOAT32, out);
    std::vector<int> inputs = {a, wt};
    if (bias >= 0) inputs.push_back(bias);
    ctx.Emit(n, OpCode::FULLY_CONNECTED, inputs, {y}, FcOptions(), add_c ? "fc" : "");
    if (!add_c) return;
  } else {
    const int bb = trans_b ? Transpose2D(ctx, n, b, "transpose_b") : b;
    const bool last = alpha == 1.0f && c < 0;
    y = last ? ctx.Output(n, 0, DType::FLOAT32, out)
             : ctx.NewActivation(n.name() + "/matmul", DType::FLOAT32, out);
    opm::OpOptionsUnion u;
    u.Set(opm::MatMulOptionsT{});
    ctx.Emit(n, OpCode::MATMUL, {a, bb}, {y}, std::move(u), last ? "" : "matmul");
    if (last) return;
    if (alpha != 1.0f) {
      if (c < 0) {
        MulBy(ctx, n, y, alpha, "alpha", ctx.Output(n, 0, DType::FLOAT32, out));
        return;
      }
      y = MulBy(ctx, n, y, alpha, "alpha");
    }
  }
  // y + beta * C for a C that is not a per-column bias (or when B is computed at run time).
  int cc = c;
  if (beta != 1.0f) cc = MulBy(ctx, n, c, beta, "beta");  // folds when C is constant
  ctx.Emit(n, OpCode::ADD, {y, cc}, {ctx.Output(n, 0, DType::FLOAT32, out)}, BinaryOptions(),
           "add_c");
}

void LowerMatMul(ImportContext& ctx, const OnnxNode& n) {
  EmitMatMul(ctx, n, ctx.Data(n, 0), ctx.Data(n, 1), nullptr);
}

}  // namespace

void EmitMatMul(ImportContext& ctx, const OnnxNode& n, int a, int b, const IntegerOutput* typed) {
  const Shape as = ctx.tensor(a).shape, bs = ctx.tensor(b).shape;
  if (as.empty() || bs.empty()) throw Error("MatMul operands must have rank >= 1");
  // NumPy matmul: 1-D operands gain a dimension (A in front, B at the back) that the result
  // then drops; the batch dimensions broadcast.
  const Shape a2 = as.size() == 1 ? Shape{1, as[0]} : as;
  const Shape b2 = bs.size() == 1 ? Shape{bs[0], 1} : bs;
  const int64_t k = a2.back();
  if (b2[b2.size() - 2] != k)
    throw Error("A " + ShapeStr(as) + " and B " + ShapeStr(bs) + " do not multiply");
  Shape out = BroadcastShapes(Shape(a2.begin(), a2.end() - 2), Shape(b2.begin(), b2.end() - 2));
  if (as.size() > 1) out.push_back(a2[a2.size() - 2]);
  if (bs.size() > 1) out.push_back(b2.back());

  // Float weights, or the INT8 weights of a quantized product.
  const DType weight_dtype = typed ? DType::INT8 : DType::FLOAT32;
  if (ctx.tensor(b).constant && bs.size() == 2 && as.size() >= 2 &&
      ctx.tensor(b).dtype == weight_dtype && !ctx.tensor(a).constant) {
    // x[..., K] * B[K, N] is a fully connected layer over the flattened leading dimensions.
    ir::Tensor w = host::Transpose(ctx.tensor(b), {1, 0});
    // Per-column parameters of B become per-output-channel ones of the weights (axis 0).
    w.quant = passes::TransposedQuantization(ctx.tensor(b).quant, {1, 0});
    const int wt = ctx.NewConstant(n.name() + "/weights", std::move(w));
    const int64_t rows = ir::NumElements(as) / k;
    const int x2 = ctx.Reshape(n, a, {rows, k}, "flatten");
    if (as.size() == 2) {
      ctx.Emit(n, OpCode::FULLY_CONNECTED, {x2, wt}, {OutputAs(ctx, n, 0, out, typed)},
               FcOptions());
      return;
    }
    const int y2 = ActivationAs(ctx, n.name() + "/fc", {rows, bs[1]}, typed);
    ctx.Emit(n, OpCode::FULLY_CONNECTED, {x2, wt}, {y2}, FcOptions(), "fc");
    ctx.ReshapeInto(n, y2, OutputAs(ctx, n, 0, out, typed), "unflatten");
    return;
  }
  if (typed && ctx.tensor(b).quant.axis >= 0)
    Unsupported("per-column quantization of B ('" + ctx.tensor(b).name +
                "') in a batched or run-time matrix product (only a constant 2-D B, which "
                "becomes a fully connected layer, may be quantized per column)");
  opm::OpOptionsUnion u;
  u.Set(opm::MatMulOptionsT{});
  const int y = typed ? OutputAs(ctx, n, 0, out, typed)
                      : ctx.Output(n, 0, ctx.tensor(a).dtype, out);
  ctx.Emit(n, OpCode::MATMUL, {a, b}, {y}, std::move(u));
}

void RegisterLinearOps(OpTable& t) {
  t["Gemm"] = LowerGemm;
  t["MatMul"] = LowerMatMul;
}

}  // namespace outpost::import
