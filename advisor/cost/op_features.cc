// Per-operator features from the model's flatbuffer (docs/advisor.md, "Features").
#include "advisor/cost/op_features.h"

#include "io/op_info.h"
#include "runtime/tensor.h"

namespace outpost::advisor {
namespace {

OpClass ClassOf(const Model& model, const opm::Operator& op) {
  switch (op.opcode()) {
    case opm::OpCode::CONV_2D: {
      // Depthwise: as many groups as input channels (NCHW or NHWC, the channel count is the
      // input's dimension that equals the group count; a grouped conv with fewer groups stays
      // dense-class).
      const auto* o = op.options_as_Conv2DOptions();
      const int groups = o ? o->groups() : 1;
      if (groups > 1 && op.inputs() && op.inputs()->size() > 0) {
        TensorView x;
        model.DescribeTensor(op.inputs()->Get(0), &x);
        if (x.rank == 4 && (x.dims[1] == groups || x.dims[3] == groups)) return OpClass::kDepthwise;
      }
      return OpClass::kConv;
    }
    case opm::OpCode::CONV_TRANSPOSE_2D:
      return OpClass::kConv;
    case opm::OpCode::FULLY_CONNECTED:
    case opm::OpCode::MATMUL:
      return OpClass::kFullyConnected;
    case opm::OpCode::ADD:
    case opm::OpCode::SUB:
    case opm::OpCode::MUL:
    case opm::OpCode::DIV:
    case opm::OpCode::RELU:
    case opm::OpCode::LEAKY_RELU:
    case opm::OpCode::PRELU:
    case opm::OpCode::CLIP:
    case opm::OpCode::SIGMOID:
    case opm::OpCode::TANH:
    case opm::OpCode::HARD_SIGMOID:
    case opm::OpCode::HARD_SWISH:
    case opm::OpCode::MAX_POOL_2D:
    case opm::OpCode::AVERAGE_POOL_2D:
    case opm::OpCode::GLOBAL_AVERAGE_POOL:
    case opm::OpCode::GLOBAL_MAX_POOL:
    case opm::OpCode::REDUCE_MEAN:
      return OpClass::kElementwise;
    default:
      return OpClass::kOther;
  }
}

Precision PrecisionOf(DType t) {
  switch (t) {
    case DType::INT8:
    case DType::UINT8:
      return Precision::kInt8;
    case DType::INT16:
      return Precision::kInt16;
    case DType::FLOAT16:
      return Precision::kFp16;
    default:
      return Precision::kFp32;
  }
}

}  // namespace

std::string_view OpClassName(OpClass c) {
  switch (c) {
    case OpClass::kConv: return "conv";
    case OpClass::kDepthwise: return "depthwise";
    case OpClass::kFullyConnected: return "fully_connected";
    case OpClass::kElementwise: return "elementwise";
    case OpClass::kOther: return "other";
  }
  return "?";
}

std::vector<OpFeatures> ExtractOpFeatures(const Model& model) {
  std::vector<OpFeatures> out;
  const auto* ops = model.fb()->operators();
  const int n = model.num_operators();
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const opm::Operator& op = *ops->Get(static_cast<flatbuffers::uoffset_t>(i));
    OpFeatures f;
    f.index = i;
    f.op = opm::EnumNameOpCode(op.opcode());
    f.op_class = ClassOf(model, op);
    f.macs = io::OperatorMacs(model, i);
    bool have_precision = false;
    if (op.inputs()) {
      for (const int32_t t : *op.inputs()) {
        if (t < 0) continue;
        TensorView v;
        model.DescribeTensor(t, &v);
        if (v.is_constant) {
          f.weight_bytes += v.bytes;
        } else {
          f.activation_bytes += v.bytes;
          if (!have_precision) f.precision = PrecisionOf(v.dtype), have_precision = true;
        }
      }
    }
    if (op.outputs()) {
      for (const int32_t t : *op.outputs()) {
        if (t < 0) continue;
        TensorView v;
        model.DescribeTensor(t, &v);
        f.output_bytes += v.bytes;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

Expected<std::vector<OpFeatures>> FeaturesFromTotals(const CalibrationPoint& point) {
  if (!point.macs.known())
    return Error("calibration point '" + point.id + "' states no MACs and no graph of '" + point.model +
                 "' is available: its latency cannot be predicted");
  if (!point.precision) return Error("calibration point '" + point.id + "' states no precision");
  OpFeatures f;
  f.op = "NETWORK";
  f.op_class = OpClass::kConv;
  f.macs = static_cast<uint64_t>(*point.macs.si());
  f.precision = *point.precision;
  const uint64_t bytes_per_weight = *point.precision == Precision::kInt8 ? 1 : *point.precision == Precision::kInt16 || *point.precision == Precision::kFp16 ? 2 : 4;
  if (point.params.known()) f.weight_bytes = static_cast<uint64_t>(*point.params.si()) * bytes_per_weight;
  return std::vector<OpFeatures>{f};
}

}  // namespace outpost::advisor
