// Pad, Resize and ReduceMean: ops whose parameters (pads, scales or sizes, axes) must be known
// at import time and are stored in the op's options.
#include <algorithm>
#include <cmath>
#include <set>

#include "compiler/import/import_context.h"

namespace outpost::import {
namespace {

void LowerPad(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  const std::string mode = n.String("mode", "constant");
  opm::PadOptionsT o;
  if (mode == "constant") {
    o.mode = opm::PadMode::CONSTANT;
  } else if (mode == "reflect") {
    o.mode = opm::PadMode::REFLECT;
  } else if (mode == "edge") {
    o.mode = opm::PadMode::EDGE;
  } else {
    Unsupported("Pad mode '" + mode + "' (constant, reflect and edge are supported)");
  }
  // From opset 11 pads and the constant value are inputs; `axes` (input 3) is opset 18.
  const std::vector<int64_t> pads = ctx.ConstantInts(n, 1, "pads");
  if (n.has_input(2)) {
    const std::vector<float> v = ctx.ConstantFloats(n, 2, "constant_value");
    if (v.size() != 1) throw Error("constant_value must be a scalar");
    o.value = v[0];
    if (ctx.tensor(x).dtype != DType::FLOAT32) {
      // The option holds a float; an integer pad value must survive the trip exactly.
      const int64_t want = ctx.ConstantInts(n, 2, "constant_value")[0];
      const double got = o.value;
      if (!(got > -9.2e18 && got < 9.2e18) || static_cast<int64_t>(got) != want)
        Unsupported("Pad constant_value " + std::to_string(want) +
                    " (the pad value is stored as a float, which does not hold it exactly)");
    }
  }
  if (pads.size() != 2 * xs.size())
    throw Error("pads has " + std::to_string(pads.size()) + " values for rank " +
                std::to_string(xs.size()));
  Shape out = xs;
  for (size_t k = 0; k < xs.size(); ++k) {
    out[k] = xs[k] + pads[k] + pads[k + xs.size()];
    if (out[k] < 0) throw Error("pads crop axis " + std::to_string(k) + " below size 0");
  }
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; })) {
    ctx.Bind(n.output(0), x);
    return;
  }
  for (int64_t p : pads) o.pads.push_back(ToInt32(p, "pad"));
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  ctx.Emit(n, OpCode::PAD, {x}, {ctx.Output(n, 0, ctx.tensor(x).dtype, out)}, std::move(u));
}

opm::CoordinateTransform ReadTransform(const OnnxNode& n) {
  const std::string m = n.String("coordinate_transformation_mode", "half_pixel");
  if (m == "half_pixel") return opm::CoordinateTransform::HALF_PIXEL;
  if (m == "asymmetric") return opm::CoordinateTransform::ASYMMETRIC;
  if (m == "align_corners") return opm::CoordinateTransform::ALIGN_CORNERS;
  if (m == "pytorch_half_pixel") return opm::CoordinateTransform::PYTORCH_HALF_PIXEL;
  if (m == "tf_half_pixel_for_nn") return opm::CoordinateTransform::TF_HALF_PIXEL_FOR_NN;
  if (m == "tf_crop_and_resize") return opm::CoordinateTransform::TF_CROP_AND_RESIZE;
  throw Error("unknown coordinate_transformation_mode '" + m + "'");
}

opm::NearestMode ReadNearestMode(const OnnxNode& n) {
  const std::string m = n.String("nearest_mode", "round_prefer_floor");
  if (m == "round_prefer_floor") return opm::NearestMode::ROUND_PREFER_FLOOR;
  if (m == "round_prefer_ceil") return opm::NearestMode::ROUND_PREFER_CEIL;
  if (m == "floor") return opm::NearestMode::FLOOR;
  if (m == "ceil") return opm::NearestMode::CEIL;
  throw Error("unknown nearest_mode '" + m + "'");
}

// Resize (opsets 11-17): inputs X, roi, scales, sizes; exactly one of scales and sizes is
// non-empty. With scales, out = floor(in * scale); with sizes, scale = out / in. The options
// carry the scales because the coordinate transform uses them, not out / in.
void LowerResize(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  opm::ResizeOptionsT o;
  const std::string mode = n.String("mode", "nearest");
  if (mode == "nearest") {
    o.mode = opm::ResizeMode::NEAREST;
  } else if (mode == "linear") {
    o.mode = opm::ResizeMode::LINEAR;
  } else if (mode == "cubic") {
    o.mode = opm::ResizeMode::CUBIC;
  } else {
    throw Error("unknown Resize mode '" + mode + "'");
  }
  o.coordinate_transform = ReadTransform(n);
  o.nearest_mode = ReadNearestMode(n);
  if (n.Int("antialias", 0) != 0) Unsupported("Resize with antialias");
  o.cubic_coeff_a = n.Float("cubic_coeff_a", -0.75f);
  if (!std::isfinite(o.cubic_coeff_a)) throw Error("cubic_coeff_a must be finite");
  o.exclude_outside = n.Int("exclude_outside", 0) != 0;
  // The reference implementation would apply it to any mode, but for nearest it then yields NaN
  // where the nearest element lies in the edge padding, and onnxruntime takes it for cubic only.
  if (o.exclude_outside && o.mode != opm::ResizeMode::CUBIC)
    Unsupported("Resize exclude_outside with mode '" + mode + "' (it is supported for cubic)");
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  if (n.has_input(2)) scales = ctx.ConstantFloats(n, 2, "scales");
  if (n.has_input(3)) sizes = ctx.ConstantInts(n, 3, "sizes");
  if (o.coordinate_transform == opm::CoordinateTransform::TF_CROP_AND_RESIZE) {
    o.roi = n.has_input(1) ? ctx.ConstantFloats(n, 1, "roi") : std::vector<float>{};
    if (o.roi.size() != 2 * xs.size())
      throw Error("tf_crop_and_resize needs a roi of " + std::to_string(2 * xs.size()) +
                  " values (the start of every axis, then the end), has " +
                  std::to_string(o.roi.size()));
    for (float v : o.roi)
      if (!std::isfinite(v)) throw Error("roi values must be finite");
    o.extrapolation_value = n.Float("extrapolation_value", 0.0f);
    // ONNX sizes the output floor(in * (roi_end - roi_start) * scale) while its coordinate
    // mapping and its reference implementation take in * scale: with scales the two disagree.
    if (sizes.empty())
      Unsupported(
          "Resize tf_crop_and_resize with scales (ONNX's output size and coordinate "
          "mapping disagree for it; give sizes)");
  }
  Shape out(xs.size());
  if (!sizes.empty()) {
    if (!scales.empty()) throw Error("scales and sizes are both given");
    if (sizes.size() != xs.size())
      throw Error("sizes has " + std::to_string(sizes.size()) + " values for rank " +
                  std::to_string(xs.size()));
    for (size_t k = 0; k < xs.size(); ++k) {
      if (sizes[k] < 1) throw Error("sizes must be >= 1");
      out[k] = sizes[k];
      o.scales.push_back(static_cast<float>(static_cast<double>(sizes[k]) / xs[k]));
    }
  } else if (!scales.empty()) {
    if (scales.size() != xs.size())
      throw Error("scales has " + std::to_string(scales.size()) + " values for rank " +
                  std::to_string(xs.size()));
    for (size_t k = 0; k < xs.size(); ++k) {
      if (!(scales[k] > 0.0f) || !std::isfinite(scales[k]))
        throw Error("scales must be finite and > 0");
      out[k] = static_cast<int64_t>(std::floor(static_cast<double>(xs[k]) * scales[k]));
      if (out[k] < 1) throw Error("scale " + std::to_string(scales[k]) + " gives an empty axis");
      o.scales.push_back(scales[k]);
    }
  } else {
    throw Error("neither scales nor sizes is given");
  }
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  ctx.Emit(n, OpCode::RESIZE, {x}, {ctx.Output(n, 0, ctx.tensor(x).dtype, out)}, std::move(u));
}

void LowerReduceMean(ImportContext& ctx, const OnnxNode& n) {
  const int x = ctx.Data(n, 0);
  const Shape xs = ctx.tensor(x).shape;
  const bool keep = n.Int("keepdims", 1) != 0;
  // axes: an attribute up to opset 17, an input from opset 18.
  std::vector<int64_t> axes = n.has_input(1) ? ctx.ConstantInts(n, 1, "axes") : n.Ints("axes");
  if (axes.empty() && n.Int("noop_with_empty_axes", 0) != 0) {
    ctx.Bind(n.output(0), x);
    return;
  }
  std::set<int> reduce;
  for (int64_t a : axes) reduce.insert(NormalizeAxis(a, xs.size(), "axis"));
  if (axes.empty())
    for (size_t k = 0; k < xs.size(); ++k) reduce.insert(static_cast<int>(k));
  Shape out;
  opm::ReduceOptionsT o;
  o.keep_dims = keep;
  for (size_t k = 0; k < xs.size(); ++k) {
    if (reduce.count(static_cast<int>(k))) {
      o.axes.push_back(static_cast<int32_t>(k));
      if (keep) out.push_back(1);
    } else {
      out.push_back(xs[k]);
    }
  }
  opm::OpOptionsUnion u;
  u.Set(std::move(o));
  ctx.Emit(n, OpCode::REDUCE_MEAN, {x}, {ctx.Output(n, 0, ctx.tensor(x).dtype, out)}, std::move(u));
}

}  // namespace

void RegisterPadResizeReduceOps(OpTable& t) {
  t["Pad"] = LowerPad;
  t["Resize"] = LowerResize;
  t["ReduceMean"] = LowerReduceMean;
}

}  // namespace outpost::import
