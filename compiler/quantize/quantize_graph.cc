// QuantizeGraph(): the float graph becomes an int8 graph in the scheme of docs/quantization.md.
//
// Nodes are visited in execution order and each one either runs in int8 or stays float. Every
// float tensor then has up to two versions, its float one and its int8 one; a node reads the
// version it needs and a missing version is made on demand by a QUANTIZE (float -> int8) or
// DEQUANTIZE (int8 -> float) placed just before that reader and shared by later readers. This
// one mechanism gives the model's float inputs and outputs, and mixed precision around nodes
// without an int8 kernel or kept float on request.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "compiler/quantize/quantize_internal.h"
#include "compiler/quantize/ranges.h"
#include "compiler/quantize/weights.h"

namespace outpost::quant {
namespace {

using opm::DType;
using opm::OpCode;

// How an op is quantized.
enum class Kind {
  kWeighted,     // conv / fully connected: int8 per-channel weights, int32 bias, requantized
  kSameParams,   // moves data: output quantization equals the input's
  kRequantize,   // any input and output parameters; output parameters from calibration
  kFixedOutput,  // output parameters fixed by the scheme (softmax, sigmoid, tanh)
  kNone,         // no int8 form
};

Kind KindOf(OpCode op) {
  switch (op) {
    case OpCode::CONV_2D:
    case OpCode::FULLY_CONNECTED: return Kind::kWeighted;
    case OpCode::RESHAPE:
    case OpCode::TRANSPOSE:
    case OpCode::SLICE:
    case OpCode::SPLIT:
    case OpCode::PAD:
    case OpCode::MAX_POOL_2D:
    case OpCode::GLOBAL_MAX_POOL:
    case OpCode::RESIZE: return Kind::kSameParams;
    case OpCode::SOFTMAX:
    case OpCode::SIGMOID:
    case OpCode::TANH: return Kind::kFixedOutput;
    case OpCode::ADD:
    case OpCode::SUB:
    case OpCode::MUL:
    case OpCode::DIV:
    case OpCode::CONCAT:
    case OpCode::AVERAGE_POOL_2D:
    case OpCode::GLOBAL_AVERAGE_POOL:
    case OpCode::REDUCE_MEAN:
    case OpCode::RELU:
    case OpCode::LEAKY_RELU:
    case OpCode::PRELU:
    case OpCode::CLIP:
    case OpCode::HARD_SIGMOID:
    case OpCode::HARD_SWISH:
    case OpCode::MATMUL: return Kind::kRequantize;
    default: return Kind::kNone;
  }
}

// TFLite's fixed output parameters: softmax and sigmoid map [0, 1), tanh [-1, 1).
Int8Params FixedOutputParams(OpCode op) {
  if (op == OpCode::TANH) return {1.0f / 128.0f, 0};
  return {1.0f / 256.0f, -128};
}

ir::Quantization PerTensor(const Int8Params& p) {
  ir::Quantization q;
  q.scale = {p.scale};
  q.zero_point = {p.zero_point};
  return q;
}

class Int8Builder {
 public:
  Int8Builder(const ir::Graph& src, const CalibrationResult& stats, const QuantizeOptions& o,
              const KernelQuery& has, QuantizeReport& report)
      : src_(src), stats_(stats), o_(o), has_(has), report_(report), out_(src) {
    out_.nodes.clear();
    out_.plan.reset();
    out_.self_test.reset();
    plain_.assign(src.tensors.size(), -1);
    q8_.assign(src.tensors.size(), -1);
    for (size_t t = 0; t < src.tensors.size(); ++t)
      if (src.tensors[t].constant) plain_[t] = static_cast<int>(t);
  }

  ir::Graph Build() {
    for (int in : src_.inputs) {
      plain_[in] = in;
      if (o_.int8_io && src_.tensors[in].dtype == DType::FLOAT32) {
        ir::Tensor& t = out_.tensors[in];
        t.dtype = DType::INT8;
        t.quant = PerTensor(ParamsFor(in, "model input"));
        q8_[in] = in;
        plain_[in] = -1;
      }
    }
    int quantized = 0;
    for (const ir::Node& n : src_.nodes) {
      LayerReport layer;
      layer.node = n.name;
      layer.op = OpName(n.op);
      std::string why;
      if (Decide(n, &why)) {
        EmitInt8(n, layer);
        ++quantized;
      } else {
        layer.why_float = why;
        EmitFloat(n);
      }
      report_.layers.push_back(std::move(layer));
    }
    if (quantized == 0) throw Error(NothingToQuantize());
    for (size_t k = 0; k < src_.outputs.size(); ++k) {
      const int t = src_.outputs[k];
      out_.outputs[k] = o_.int8_io && q8_[t] >= 0 ? q8_[t] : (plain_[t] >= 0 ? plain_[t] : q8_[t]);
    }
    out_.nodes = std::move(nodes_);
    out_.RemoveUnusedTensors();
    out_.Validate();
    return std::move(out_);
  }

 private:
  const std::string& Name(int t) const { return src_.tensors[t].name; }
  bool IsFloatActivation(int t) const {
    return t >= 0 && !src_.tensors[t].constant && src_.tensors[t].dtype == DType::FLOAT32;
  }

  std::string NothingToQuantize() const {
    std::map<std::string, std::set<std::string>> why;
    for (const LayerReport& l : report_.layers) why[l.why_float].insert(l.op);
    std::string s = "nothing to quantize: no node of the model can run in int8 (";
    bool first = true;
    for (const auto& [reason, ops] : why) {
      s += first ? "" : "; ";
      first = false;
      s += reason + ":";
      for (const std::string& op : ops) s += " " + op;
    }
    return s + ")";
  }

  bool Decide(const ir::Node& n, std::string* why) {
    if (n.op == OpCode::QUANTIZE || n.op == OpCode::DEQUANTIZE) {
      *why = "a conversion already";
      return false;
    }
    if (!Selected(o_, n.name, why)) return false;
    const Kind kind = KindOf(n.op);
    if (kind == Kind::kNone) {
      *why = "no int8 form in the quantizer";
      return false;
    }
    if (!has_(n.op, DType::INT8)) {
      *why = "no int8 kernel";
      return false;
    }
    for (int o : n.outputs)
      if (src_.tensors[o].dtype != DType::FLOAT32) {
        *why = "has a non-float output";
        return false;
      }
    for (int i : n.inputs)
      if (i >= 0 && !src_.tensors[i].constant && src_.tensors[i].dtype != DType::FLOAT32) {
        *why = "has a non-float input";
        return false;
      }
    if (kind == Kind::kWeighted) {
      const int w = n.inputs.size() > 1 ? n.inputs[1] : -1;
      if (w < 0 || !src_.tensors[w].constant || src_.tensors[w].dtype != DType::FLOAT32) {
        *why = "weights are not a float constant";
        return false;
      }
      const int b = n.inputs.size() > 2 ? n.inputs[2] : -1;
      if (b >= 0 && (!src_.tensors[b].constant || src_.tensors[b].dtype != DType::FLOAT32)) {
        *why = "bias is not a float constant";
        return false;
      }
    }
    if (kind == Kind::kSameParams && q8_[n.inputs[0]] < 0) {
      *why = "input is float (moves data; follows its input)";
      return false;
    }
    return true;
  }

  // Activation parameters of source tensor `t` from its statistics.
  Int8Params ParamsFor(int t, const std::string& role) {
    auto cached = params_.find(t);
    if (cached != params_.end()) return cached->second;
    const std::string& name = Name(t);
    auto it = stats_.tensors.find(name);
    if (it == stats_.tensors.end())
      throw Error("no calibration statistics for tensor '" + name + "' (" + role +
                  "): calibrate this graph before quantizing it");
    if (it->second.has_nan_or_inf)
      throw Error("tensor '" + name + "' (" + role +
                  ") was NaN or Inf on the calibration data: its range is undefined; keep the "
                  "nodes around it float or fix the model");
    FloatRange r;
    try {
      r = SelectRange(it->second, o_.method, o_.percentile);
    } catch (const Error& e) {
      throw Error("tensor '" + name + "': " + e.what());
    }
    const Int8Params p = ChooseInt8Params(r);
    params_[t] = p;
    return p;
  }

  int Int8Of(int t, const std::string& reader) {
    if (q8_[t] >= 0) return q8_[t];
    if (!has_(OpCode::QUANTIZE, DType::FLOAT32))
      throw Error("this build has no QUANTIZE kernel (float32 -> int8) to feed node '" + reader +
                  "'");
    const Int8Params p = ParamsFor(t, "input of node '" + reader + "'");
    const ir::Tensor& f = src_.tensors[t];
    const int q = out_.AddActivation(out_.UniqueName(f.name + "_int8"), DType::INT8, f.shape);
    out_.tensors[q].quant = PerTensor(p);
    ir::Node n;
    n.op = OpCode::QUANTIZE;
    n.name = f.name + "/quantize";
    n.inputs = {plain_[t]};
    n.outputs = {q};
    nodes_.push_back(std::move(n));
    q8_[t] = q;
    return q;
  }

  int FloatOf(int t, const std::string& reader) {
    if (plain_[t] >= 0) return plain_[t];
    if (!has_(OpCode::DEQUANTIZE, DType::INT8))
      throw Error("this build has no DEQUANTIZE kernel (int8 -> float32) to feed node '" +
                  reader + "'");
    const ir::Tensor& q = out_.tensors[q8_[t]];
    const int f = out_.AddActivation(out_.UniqueName(Name(t) + "_float"), DType::FLOAT32,
                                     q.shape);
    ir::Node n;
    n.op = OpCode::DEQUANTIZE;
    n.name = Name(t) + "/dequantize";
    n.inputs = {q8_[t]};
    n.outputs = {f};
    nodes_.push_back(std::move(n));
    plain_[t] = f;
    return f;
  }

  // A float constant read by a requantizing op (e.g. an ADD's operand): per-tensor int8 over
  // its own range, like an activation.
  int Int8OfConstant(int t) {
    if (q8_[t] >= 0) return q8_[t];
    const ir::Tensor& c = src_.tensors[t];
    const std::span<const float> v = c.values<float>();
    FloatRange r{0, 0};
    if (!v.empty()) {
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      r = {*lo, *hi};
    }
    const Int8Params p = ChooseInt8Params(r);
    std::vector<int8_t> q(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      q[i] = static_cast<int8_t>(std::clamp(
          std::round(v[i] / p.scale) + static_cast<float>(p.zero_point), -128.0f, 127.0f));
    const int id = out_.AddConstant(out_.UniqueName(c.name + "_int8"), DType::INT8, c.shape, q);
    out_.tensors[id].quant = PerTensor(p);
    q8_[t] = id;
    return id;
  }

  void EmitWeighted(const ir::Node& src_node, ir::Node& n, LayerReport& layer) {
    const int x = Int8Of(src_node.inputs[0], src_node.name);
    const float s_in = out_.tensors[x].quant.scale[0];
    const ir::Tensor& w = src_.tensors[src_node.inputs[1]];
    const SymmetricInt8 q = QuantizeSymmetric(w.values<float>(), w.shape, o_.per_channel ? 0 : -1);
    const int wq = out_.AddConstant(out_.UniqueName(w.name + "_int8"), DType::INT8, w.shape,
                                    q.values);
    out_.tensors[wq].quant.scale = q.scales;
    out_.tensors[wq].quant.zero_point.assign(q.scales.size(), 0);
    out_.tensors[wq].quant.axis = q.axis;
    layer.detail = o_.per_channel ? "weights per-channel" : "weights per-tensor";

    const int64_t channels = w.shape[0];
    const int b = src_node.inputs.size() > 2 ? src_node.inputs[2] : -1;
    std::vector<float> bias(static_cast<size_t>(channels), 0.0f);
    if (b >= 0) {
      const std::span<const float> bv = src_.tensors[b].values<float>();
      if (static_cast<int64_t>(bv.size()) != channels)
        throw Error("node '" + src_node.name + "': bias '" + Name(b) + "' has " +
                    std::to_string(bv.size()) + " values for " + std::to_string(channels) +
                    " output channels");
      bias.assign(bv.begin(), bv.end());
    }
    bool corrected = false;
    if (o_.bias_correction)
      corrected = CorrectBias(src_node, w, Dequantize(q, w.shape), stats_,
                              Name(src_node.inputs[0]), bias, report_.warnings);
    if (corrected) layer.detail += ", bias corrected";

    n.inputs = {x, wq};
    if (b >= 0 || corrected) {
      const std::string bias_name = b >= 0 ? Name(b) : w.name + "_bias";
      const std::vector<int32_t> bq =
          QuantizeBias(bias, s_in, q.scales, bias_name, &report_.warnings);
      // The bias carries no quantization parameters of its own: its scale is implied by the
      // scheme (s_in * s_w[c], zero point 0) and the kernels derive it. Stored, the scales and
      // int64 zero points would cost 12 bytes per channel, a sixth of a small model's file.
      const int bt = out_.AddConstant(out_.UniqueName(bias_name + "_int32"), DType::INT32,
                                      {channels}, bq);
      n.inputs.push_back(bt);
    } else if (src_node.inputs.size() > 2) {
      n.inputs.push_back(-1);
    }
  }

  void EmitInt8(const ir::Node& src_node, LayerReport& layer) {
    ir::Node n = src_node;
    const Kind kind = KindOf(src_node.op);
    if (kind == Kind::kWeighted) {
      EmitWeighted(src_node, n, layer);
    } else {
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const int i = src_node.inputs[k];
        if (i < 0 || src_.tensors[i].dtype != DType::FLOAT32) continue;
        n.inputs[k] = src_.tensors[i].constant ? Int8OfConstant(i) : Int8Of(i, src_node.name);
      }
    }
    for (int o : src_node.outputs) {
      ir::Tensor& t = out_.tensors[o];
      t.dtype = DType::INT8;
      if (kind == Kind::kSameParams) {
        t.quant = out_.tensors[n.inputs[0]].quant;
      } else if (kind == Kind::kFixedOutput) {
        t.quant = PerTensor(FixedOutputParams(src_node.op));
      } else {
        t.quant = PerTensor(ParamsFor(o, "output of node '" + src_node.name + "'"));
      }
      q8_[o] = o;
    }
    nodes_.push_back(std::move(n));
    const ir::Quantization& q = out_.tensors[src_node.outputs[0]].quant;
    layer.quantized = true;
    layer.out_min = q.scale[0] * static_cast<float>(-128 - q.zero_point[0]);
    layer.out_max = q.scale[0] * static_cast<float>(127 - q.zero_point[0]);
    // The model's outputs stay float unless int8 I/O was asked for: the int8 tensor gives up
    // the output's name to the float one.
    for (int o : src_node.outputs) {
      if (!src_.IsGraphOutput(o) || o_.int8_io) continue;
      const std::string name = Name(o);
      out_.tensors[o].name = out_.UniqueName(name + "_int8");
      const int f = FloatOf(o, "model output");
      out_.tensors[f].name = name;
    }
  }

  void EmitFloat(const ir::Node& src_node) {
    ir::Node n = src_node;
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (IsFloatActivation(src_node.inputs[k]))
        n.inputs[k] = FloatOf(src_node.inputs[k], src_node.name);
    for (int o : src_node.outputs) plain_[o] = o;
    nodes_.push_back(std::move(n));
    for (int o : src_node.outputs) {
      if (!src_.IsGraphOutput(o) || !o_.int8_io || !IsFloatActivation(o)) continue;
      const std::string name = Name(o);
      out_.tensors[o].name = out_.UniqueName(name + "_float");
      const int q = Int8Of(o, "model output");
      out_.tensors[q].name = name;
    }
  }

  const ir::Graph& src_;
  const CalibrationResult& stats_;
  const QuantizeOptions& o_;
  const KernelQuery& has_;
  QuantizeReport& report_;
  ir::Graph out_;
  std::vector<ir::Node> nodes_;
  std::vector<int> plain_;  // source tensor -> its float (original dtype) version, or -1
  std::vector<int> q8_;     // source tensor -> its int8 version, or -1
  std::map<int, Int8Params> params_;
};

}  // namespace

uint64_t ConstantBytes(const ir::Graph& graph) {
  uint64_t n = 0;
  for (const ir::Tensor& t : graph.tensors)
    if (t.constant) n += t.data.size();
  return n;
}

bool Selected(const QuantizeOptions& options, const std::string& node, std::string* why) {
  if (options.float_nodes.count(node)) {
    *why = "kept float on request";
    return false;
  }
  if (!options.only_nodes.empty() && !options.only_nodes.count(node)) {
    *why = "not among the nodes to quantize";
    return false;
  }
  return true;
}

Expected<ir::Graph> QuantizeGraph(const ir::Graph& float_graph, const CalibrationResult& stats,
                                  const QuantizeOptions& options, QuantizeReport* report) {
  return Capture([&]() -> ir::Graph {
    CheckIsFloatGraph(float_graph);
    CheckFiniteConstants(float_graph);
    const KernelQuery has = MakeKernelQuery(options);
    QuantizeReport r;
    r.float_weight_bytes = ConstantBytes(float_graph);
    ir::Graph out;
    if (options.weight_only != WeightOnly::kNone) {
      out = BuildWeightOnlyGraph(float_graph, stats, options, has, r);
    } else {
      const ir::Graph prepared = PrepareForInt8(float_graph);
      out = Int8Builder(prepared, stats, options, has, r).Build();
    }
    r.weight_bytes = ConstantBytes(out);
    if (report) *report = std::move(r);
    return out;
  });
}

}  // namespace outpost::quant
