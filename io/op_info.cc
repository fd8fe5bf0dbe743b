#include "io/op_info.h"

#include <cstdio>
#include <set>

namespace outpost::io {
namespace {

std::string Num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(v));
  return buf;
}

template <typename V>
std::string List(const V* v) {
  std::string s;
  if (v == nullptr) return s;
  for (uint32_t i = 0; i < v->size(); ++i) {
    if (i) s += ',';
    if constexpr (std::is_floating_point_v<decltype(v->Get(0))>)
      s += Num(v->Get(i));
    else
      s += std::to_string(v->Get(i));
  }
  return s;
}

std::string Pair(int a, int b) { return std::to_string(a) + "x" + std::to_string(b); }

std::string Pads(int top, int left, int bottom, int right) {
  return std::to_string(top) + "," + std::to_string(left) + "," + std::to_string(bottom) + "," +
         std::to_string(right);
}

using Params = std::vector<std::pair<std::string, std::string>>;

void AddActivation(Params& p, opm::Activation a, float lo, float hi) {
  switch (a) {
    case opm::Activation::NONE:
      return;
    case opm::Activation::RELU:
      p.emplace_back("act", "RELU");
      return;
    case opm::Activation::CLIP:
      p.emplace_back("act", "CLIP(" + Num(lo) + "," + Num(hi) + ")");
      return;
    case opm::Activation::HARD_SWISH:
      p.emplace_back("act", "HARD_SWISH");
      return;
  }
}

// Weight kernel size from a 4-d weight tensor (last two dims), if the op has one.
std::string KernelSize(const Model& model, const opm::Operator& op) {
  if (op.inputs()->size() < 2 || op.inputs()->Get(1) < 0) return "";
  const std::vector<int32_t> w = TensorShape(model, op.inputs()->Get(1));
  if (w.size() != 4) return "";
  return Pair(w[2], w[3]);
}

template <typename ConvOptions>
void ConvParams(Params& p, const Model& model, const opm::Operator& op, const ConvOptions* o) {
  if (o == nullptr) return;
  const std::string k = KernelSize(model, op);
  if (!k.empty()) p.emplace_back("kernel", k);
  p.emplace_back("stride", Pair(o->stride_h(), o->stride_w()));
  p.emplace_back("pads", Pads(o->pad_top(), o->pad_left(), o->pad_bottom(), o->pad_right()));
  if (o->dilation_h() != 1 || o->dilation_w() != 1)
    p.emplace_back("dilation", Pair(o->dilation_h(), o->dilation_w()));
  if (o->groups() != 1) p.emplace_back("groups", std::to_string(o->groups()));
  AddActivation(p, o->activation(), o->act_min(), o->act_max());
}

Params OperatorParams(const Model& model, const opm::Operator& op) {
  Params p;
  switch (op.options_type()) {
    case opm::OpOptions::Conv2DOptions:
      ConvParams(p, model, op, op.options_as_Conv2DOptions());
      break;
    case opm::OpOptions::ConvTranspose2DOptions:
      ConvParams(p, model, op, op.options_as_ConvTranspose2DOptions());
      break;
    case opm::OpOptions::FullyConnectedOptions: {
      const auto* o = op.options_as_FullyConnectedOptions();
      AddActivation(p, o->activation(), o->act_min(), o->act_max());
      break;
    }
    case opm::OpOptions::BinaryOptions: {
      const auto* o = op.options_as_BinaryOptions();
      AddActivation(p, o->activation(), o->act_min(), o->act_max());
      break;
    }
    case opm::OpOptions::LeakyReluOptions:
      p.emplace_back("alpha", Num(op.options_as_LeakyReluOptions()->alpha()));
      break;
    case opm::OpOptions::ClipOptions: {
      const auto* o = op.options_as_ClipOptions();
      p.emplace_back("min", Num(o->min()));
      p.emplace_back("max", Num(o->max()));
      break;
    }
    case opm::OpOptions::HardSigmoidOptions: {
      const auto* o = op.options_as_HardSigmoidOptions();
      p.emplace_back("alpha", Num(o->alpha()));
      p.emplace_back("beta", Num(o->beta()));
      break;
    }
    case opm::OpOptions::SoftmaxOptions:
      p.emplace_back("axis", std::to_string(op.options_as_SoftmaxOptions()->axis()));
      break;
    case opm::OpOptions::Pool2DOptions: {
      const auto* o = op.options_as_Pool2DOptions();
      p.emplace_back("kernel", Pair(o->kernel_h(), o->kernel_w()));
      p.emplace_back("stride", Pair(o->stride_h(), o->stride_w()));
      p.emplace_back("pads", Pads(o->pad_top(), o->pad_left(), o->pad_bottom(), o->pad_right()));
      if (o->dilation_h() != 1 || o->dilation_w() != 1)
        p.emplace_back("dilation", Pair(o->dilation_h(), o->dilation_w()));
      if (op.opcode() == opm::OpCode::AVERAGE_POOL_2D && o->count_include_pad())
        p.emplace_back("count_include_pad", "1");
      if (op.opcode() == opm::OpCode::MAX_POOL_2D && o->storage_order() != 0)
        p.emplace_back("storage_order", std::to_string(o->storage_order()));
      break;
    }
    case opm::OpOptions::ConcatOptions:
      p.emplace_back("axis", std::to_string(op.options_as_ConcatOptions()->axis()));
      break;
    case opm::OpOptions::TransposeOptions:
      p.emplace_back("perm", List(op.options_as_TransposeOptions()->perm()));
      break;
    case opm::OpOptions::PadOptions: {
      const auto* o = op.options_as_PadOptions();
      p.emplace_back("mode", opm::EnumNamePadMode(o->mode()));
      p.emplace_back("pads", List(o->pads()));
      if (o->mode() == opm::PadMode::CONSTANT && o->value() != 0.0f)
        p.emplace_back("value", Num(o->value()));
      break;
    }
    case opm::OpOptions::SliceOptions: {
      const auto* o = op.options_as_SliceOptions();
      p.emplace_back("starts", List(o->starts()));
      p.emplace_back("steps", List(o->steps()));
      break;
    }
    case opm::OpOptions::SplitOptions:
      p.emplace_back("axis", std::to_string(op.options_as_SplitOptions()->axis()));
      break;
    case opm::OpOptions::ResizeOptions: {
      const auto* o = op.options_as_ResizeOptions();
      p.emplace_back("mode", opm::EnumNameResizeMode(o->mode()));
      p.emplace_back("coord", opm::EnumNameCoordinateTransform(o->coordinate_transform()));
      if (o->mode() == opm::ResizeMode::NEAREST)
        p.emplace_back("nearest", opm::EnumNameNearestMode(o->nearest_mode()));
      if (o->scales() != nullptr && o->scales()->size() > 0)
        p.emplace_back("scales", List(o->scales()));
      if (o->mode() == opm::ResizeMode::CUBIC) {
        p.emplace_back("cubic_a", Num(o->cubic_coeff_a()));
        if (o->exclude_outside()) p.emplace_back("exclude_outside", "1");
      }
      if (o->coordinate_transform() == opm::CoordinateTransform::TF_CROP_AND_RESIZE) {
        p.emplace_back("roi", List(o->roi()));
        if (o->extrapolation_value() != 0.0f)
          p.emplace_back("extrapolation", Num(o->extrapolation_value()));
      }
      break;
    }
    case opm::OpOptions::ReduceOptions: {
      const auto* o = op.options_as_ReduceOptions();
      p.emplace_back("axes", List(o->axes()));
      p.emplace_back("keep_dims", o->keep_dims() ? "1" : "0");
      break;
    }
    default:
      break;
  }
  return p;
}

int64_t Elements(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

}  // namespace

std::vector<int32_t> TensorShape(const Model& model, int tensor) {
  const opm::Tensor* t = model.fb()->tensors()->Get(tensor);
  if (t->shape() == nullptr) return {};
  return {t->shape()->begin(), t->shape()->end()};
}

uint64_t OperatorMacs(const Model& model, int index) {
  const opm::Operator& op = *model.fb()->operators()->Get(index);
  if (op.inputs()->size() < 2 || op.inputs()->Get(1) < 0 || op.inputs()->Get(0) < 0) return 0;
  const std::vector<int32_t> y = TensorShape(model, op.outputs()->Get(0));
  const std::vector<int32_t> w = TensorShape(model, op.inputs()->Get(1));
  const std::vector<int32_t> x = TensorShape(model, op.inputs()->Get(0));
  if (w.empty() || x.empty()) return 0;
  switch (op.opcode()) {
    case opm::OpCode::CONV_2D:
      // Each output element takes (C/groups * kH * kW) multiply-accumulates.
      return static_cast<uint64_t>(Elements(y)) * static_cast<uint64_t>(Elements(w) / w[0]);
    case opm::OpCode::CONV_TRANSPOSE_2D:
      // Each input element scatters into (M/groups * kH * kW) outputs.
      return static_cast<uint64_t>(Elements(x)) * static_cast<uint64_t>(Elements(w) / w[0]);
    case opm::OpCode::FULLY_CONNECTED:
      return static_cast<uint64_t>(Elements(y)) * static_cast<uint64_t>(w.back());
    case opm::OpCode::MATMUL:
      return static_cast<uint64_t>(Elements(y)) * static_cast<uint64_t>(x.back());
    default:
      return 0;
  }
}

OpInfo DescribeOperator(const Model& model, int index) {
  const opm::Operator& op = *model.fb()->operators()->Get(index);
  OpInfo info;
  info.index = index;
  info.op = OpName(op.opcode());
  if (op.name() != nullptr) info.name = op.name()->str();
  info.inputs.assign(op.inputs()->begin(), op.inputs()->end());
  info.outputs.assign(op.outputs()->begin(), op.outputs()->end());
  info.params = OperatorParams(model, op);
  info.macs = OperatorMacs(model, index);
  return info;
}

std::string JoinParams(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string s;
  for (const auto& [k, v] : params) {
    if (!s.empty()) s += ' ';
    s += k + "=" + v;
  }
  return s;
}

ModelTotals ComputeTotals(const Model& model) {
  ModelTotals t;
  t.ops = model.num_operators();
  // A constant read by several ops is counted once.
  std::set<int> constants;
  for (int i = 0; i < model.num_operators(); ++i) {
    const opm::Operator& op = *model.fb()->operators()->Get(i);
    for (int32_t idx : *op.inputs())
      if (idx >= 0 && model.fb()->tensors()->Get(idx)->buffer() >= 0) constants.insert(idx);
    t.macs += OperatorMacs(model, i);
  }
  for (int idx : constants) {
    const opm::Tensor& tensor = *model.fb()->tensors()->Get(idx);
    t.params += static_cast<uint64_t>(Elements(TensorShape(model, idx)));
    t.weight_bytes += TensorBytes(tensor);
  }
  return t;
}

}  // namespace outpost::io
