// Gemm and MatMul.
//
// With constant weights both become FULLY_CONNECTED (y = x W^T + b, W stored [N, K]): the
// transposition and alpha are applied to the weights here, once, and a bias that is one value
// per output column goes into the op. Runtime weights use MATMUL, with MUL and ADD for alpha,
// beta and C.
#include "compiler/import/host_eval.h"
#include "compiler/import/import_context.h"

namespace outpost::import {
namespace {

opm::OpOptionsUnion BinaryOptions() {
  opm::OpOptionsUnion o;
  o.Set(opm::BinaryOptionsT{});
  return o;
}

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
    const int wt = ctx.NewConstant<float>(n.name() + "/weights", DType::FLOAT32, {cols, k}, w);
    int bias = -1;
    if (c_is_row) {
      const std::vector<float> cv = Floats(ctx.tensor(c));
      std::vector<float> bv(cols);
      for (int64_t j = 0; j < cols; ++j) bv[j] = beta * cv[cv.size() == 1 ? 0 : j];
      bias = ctx.NewConstant<float>(n.name() + "/bias", DType::FLOAT32, {cols}, bv);
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
  const int a = ctx.Data(n, 0);
  const int b = ctx.Data(n, 1);
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

  if (ctx.tensor(b).constant && bs.size() == 2 && as.size() >= 2 &&
      ctx.tensor(b).dtype == DType::FLOAT32 && !ctx.tensor(a).constant) {
    // x[..., K] * B[K, N] is a fully connected layer over the flattened leading dimensions.
    const int wt = ctx.NewConstant(n.name() + "/weights", host::Transpose(ctx.tensor(b), {1, 0}));
    const int64_t rows = ir::NumElements(as) / k;
    const int x2 = ctx.Reshape(n, a, {rows, k}, "flatten");
    if (as.size() == 2) {
      ctx.Emit(n, OpCode::FULLY_CONNECTED, {x2, wt}, {ctx.Output(n, 0, DType::FLOAT32, out)},
               FcOptions());
      return;
    }
    const int y2 = ctx.NewActivation(n.name() + "/fc", DType::FLOAT32, {rows, bs[1]});
    ctx.Emit(n, OpCode::FULLY_CONNECTED, {x2, wt}, {y2}, FcOptions(), "fc");
    ctx.ReshapeInto(n, y2, ctx.Output(n, 0, DType::FLOAT32, out), "unflatten");
    return;
  }
  opm::OpOptionsUnion u;
  u.Set(opm::MatMulOptionsT{});
  ctx.Emit(n, OpCode::MATMUL, {a, b}, {ctx.Output(n, 0, ctx.tensor(a).dtype, out)}, std::move(u));
}

}  // namespace

void RegisterLinearOps(OpTable& t) {
  t["Gemm"] = LowerGemm;
  t["MatMul"] = LowerMatMul;
}

}  // namespace outpost::import
