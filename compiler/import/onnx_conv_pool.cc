// Convolutions and pooling: Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool,
// GlobalMaxPool.
//
// The runtime has 2-D (NCHW) kernels only. 1-D ops run as 2-D ops with H = 1: the input and
// weights are reshaped to [N, C, 1, L] and the result back; 3-D ops are refused. Output sizes
// and auto_pad paddings are computed here exactly as ONNX defines them and stored as explicit
// pads and output shapes.
#include "compiler/import/import_context.h"

namespace outpost::import {
namespace {

// One spatial axis of a sliding-window op.
struct Axis {
  int64_t in = 1;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t dilation = 1;
  int64_t pad_begin = 0;
  int64_t pad_end = 0;
  int64_t out = 1;
  int64_t extent() const { return (kernel - 1) * dilation + 1; }
};

int64_t CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); }

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

AutoPad ReadAutoPad(const OnnxNode& n) {
  const std::string a = n.String("auto_pad", "NOTSET");
  if (a == "NOTSET" || a.empty()) return AutoPad::kNotSet;
  if (a == "SAME_UPPER") return AutoPad::kSameUpper;
  if (a == "SAME_LOWER") return AutoPad::kSameLower;
  if (a == "VALID") return AutoPad::kValid;
  throw Error("auto_pad '" + a + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
}

// Reads kernel (from `kernel` or the kernel_shape attribute), strides, dilations and explicit
// pads for the spatial axes of input shape `xs`.
std::vector<Axis> ReadAxes(const OnnxNode& n, const Shape& xs, const Shape& kernel) {
  const size_t dims = xs.size() - 2;
  std::vector<int64_t> k = n.Ints("kernel_shape");
  if (k.empty()) k = kernel;
  if (!kernel.empty() && k != kernel)
    throw Error("kernel_shape " + ShapeStr(k) + " differs from the weights' " + ShapeStr(kernel));
  const std::vector<int64_t> strides = n.Ints("strides");
  const std::vector<int64_t> dilations = n.Ints("dilations");
  const std::vector<int64_t> pads = n.Ints("pads");
  if (k.size() != dims) throw Error("kernel_shape must have " + std::to_string(dims) + " values");
  if (!strides.empty() && strides.size() != dims)
    throw Error("strides must have " + std::to_string(dims) + " values");
  if (!dilations.empty() && dilations.size() != dims)
    throw Error("dilations must have " + std::to_string(dims) + " values");
  if (!pads.empty() && pads.size() != 2 * dims)
    throw Error("pads must have " + std::to_string(2 * dims) + " values");
  std::vector<Axis> axes(dims);
  for (size_t i = 0; i < dims; ++i) {
    Axis& a = axes[i];
    a.in = xs[2 + i];
    a.kernel = k[i];
    a.stride = strides.empty() ? 1 : strides[i];
    a.dilation = dilations.empty() ? 1 : dilations[i];
    a.pad_begin = pads.empty() ? 0 : pads[i];
    a.pad_end = pads.empty() ? 0 : pads[dims + i];
    if (a.kernel < 1 || a.stride < 1 || a.dilation < 1)
      throw Error("kernel, strides and dilations must be >= 1");
    if (a.pad_begin < 0 || a.pad_end < 0) Unsupported("negative pads in a sliding-window op");
  }
  return axes;
}

// Output size of Conv / MaxPool / AveragePool on one axis; replaces the pads by auto_pad's.
void ResolveWindow(AutoPad auto_pad, bool ceil_mode, Axis& a) {
  if (auto_pad == AutoPad::kSameUpper || auto_pad == AutoPad::kSameLower) {
    // SAME: output = ceil(in / stride); the padding needed is split in two, the odd cell at
    // the end (SAME_UPPER) or at the beginning (SAME_LOWER).
    a.out = CeilDiv(a.in, a.stride);
    const int64_t total = std::max<int64_t>(0, (a.out - 1) * a.stride + a.extent() - a.in);
    const int64_t small = total / 2;
    a.pad_begin = auto_pad == AutoPad::kSameUpper ? small : total - small;
    a.pad_end = total - a.pad_begin;
    return;
  }
  if (auto_pad == AutoPad::kValid) a.pad_begin = a.pad_end = 0;
  const int64_t span = a.in + a.pad_begin + a.pad_end - a.extent();
  if (span < 0)
    throw Error("the window (extent " + std::to_string(a.extent()) +
                ") is larger than the padded input (" +
                std::to_string(a.in + a.pad_begin + a.pad_end) + ")");
  a.out = (ceil_mode ? CeilDiv(span, a.stride) : span / a.stride) + 1;
  // ceil_mode never starts a window in the end padding (PyTorch's rule, and ONNX's since
  // opset 19 made it explicit): such a window would see no input cell.
  if (ceil_mode && (a.out - 1) * a.stride >= a.in + a.pad_begin) --a.out;
}

void RequireSpatialRank(const Shape& xs, const char* op) {
  if (xs.size() == 5) Unsupported(std::string("3-D ") + op + " (input rank 5)");
  if (xs.size() != 3 && xs.size() != 4)
    Unsupported(std::string(op) + " on an input of rank " + std::to_string(xs.size()) +
                " (1-D and 2-D only)");
}

// The 2-D view of 1-D axes: H = 1 with unit stride and dilation, no padding.
std::vector<Axis> As2D(std::vector<Axis> axes) {
  if (axes.size() == 1) axes.insert(axes.begin(), Axis{});
  return axes;
}

Shape Insert1(const Shape& s) {
  Shape r = s;
  r.insert(r.begin() + 2, 1);
  return r;
}

template <typename Options>
void SetWindow(Options& o, const std::vector<Axis>& a) {
  o.stride_h = ToInt32(a[0].stride, "stride");
  o.stride_w = ToInt32(a[1].stride, "stride");
  o.dilation_h = ToInt32(a[0].dilation, "dilation");
  o.dilation_w = ToInt32(a[1].dilation, "dilation");
  o.pad_top = ToInt32(a[0].pad_begin, "pad");
  o.pad_left = ToInt32(a[1].pad_begin, "pad");
  o.pad_bottom = ToInt32(a[0].pad_end, "pad");
  o.pad_right = ToInt32(a[1].pad_end, "pad");
}

// Emits `op` on the 2-D views of x (and w) and binds the ONNX output, reshaping 1-D around it.
// With `indices`, ONNX output 1 (MaxPool's Indices, INT64, the shape of output 0) is a second
// output of the op.
// `typed` gives an integer output (IntegerOutput), as the quantized convolutions have.
void EmitSpatial(ImportContext& ctx, const OnnxNode& n, OpCode op, int x, int w, int b,
                 Shape out_shape, opm::OpOptionsUnion options, bool indices = false,
                 const IntegerOutput* typed = nullptr) {
  const bool one_d = out_shape.size() == 3;
  if (!one_d) {
    std::vector<int> outputs = {OutputAs(ctx, n, 0, out_shape, typed)};
    if (indices) outputs.push_back(ctx.Output(n, 1, DType::INT64, out_shape));
    std::vector<int> inputs = {x};
    if (w >= 0) inputs.push_back(w);
    if (b >= 0) inputs.push_back(b);
    ctx.Emit(n, op, inputs, outputs, std::move(options));
    return;
  }
  const int x4 = ctx.Reshape(n, x, Insert1(ctx.tensor(x).shape), "to_2d");
  std::vector<int> inputs = {x4};
  if (w >= 0) inputs.push_back(ctx.Reshape(n, w, Insert1(ctx.tensor(w).shape), "weights_2d"));
  if (b >= 0) inputs.push_back(b);
  const int y4 = ActivationAs(ctx, n.name() + "/2d", Insert1(out_shape), typed);
  // The [N, C, 1, L] view flattens to the same indices as [N, C, L] in either storage order.
  const int i4 =
      indices ? ctx.NewActivation(n.name() + "/indices_2d", DType::INT64, Insert1(out_shape)) : -1;
  std::vector<int> outputs = {y4};
  if (indices) outputs.push_back(i4);
  ctx.Emit(n, op, inputs, outputs, std::move(options), "2d");
  ctx.ReshapeInto(n, y4, OutputAs(ctx, n, 0, out_shape, typed), "to_1d");
  if (indices) ctx.ReshapeInto(n, i4, ctx.Output(n, 1, DType::INT64, out_shape), "indices_to_1d");
}

void CheckBias(ImportContext& ctx, int b, int64_t m) {
  if (b >= 0 && ctx.tensor(b).shape != Shape{m})
    throw Error("bias has shape " + ShapeStr(ctx.tensor(b).shape) + ", expected [" +
                std::to_string(m) + "]");
}

void LowerConv(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  RequireSpatialRank(ctx.tensor(x).shape, "convolution");
  const int w = ctx.Weight(n, 1);
  const int b = n.has_input(2) ? ctx.Weight(n, 2) : -1;
  EmitConv(ctx, n, x, w, b, nullptr);
}

}  // namespace

void EmitConv(ImportContext& ctx, const OnnxNode& n, int x, int w, int b,
              const IntegerOutput* typed) {
  const Shape xs = ctx.tensor(x).shape;
  RequireSpatialRank(xs, "convolution");
  const Shape ws = ctx.tensor(w).shape;
  if (ws.size() != xs.size())
    throw Error("weights of shape " + ShapeStr(ws) + " do not match the input " + ShapeStr(xs));
  const int64_t groups = n.Int("group", 1);
  const int64_t m = ws[0];
  if (groups < 1 || xs[1] % groups != 0 || m % groups != 0 || ws[1] * groups != xs[1])
    throw Error("group " + std::to_string(groups) + " does not fit input channels " +
                std::to_string(xs[1]) + " and weights " + ShapeStr(ws));
  CheckBias(ctx, b, m);
  std::vector<Axis> axes = ReadAxes(n, xs, Shape(ws.begin() + 2, ws.end()));
  const AutoPad ap = ReadAutoPad(n);
  Shape out = {xs[0], m};
  for (Axis& a : axes) {
    ResolveWindow(ap, false, a);
    out.push_back(a.out);
  }
  axes = As2D(axes);
  opm::Conv2DOptionsT o;
  SetWindow(o, axes);
  o.groups = ToInt32(groups, "group");
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  EmitSpatial(ctx, n, OpCode::CONV_2D, x, w, b, out, std::move(u), false, typed);
}

namespace {

// ConvTranspose: out = stride * (in - 1) + output_padding + extent - pad_begin - pad_end.
// The runtime kernel takes the pads and the output shape; the output padding is implied.
void LowerConvTranspose(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  RequireSpatialRank(xs, "transposed convolution");
  const int w = ctx.Weight(n, 1);
  const int b = n.has_input(2) ? ctx.Weight(n, 2) : -1;
  const Shape ws = ctx.tensor(w).shape;
  if (ws.size() != xs.size() || ws[0] != xs[1])
    throw Error("weights of shape " + ShapeStr(ws) + " do not match the input " + ShapeStr(xs));
  const int64_t groups = n.Int("group", 1);
  if (groups < 1 || xs[1] % groups != 0)
    throw Error("group " + std::to_string(groups) + " does not divide the input channels");
  const int64_t m = ws[1] * groups;
  CheckBias(ctx, b, m);
  std::vector<Axis> axes = ReadAxes(n, xs, Shape(ws.begin() + 2, ws.end()));
  const size_t dims = axes.size();
  std::vector<int64_t> output_padding = n.Ints("output_padding");
  std::vector<int64_t> output_shape = n.Ints("output_shape");
  if (output_shape.size() == dims + 2)
    output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  if (!output_padding.empty() && output_padding.size() != dims)
    throw Error("output_padding must have " + std::to_string(dims) + " values");
  if (!output_shape.empty() && output_shape.size() != dims)
    throw Error("output_shape must have " + std::to_string(dims) + " values");
  const AutoPad ap = ReadAutoPad(n);
  Shape out = {xs[0], m};
  for (size_t i = 0; i < dims; ++i) {
    Axis& a = axes[i];
    const int64_t op = output_padding.empty() ? 0 : output_padding[i];
    const int64_t full = a.stride * (a.in - 1) + op + a.extent();
    if (!output_shape.empty() || ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower) {
      // The output size is given (output_shape) or is in * stride (SAME): the pads follow.
      a.out = !output_shape.empty() ? output_shape[i] : a.in * a.stride;
      const int64_t total = std::max<int64_t>(0, full - a.out);
      const int64_t small = total / 2;
      a.pad_begin = ap == AutoPad::kSameUpper ? small : total - small;
      a.pad_end = total - a.pad_begin;
    } else {
      if (ap == AutoPad::kValid) a.pad_begin = a.pad_end = 0;
      a.out = full - a.pad_begin - a.pad_end;
    }
    if (a.out < 1) throw Error("output size " + std::to_string(a.out) + " is below 1");
    // What is left over appears as extra output cells at the end, which get only the bias.
    const int64_t extra = a.out - (full - op - a.pad_begin - a.pad_end);
    if (extra < 0 || extra >= std::max(a.stride, a.dilation))
      Unsupported("ConvTranspose output size " + std::to_string(a.out) +
                  " (it needs output padding " + std::to_string(extra) +
                  "; the runtime takes 0 to max(stride, dilation) - 1)");
    out.push_back(a.out);
  }
  axes = As2D(axes);
  opm::ConvTranspose2DOptionsT o;
  SetWindow(o, axes);
  o.groups = ToInt32(groups, "group");
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  EmitSpatial(ctx, n, OpCode::CONV_TRANSPOSE_2D, x, w, b, out, std::move(u));
}

void LowerPool(OpCode op, ImportContext& ctx, const OnnxNode& n) {
  const bool max = op == OpCode::MAX_POOL_2D;
  const bool indices = max && n.has_output(1);
  const int64_t storage_order = max ? n.Int("storage_order", 0) : 0;
  if (storage_order != 0 && storage_order != 1)
    throw Error("storage_order " + std::to_string(storage_order) + " is not 0 or 1");
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  RequireSpatialRank(xs, "pooling");
  if (!n.has_attr("kernel_shape")) throw Error("kernel_shape is required");
  std::vector<Axis> axes = ReadAxes(n, xs, {});
  const AutoPad ap = ReadAutoPad(n);
  const bool ceil_mode = n.Int("ceil_mode", 0) != 0;
  Shape out = {xs[0], xs[1]};
  for (Axis& a : axes) {
    ResolveWindow(ap, ceil_mode, a);
    if (a.pad_begin >= a.extent() || a.pad_end >= a.extent())
      Unsupported("pads as large as the pooling window (a window would lie in the padding)");
    out.push_back(a.out);
  }
  axes = As2D(axes);
  opm::Pool2DOptionsT o;
  SetWindow(o, axes);
  o.kernel_h = ToInt32(axes[0].kernel, "kernel");
  o.kernel_w = ToInt32(axes[1].kernel, "kernel");
  o.count_include_pad = !max && n.Int("count_include_pad", 0) != 0;
  // storage_order only shapes the Indices output.
  o.storage_order = indices ? static_cast<int32_t>(storage_order) : 0;
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  EmitSpatial(ctx, n, op, x, -1, -1, out, std::move(u), indices);
}

void LowerGlobalPool(OpCode op, ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  if (xs.size() < 3) throw Error("input must have rank >= 3, has shape " + ShapeStr(xs));
  Shape out(xs.size(), 1);
  out[0] = xs[0];
  out[1] = xs[1];
  const int y = ctx.Output(n, 0, ctx.tensor(x).dtype, out);
  ctx.Emit(n, op, {x}, {y});
}

}  // namespace

void RegisterConvPoolOps(OpTable& t) {
  t["Conv"] = LowerConv;
  t["ConvTranspose"] = LowerConvTranspose;
  t["MaxPool"] = [](ImportContext& c, const OnnxNode& n) { LowerPool(OpCode::MAX_POOL_2D, c, n); };
  t["AveragePool"] = [](ImportContext& c, const OnnxNode& n) {
    LowerPool(OpCode::AVERAGE_POOL_2D, c, n);
  };
  t["GlobalAveragePool"] = [](ImportContext& c, const OnnxNode& n) {
    LowerGlobalPool(OpCode::GLOBAL_AVERAGE_POOL, c, n);
  };
  t["GlobalMaxPool"] = [](ImportContext& c, const OnnxNode& n) {
    LowerGlobalPool(OpCode::GLOBAL_MAX_POOL, c, n);
  };
}

}  // namespace outpost::import
