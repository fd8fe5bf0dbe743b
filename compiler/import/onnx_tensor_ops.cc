// Data movement: Concat, Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Slice, Split,
// Gather, Expand. Reshape-like ops (Flatten, Squeeze, Unsqueeze) all become RESHAPE. On
// constants every one of them is evaluated at import time, whatever the dtype.
#include <algorithm>
#include <numeric>
#include <set>

#include "compiler/import/host_eval.h"
#include "compiler/import/import_context.h"

namespace outpost::import {
namespace {

void LowerConcat(ImportContext& ctx, const OnnxNode& n) {
  if (!n.has_attr("axis")) throw Error("attribute 'axis' is required");
  std::vector<int> parts;
  for (int i = 0; i < n.num_inputs(); ++i) parts.push_back(ctx.Data(n, i));
  if (parts.empty()) throw Error("needs at least one input");
  const Shape first = ctx.tensor(parts[0]).shape;
  const int axis = NormalizeAxis(n.Int("axis", 0), first.size(), "axis");
  Shape out = first;
  out[axis] = 0;
  for (int p : parts) {
    const ir::Tensor& t = ctx.tensor(p);
    bool same = t.shape.size() == first.size() && t.dtype == ctx.tensor(parts[0]).dtype;
    for (size_t k = 0; same && k < first.size(); ++k)
      same = static_cast<int>(k) == axis || t.shape[k] == first[k];
    if (!same)
      throw Error("input '" + t.name + "' of shape " + ShapeStr(t.shape) +
                  " does not concatenate with " + ShapeStr(first) + " on axis " +
                  std::to_string(axis));
    out[axis] += t.shape[axis];
  }
  // Inputs with no elements contribute nothing (the runtime has no empty tensors).
  std::vector<int> kept;
  for (int p : parts)
    if (ctx.tensor(p).num_elements() > 0) kept.push_back(p);
  if (kept.empty()) kept.push_back(parts[0]);
  if (kept.size() == 1 && ctx.tensor(kept[0]).shape == out) {
    ctx.Bind(n.output(0), kept[0]);
    return;
  }
  opm::ConcatOptionsT o;
  o.axis = axis;
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  ctx.Emit(n, OpCode::CONCAT, kept, {ctx.Output(n, 0, ctx.tensor(parts[0]).dtype, out)},
           std::move(u));
}

void ReshapeTo(ImportContext& ctx, const OnnxNode& n, int x, const Shape& out) {
  if (ir::NumElements(out) != ctx.tensor(x).num_elements())
    throw Error("cannot reshape " + ShapeStr(ctx.tensor(x).shape) + " to " + ShapeStr(out));
  ctx.ReshapeInto(n, x, ctx.Output(n, 0, ctx.tensor(x).dtype, out), "");
}

void LowerReshape(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  const std::vector<int64_t> spec = ctx.ConstantInts(n, 1, "shape");
  const bool allow_zero = n.opset() >= 14 && n.Int("allowzero", 0) != 0;
  Shape out(spec.size());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] == -1) {
      if (infer >= 0) throw Error("shape has more than one -1");
      infer = static_cast<int>(i);
      continue;
    }
    if (spec[i] < -1) throw Error("shape value " + std::to_string(spec[i]) + " is invalid");
    if (spec[i] == 0 && !allow_zero) {
      // 0 copies the input dimension at the same index.
      if (i >= xs.size())
        throw Error("shape has 0 at index " + std::to_string(i) + " beyond the input rank");
      out[i] = xs[i];
    } else {
      out[i] = spec[i];
    }
    known *= out[i];
  }
  const int64_t total = ir::NumElements(xs);
  if (infer >= 0) {
    if (known == 0 || total % known != 0)
      throw Error("cannot reshape " + ShapeStr(xs) + " to " + ShapeStr(spec));
    out[infer] = total / known;
  }
  ReshapeTo(ctx, n, x, out);
}

void LowerFlatten(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  int64_t axis = n.Int("axis", 1);
  const int64_t r = static_cast<int64_t>(xs.size());
  if (axis < -r || axis > r) throw Error("axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += r;
  int64_t rows = 1;
  for (int64_t k = 0; k < axis; ++k) rows *= xs[k];
  ReshapeTo(ctx, n, x, {rows, rows == 0 ? 0 : ir::NumElements(xs) / rows});
}

void LowerTranspose(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  std::vector<int64_t> perm = n.Ints("perm");
  if (perm.empty()) {
    for (int64_t k = static_cast<int64_t>(xs.size()) - 1; k >= 0; --k) perm.push_back(k);
  }
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(xs.size());
  std::iota(iota.begin(), iota.end(), 0);
  if (sorted != iota) throw Error("perm " + ShapeStr(perm) + " is not a permutation");
  if (perm == iota) {
    ctx.Bind(n.output(0), x);
    return;
  }
  Shape out(xs.size());
  opm::TransposeOptionsT o;
  for (size_t k = 0; k < perm.size(); ++k) {
    out[k] = xs[perm[k]];
    o.perm.push_back(static_cast<int32_t>(perm[k]));
  }
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  ctx.Emit(n, OpCode::TRANSPOSE, {x}, {ctx.Output(n, 0, ctx.tensor(x).dtype, out)}, std::move(u));
}

// Squeeze/Unsqueeze axes: an attribute before opset 13, an input from 13 on.
std::vector<int64_t> AxesOf(ImportContext& ctx, const OnnxNode& n, bool* given) {
  if (n.opset() >= 13) {
    *given = n.has_input(1);
    return *given ? ctx.ConstantInts(n, 1, "axes") : std::vector<int64_t>{};
  }
  *given = n.has_attr("axes");
  return n.Ints("axes");
}

void LowerSqueeze(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  bool given = false;
  const std::vector<int64_t> axes = AxesOf(ctx, n, &given);
  std::set<int> drop;
  for (int64_t a : axes) {
    const int k = NormalizeAxis(a, xs.size(), "axis");
    if (xs[k] != 1)
      throw Error("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(xs[k]));
    drop.insert(k);
  }
  Shape out;
  for (size_t k = 0; k < xs.size(); ++k) {
    const bool squeeze = given ? drop.count(static_cast<int>(k)) > 0 : xs[k] == 1;
    if (!squeeze) out.push_back(xs[k]);
  }
  ReshapeTo(ctx, n, x, out);
}

void LowerUnsqueeze(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  bool given = false;
  const std::vector<int64_t> axes = AxesOf(ctx, n, &given);
  if (!given) throw Error("axes are required");
  const size_t rank = xs.size() + axes.size();
  std::set<int> insert;
  for (int64_t a : axes)
    if (!insert.insert(NormalizeAxis(a, rank, "axis")).second)
      throw Error("axis " + std::to_string(a) + " is repeated");
  Shape out;
  size_t next = 0;
  for (size_t k = 0; k < rank; ++k)
    out.push_back(insert.count(static_cast<int>(k)) ? 1 : xs[next++]);
  ReshapeTo(ctx, n, x, out);
}

// ONNX Slice on one axis: negative indices count from the end, then starts and ends are
// clamped to the axis ([0, dim] going forward, [-1, dim - 1] going backward).
struct AxisSlice {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};

AxisSlice ClampSlice(int64_t start, int64_t end, int64_t step, int64_t dim) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  AxisSlice s;
  s.step = step;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    s.count = end > start ? (end - start + step - 1) / step : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    s.count = start > end ? (start - end - step - 1) / -step : 0;
  }
  s.start = s.count > 0 ? start : 0;
  return s;
}

// Emits SLICE of x into `into` with per-axis starts and steps.
void EmitSlice(ImportContext& ctx, const OnnxNode& n, int x, const std::vector<int64_t>& starts,
               const std::vector<int64_t>& steps, int into, const std::string& suffix) {
  opm::SliceOptionsT o;
  for (size_t k = 0; k < starts.size(); ++k) {
    o.starts.push_back(ToInt32(starts[k], "slice start"));
    o.steps.push_back(ToInt32(steps[k], "slice step"));
  }
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  ctx.Emit(n, OpCode::SLICE, {x}, {into}, std::move(u), suffix);
}

void LowerSlice(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  const std::vector<int64_t> starts = ctx.ConstantInts(n, 1, "starts");
  const std::vector<int64_t> ends = ctx.ConstantInts(n, 2, "ends");
  std::vector<int64_t> axes, steps;
  if (n.has_input(3)) {
    axes = ctx.ConstantInts(n, 3, "axes");
  } else {
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  }
  steps = n.has_input(4) ? ctx.ConstantInts(n, 4, "steps") : std::vector<int64_t>(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    throw Error("starts, ends, axes and steps must have the same length");
  std::vector<int64_t> st(xs.size(), 0), sp(xs.size(), 1);
  Shape out = xs;
  std::set<int> seen;
  for (size_t i = 0; i < starts.size(); ++i) {
    const int a = NormalizeAxis(axes[i], xs.size(), "axis");
    if (!seen.insert(a).second) throw Error("axis " + std::to_string(axes[i]) + " is repeated");
    if (steps[i] == 0) throw Error("step must not be 0");
    const AxisSlice s = ClampSlice(starts[i], ends[i], steps[i], xs[a]);
    st[a] = s.start;
    sp[a] = s.step;
    out[a] = s.count;
  }
  if (out == xs && std::all_of(sp.begin(), sp.end(), [](int64_t v) { return v == 1; })) {
    ctx.Bind(n.output(0), x);
    return;
  }
  EmitSlice(ctx, n, x, st, sp, ctx.Output(n, 0, ctx.tensor(x).dtype, out), "");
}

void LowerSplit(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  const DType dt = ctx.tensor(x).dtype;
  const int axis = NormalizeAxis(n.Int("axis", 0), xs.size(), "axis");
  const int outs = n.num_outputs();
  if (outs < 1) throw Error("Split needs at least one output");
  std::vector<int64_t> sizes;
  if (n.opset() >= 13 && n.has_input(1)) {
    sizes = ctx.ConstantInts(n, 1, "split");
  } else if (n.opset() < 13) {
    sizes = n.Ints("split");
  }
  if (sizes.empty()) {
    if (xs[axis] % outs != 0)
      throw Error("axis " + std::to_string(axis) + " of size " + std::to_string(xs[axis]) +
                  " does not split into " + std::to_string(outs) + " equal parts");
    sizes.assign(outs, xs[axis] / outs);
  }
  if (static_cast<int>(sizes.size()) != outs)
    throw Error("split has " + std::to_string(sizes.size()) + " sizes for " + std::to_string(outs) +
                " outputs");
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw Error("split sizes must not be negative");
    sum += s;
  }
  if (sum != xs[axis])
    throw Error("split sizes add up to " + std::to_string(sum) + ", axis has " +
                std::to_string(xs[axis]));
  std::vector<int> outputs;
  for (int k = 0; k < outs; ++k) {
    Shape s = xs;
    s[axis] = sizes[k];
    if (sizes[k] == 0) {
      // An empty part has a known (empty) value: a constant, not a runtime tensor.
      ctx.OutputConstant(n, k, host::FromInts(dt, s, {}));
    } else {
      outputs.push_back(ctx.Output(n, k, dt, s));
    }
  }
  if (outputs.size() == 1) {
    ctx.ReshapeInto(n, x, outputs[0], "");
    return;
  }
  opm::SplitOptionsT o;
  o.axis = axis;
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  ctx.Emit(n, OpCode::SPLIT, {x}, outputs, std::move(u));
}

// Gather with constant indices. On constant data it is evaluated here; on runtime data each
// run of consecutive indices becomes one SLICE along the axis, the runs are concatenated and a
// RESHAPE gives the ONNX shape (so a scalar index is SLICE + RESHAPE).
void LowerGather(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  const DType dt = ctx.tensor(x).dtype;
  const int axis = NormalizeAxis(n.Int("axis", 0), xs.size(), "axis");
  const Shape is = ctx.Constant(n, 1, "indices").shape;
  std::vector<int64_t> idx = ctx.ConstantInts(n, 1, "indices");
  for (int64_t& i : idx) {
    if (i < -xs[axis] || i >= xs[axis])
      throw Error("index " + std::to_string(i) + " is out of range for axis " +
                  std::to_string(axis) + " of size " + std::to_string(xs[axis]));
    if (i < 0) i += xs[axis];
  }
  if (ctx.tensor(x).constant) {
    ctx.OutputConstant(n, 0, host::Gather(ctx.tensor(x), idx, is, axis));
    return;
  }
  Shape out(xs.begin(), xs.begin() + axis);
  out.insert(out.end(), is.begin(), is.end());
  out.insert(out.end(), xs.begin() + axis + 1, xs.end());
  if (idx.empty()) {
    ctx.OutputConstant(n, 0, host::FromInts(dt, out, {}));
    return;
  }
  std::vector<std::pair<int64_t, int64_t>> runs;  // (first index, length)
  for (int64_t i : idx) {
    if (!runs.empty() && runs.back().first + runs.back().second == i) {
      ++runs.back().second;
    } else {
      runs.push_back({i, 1});
    }
  }
  std::vector<int> parts;
  for (size_t r = 0; r < runs.size(); ++r) {
    Shape s = xs;
    s[axis] = runs[r].second;
    std::vector<int64_t> starts(xs.size(), 0), steps(xs.size(), 1);
    starts[axis] = runs[r].first;
    const std::string suffix = "slice_" + std::to_string(r);
    const int part = ctx.NewActivation(n.name() + "/" + suffix, dt, s);
    EmitSlice(ctx, n, x, starts, steps, part, suffix);
    parts.push_back(part);
  }
  int gathered = parts[0];
  if (parts.size() > 1) {
    Shape s = xs;
    s[axis] = static_cast<int64_t>(idx.size());
    gathered = ctx.NewActivation(n.name() + "/concat", dt, s);
    opm::ConcatOptionsT o;
    o.axis = axis;
    opm::OpOptionsUnion u;
    u.Set(std::move(o));
    ctx.Emit(n, OpCode::CONCAT, parts, {gathered}, std::move(u), "concat");
  }
  ctx.ReshapeInto(n, gathered, ctx.Output(n, 0, dt, out), "reshape");
}

// Expand broadcasts the input to a shape. On constants it is evaluated here; on runtime data it
// is a MUL by ones shaped to supply exactly the dimensions the input lacks (x * 1 == x for
// every float, infinities and NaN included).
void LowerExpand(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  const std::vector<int64_t> shape = ctx.ConstantInts(n, 1, "shape");
  const Shape out = BroadcastShapes(xs, shape);
  if (ctx.tensor(x).constant) {
    ctx.OutputConstant(n, 0, host::Expand(ctx.tensor(x), out));
    return;
  }
  if (out == xs) {
    ctx.Bind(n.output(0), x);
    return;
  }
  if (ctx.tensor(x).dtype != DType::FLOAT32) Unsupported("Expand of a non-float runtime tensor");
  Shape ones_shape(out.size(), 1);
  const size_t lead = out.size() - xs.size();
  for (size_t k = 0; k < out.size(); ++k)
    if (k < lead || xs[k - lead] != out[k]) ones_shape[k] = out[k];
  const std::vector<float> ones(static_cast<size_t>(ir::NumElements(ones_shape)), 1.0f);
  const int c = ctx.NewConstant<float>(n.name() + "/ones", DType::FLOAT32, ones_shape, ones);
  opm::OpOptionsUnion u;
  u.Set(opm::BinaryOptionsT{});
  ctx.Emit(n, OpCode::MUL, {x, c}, {ctx.Output(n, 0, DType::FLOAT32, out)}, std::move(u));
}

}  // namespace

void RegisterTensorOps(OpTable& t) {
  t["Concat"] = LowerConcat;
  t["Reshape"] = LowerReshape;
  t["Flatten"] = LowerFlatten;
  t["Transpose"] = LowerTranspose;
  t["Squeeze"] = LowerSqueeze;
  t["Unsqueeze"] = LowerUnsqueeze;
  t["Slice"] = LowerSlice;
  t["Split"] = LowerSplit;
  t["Gather"] = LowerGather;
  t["Expand"] = LowerExpand;
}

}  // namespace outpost::import
