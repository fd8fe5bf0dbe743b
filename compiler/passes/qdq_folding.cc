// QDQ folding: DEQUANTIZE -> float op -> QUANTIZE becomes one integer op with the model's own
// quantization parameters (docs/quantization.md, "Quantization-aware models").
//
// A model exported after quantization-aware training or static quantization (PyTorch,
// TensorFlow, ONNX Runtime's quantizer) computes in float between QuantizeLinear /
// DequantizeLinear pairs; the importer keeps those as QUANTIZE / DEQUANTIZE nodes and
// dequantized constants (FLOAT32 weights recording the parameters they were dequantized with,
// compiler/import/onnx_quant_ops.cc). The rewrites here, each local and applied until none
// fits:
//
//   1. DEQUANTIZE(a) -> QUANTIZE: with a's own parameters the pair is the identity and
//      disappears; with others it is one QUANTIZE INT8 -> INT8 (a requantization).
//   2. DEQUANTIZE before data movement (RESHAPE, TRANSPOSE, SLICE, SPLIT, PAD, CONCAT of
//      equally quantized inputs, max pooling) moves after it: the op moves the integers and
//      its output keeps the input's parameters, as the scheme requires. (1) then removes the
//      pairs this exposes.
//   3. CONV_2D / FULLY_CONNECTED / MATMUL reading a DEQUANTIZE and read only by a QUANTIZE,
//      with dequantized weights, become integer ops: the weights' own INT8 integers, an INT32
//      bias at scale s_input * s_weight[c], the QUANTIZE's output as theirs. A fused RELU /
//      CLIP stays and becomes the clamp of the quantized output.
//   4. RELU / CLIP between an integer op and a QUANTIZE with the op's own output parameters
//      folds into the op's clamp (exact: quantization is monotonic).
//   5. Element-wise ops, concatenation and average pooling between DEQUANTIZEs and a
//      QUANTIZE become integer ops that requantize.
//
// A rewrite happens only when the runtime has the integer kernel (QdqOptions::has_kernel).
// Whatever does not fit stays float with QUANTIZE / DEQUANTIZE at run time: correct, slower.
// FinishQuantization (after the other passes) merges QUANTIZE chains, drops the records and
// checks every quantized tensor.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "compiler/passes/passes.h"
#include "compiler/passes/quant_params.h"
#include "runtime/all_ops_resolver.h"

namespace outpost::passes {
namespace {

using opm::DType;
using opm::OpCode;

bool RuntimeHasKernel(OpCode op, DType dtype) {
  static const AllOpsResolver* resolver = [] {
    auto* r = new AllOpsResolver;
    if (RegisterAllKernels(*r) != Status::kOk) throw Error("internal: kernel table too small");
    return r;
  }();
  return resolver->Find(op, dtype) != nullptr;
}

opm::OpOptionsUnion QuantizeOptions() {
  opm::OpOptionsUnion o;
  o.Set(opm::QuantizeOptionsT{});
  return o;
}

// The fused activation of a node's options, if its op has one.
opm::Activation* FusedActivation(ir::Node& n, float** lo, float** hi) {
  auto fields = [&](auto* o) -> opm::Activation* {
    if (o == nullptr) return nullptr;
    if (lo) *lo = &o->act_min;
    if (hi) *hi = &o->act_max;
    return &o->activation;
  };
  switch (n.op) {
    case OpCode::CONV_2D: return fields(n.options.AsConv2DOptions());
    case OpCode::CONV_TRANSPOSE_2D: return fields(n.options.AsConvTranspose2DOptions());
    case OpCode::FULLY_CONNECTED: return fields(n.options.AsFullyConnectedOptions());
    case OpCode::ADD:
    case OpCode::SUB:
    case OpCode::MUL:
    case OpCode::DIV: return fields(n.options.AsBinaryOptions());
    default: return nullptr;
  }
}

// Who produces and who reads each tensor; rebuilt after every rewrite.
struct Links {
  std::vector<int> producer;
  std::vector<std::vector<int>> consumers;
  std::vector<bool> output;

  explicit Links(const ir::Graph& g)
      : producer(g.tensors.size(), -1), consumers(g.tensors.size()), output(g.tensors.size()) {
    for (size_t n = 0; n < g.nodes.size(); ++n) {
      for (int i : g.nodes[n].inputs)
        if (i >= 0 && (consumers[i].empty() || consumers[i].back() != static_cast<int>(n)))
          consumers[i].push_back(static_cast<int>(n));
      for (int o : g.nodes[n].outputs) producer[o] = static_cast<int>(n);
    }
    for (int o : g.outputs) output[o] = true;
  }
};

// Float values of a constant, or of a DEQUANTIZE of a constant, with the record of the
// integers they were dequantized from (empty when they are plain floats).
struct ConstantValues {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
  ir::Quantization record;
};

class Folder {
 public:
  Folder(ir::Graph& g, const QdqOptions& options, std::vector<std::string>* warnings)
      : g_(g), warnings_(warnings) {
    has_kernel_ = options.has_kernel ? options.has_kernel : RuntimeHasKernel;
  }

  // Applies the first rewrite that fits; false when none does.
  bool RewriteOne() {
    Links links(g_);
    links_ = &links;
    bool rewrote = false;
    for (size_t i = 0; i < g_.nodes.size() && !rewrote; ++i) rewrote = TryNode(static_cast<int>(i));
    links_ = nullptr;
    return rewrote;
  }

 private:
  bool TryNode(int i) {
    switch (g_.nodes[i].op) {
      case OpCode::QUANTIZE: return FoldPair(i);
      case OpCode::CONV_2D:
      case OpCode::FULLY_CONNECTED:
      case OpCode::MATMUL: return FoldLinear(i);
      case OpCode::RELU:
      case OpCode::CLIP: return FoldClamp(i) || FoldRequantizing(i);
      case OpCode::RESHAPE:
      case OpCode::TRANSPOSE:
      case OpCode::SLICE:
      case OpCode::SPLIT:
      case OpCode::PAD:
      case OpCode::MAX_POOL_2D:
      case OpCode::GLOBAL_MAX_POOL: return SinkDequantize(i);
      case OpCode::CONCAT: return SinkDequantize(i) || FoldRequantizing(i);
      case OpCode::ADD:
      case OpCode::SUB:
      case OpCode::MUL:
      case OpCode::AVERAGE_POOL_2D:
      case OpCode::GLOBAL_AVERAGE_POOL:
      case OpCode::LEAKY_RELU:
      case OpCode::SIGMOID:
      case OpCode::TANH:
      case OpCode::HARD_SIGMOID:
      case OpCode::HARD_SWISH:
      case OpCode::SOFTMAX: return FoldRequantizing(i);
      default: return false;
    }
  }

  const ir::Tensor& T(int t) const { return g_.tensors[t]; }

  static bool PerTensorInt8(const ir::Tensor& t) {
    return t.dtype == DType::INT8 && t.quant.present() && t.quant.axis < 0;
  }

  // The INT8 per-tensor tensor a DEQUANTIZE turns into runtime tensor t, or -1.
  int DequantizedFrom(int t) const {
    if (t < 0 || T(t).constant) return -1;
    const int p = links_->producer[t];
    if (p < 0 || g_.nodes[p].op != OpCode::DEQUANTIZE) return -1;
    const int a = g_.nodes[p].inputs[0];
    return PerTensorInt8(T(a)) ? a : -1;
  }

  // The QUANTIZE node that is the only reader of float tensor t (not a graph output) and
  // writes a per-tensor INT8 tensor, or -1.
  int SoleQuantizeReader(int t) const {
    if (T(t).dtype != DType::FLOAT32 || links_->output[t] || links_->consumers[t].size() != 1)
      return -1;
    const int q = links_->consumers[t][0];
    const ir::Node& n = g_.nodes[q];
    if (n.op != OpCode::QUANTIZE || n.inputs[0] != t) return -1;
    return PerTensorInt8(T(n.outputs[0])) ? q : -1;
  }

  void Erase(std::vector<int> nodes) {
    std::sort(nodes.rbegin(), nodes.rend());
    for (int n : nodes) g_.nodes.erase(g_.nodes.begin() + n);
  }

  void Warn(const std::string& w) {
    if (warnings_) warnings_->push_back(w);
  }

  // (1) DEQUANTIZE(a) -> QUANTIZE.
  bool FoldPair(int i) {
    const ir::Node& q = g_.nodes[i];
    const int t = q.inputs[0];
    const int d = links_->producer[t];
    if (d < 0 || g_.nodes[d].op != OpCode::DEQUANTIZE) return false;
    const int a = g_.nodes[d].inputs[0];
    const int y = q.outputs[0];
    const DType da = T(a).dtype, dy = T(y).dtype;
    if ((da != DType::INT8 && da != DType::UINT8) || (dy != DType::INT8 && dy != DType::UINT8))
      return false;
    if (da == dy && SameQuantization(T(a).quant, T(y).quant) && !links_->output[y]) {
      g_.ReplaceUses(y, a);
      Erase({i});
      return true;
    }
    if (T(a).quant.axis >= 0 || T(y).quant.axis >= 0 || !has_kernel_(OpCode::QUANTIZE, da))
      return false;
    g_.nodes[i].inputs[0] = a;
    return true;
  }

  // Whether PAD's constant value survives quantization with q exactly.
  static bool ExactPadValue(const ir::Node& n, const ir::Quantization& q) {
    const auto* o = n.options.AsPadOptions();
    if (o == nullptr || o->mode != opm::PadMode::CONSTANT) return true;
    const int64_t k = QuantizeValue(o->value, q.scale[0], q.zero_point[0], -128, 127);
    return static_cast<float>(k - q.zero_point[0]) * q.scale[0] == o->value;
  }

  // (2) data movement after a DEQUANTIZE.
  bool SinkDequantize(int i) {
    const ir::Node& n = g_.nodes[i];
    if (n.op == OpCode::MAX_POOL_2D && n.outputs.size() != 1) return false;
    const size_t data_inputs = n.op == OpCode::CONCAT ? n.inputs.size() : 1;
    std::vector<int> sources;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      if (k >= data_inputs) {
        if (n.inputs[k] >= 0) return false;
        continue;
      }
      const int a = DequantizedFrom(n.inputs[k]);
      if (a < 0) return false;
      if (!sources.empty() && !SameQuantization(T(a).quant, T(sources[0]).quant)) return false;
      sources.push_back(a);
    }
    if (sources.empty()) return false;
    const ir::Quantization q = T(sources[0]).quant;
    for (int o : n.outputs)
      if (T(o).dtype != DType::FLOAT32) return false;
    if (n.op == OpCode::PAD && !ExactPadValue(n, q)) return false;
    if (!has_kernel_(n.op, DType::INT8)) return false;
    std::vector<ir::Node> dequantize;
    for (size_t k = 0; k < sources.size(); ++k) g_.nodes[i].inputs[k] = sources[k];
    for (int& o : g_.nodes[i].outputs) {
      const int o8 = g_.AddActivation(g_.UniqueName(T(o).name + "/int8"), DType::INT8, T(o).shape);
      g_.tensors[o8].quant = q;
      ir::Node d;
      d.op = OpCode::DEQUANTIZE;
      d.name = g_.nodes[i].name + "/dequantize";
      d.inputs = {o8};
      d.outputs = {o};
      d.options = QuantizeOptions();
      dequantize.push_back(std::move(d));
      o = o8;
    }
    g_.nodes.insert(g_.nodes.begin() + i + 1, dequantize.begin(), dequantize.end());
    return true;
  }

  std::optional<ConstantValues> Constant(int t) const {
    if (t < 0) return std::nullopt;
    ConstantValues c;
    if (T(t).constant) {
      if (T(t).dtype != DType::FLOAT32) return std::nullopt;
      const auto v = T(t).values<float>();
      c.values.assign(v.begin(), v.end());
      c.record = T(t).quant;
    } else {
      // A DEQUANTIZE of a constant: weights stored as integers in an IR graph.
      const int p = links_->producer[t];
      if (p < 0 || g_.nodes[p].op != OpCode::DEQUANTIZE) return std::nullopt;
      const ir::Tensor& src = T(g_.nodes[p].inputs[0]);
      if (!src.constant || !src.quant.present()) return std::nullopt;
      if (src.dtype != DType::INT8 && src.dtype != DType::INT32) return std::nullopt;
      const int64_t inner = src.quant.axis < 0 ? 0 : Inner(src.shape, src.quant.axis);
      const int64_t n = src.num_elements();
      for (int64_t e = 0; e < n; ++e) {
        const int64_t q = src.dtype == DType::INT8 ? src.values<int8_t>()[e]
                                                   : src.values<int32_t>()[e];
        const int64_t ch = inner ? (e / inner) % src.shape[src.quant.axis] : 0;
        c.values.push_back(static_cast<float>(q - ZeroPointAt(src.quant, ch)) *
                           ScaleAt(src.quant, ch));
      }
      c.record = src.quant;
    }
    c.name = T(t).name;
    c.shape = T(t).shape;
    return c;
  }

  static int64_t Inner(const std::vector<int64_t>& shape, int axis) {
    int64_t inner = 1;
    for (size_t k = static_cast<size_t>(axis) + 1; k < shape.size(); ++k) inner *= shape[k];
    return inner;
  }

  // The INT8 integers recorded for weights `w` (per tensor or per output channel, axis 0),
  // when every value is exactly scale * (q - zero_point) for q in [-128, 127].
  static std::optional<std::vector<int8_t>> Recorded(const ConstantValues& w) {
    const ir::Quantization& r = w.record;
    if (!r.present() || (r.axis != -1 && r.axis != 0) || w.shape.empty()) return std::nullopt;
    for (int64_t z : r.zero_point)
      if (z < -128 || z > 127) return std::nullopt;
    const int64_t inner = ir::NumElements(w.shape) / w.shape[0];
    std::vector<int8_t> q(w.values.size());
    for (size_t e = 0; e < w.values.size(); ++e) {
      const int64_t c = r.axis == 0 ? static_cast<int64_t>(e) / inner : 0;
      const float s = ScaleAt(r, c);
      const double k = std::nearbyint(static_cast<double>(w.values[e]) / s);
      // Within a thousandth of a step: exact for the importer's records, and for records
      // scaled by Gemm's alpha.
      if (!(std::fabs(k * s - w.values[e]) <= 1e-3 * s)) return std::nullopt;
      const double v = k + static_cast<double>(ZeroPointAt(r, c));
      if (v < -128 || v > 127) return std::nullopt;
      q[e] = static_cast<int8_t>(v);
    }
    return q;
  }

  // INT8 weights for dequantized weights `w`: the recorded integers, or, when the record
  // cannot be used as it is (per-axis on another axis than the output channels', values that
  // are not what it describes), a symmetric quantization per output channel (axis 0) of the
  // values. Plain float weights are not quantized: a float layer between QUANTIZE and
  // DEQUANTIZE may have been kept float on purpose (a quantizer's accuracy gate).
  int Int8Weights(const ConstantValues& w, const std::string& node) {
    ir::Quantization q;
    std::vector<int8_t> ints;
    if (auto rec = Recorded(w)) {
      ints = std::move(*rec);
      q = w.record;
    } else {
      Warn("node '" + node + "': weights '" + w.name + "' do not fit the integer scheme as " +
           "quantized (" + DescribeQuantization(w.record) +
           "); quantized again symmetrically per output channel");
      const int64_t channels = w.shape[0];
      const int64_t inner = ir::NumElements(w.shape) / channels;
      q.axis = 0;
      ints.resize(w.values.size());
      for (int64_t c = 0; c < channels; ++c) {
        float m = 0;
        for (int64_t k = 0; k < inner; ++k) m = std::max(m, std::fabs(w.values[c * inner + k]));
        const float s = m > 0 ? m / 127.0f : 1.0f;
        q.scale.push_back(s);
        q.zero_point.push_back(0);
        for (int64_t k = 0; k < inner; ++k)
          ints[c * inner + k] =
              static_cast<int8_t>(QuantizeValue(w.values[c * inner + k], s, 0, -127, 127));
      }
    }
    const int t = g_.AddConstant(g_.UniqueName(w.name + "/int8"), DType::INT8, w.shape, ints);
    g_.tensors[t].quant = q;
    return t;
  }

  // INT32 bias at scale s_x * s_w[c]; -1 with a warning when a value does not fit.
  int Int32Bias(const ConstantValues& b, float sx, const ir::Quantization& wq, int64_t channels,
                const std::string& node, bool* ok) {
    *ok = false;
    if (b.shape != std::vector<int64_t>{channels} || b.values.size() != static_cast<size_t>(channels))
      return -1;
    const ir::Quantization& r = b.record;
    const bool per_channel_record = r.present() && (r.axis == 0 || r.scale.size() == 1);
    ir::Quantization q;
    q.axis = 0;
    std::vector<int32_t> ints(channels);
    std::string mismatch;
    for (int64_t c = 0; c < channels; ++c) {
      const float s = static_cast<float>(static_cast<double>(sx) * ScaleAt(wq, c));
      q.scale.push_back(s);
      q.zero_point.push_back(0);
      double k;
      if (per_channel_record && ZeroPointAt(r, c) == 0 &&
          std::fabs(ScaleAt(r, c) - s) <= 1e-5 * s) {
        k = std::nearbyint(static_cast<double>(b.values[c]) / ScaleAt(r, c));
      } else {
        if (r.present() && mismatch.empty()) {
          mismatch = "node '" + node + "': bias '" + b.name + "' is quantized with scale " +
                     ScaleText(ScaleAt(r, c)) + " (channel " + std::to_string(c) +
                     ") but input scale x weight scale is " + ScaleText(s) +
                     "; requantized to that product, which the integer kernels need";
        }
        k = std::nearbyint(static_cast<double>(b.values[c]) / s);
      }
      if (!(k >= std::numeric_limits<int32_t>::min() && k <= std::numeric_limits<int32_t>::max())) {
        Warn("node '" + node + "': bias '" + b.name + "' does not fit INT32 at scale input x " +
             "weight; the layer stays float");
        return -1;
      }
      ints[c] = static_cast<int32_t>(k);
    }
    if (!mismatch.empty()) Warn(mismatch);
    const int t = g_.AddConstant(g_.UniqueName(b.name + "/int32"), DType::INT32, {channels}, ints);
    g_.tensors[t].quant = q;
    *ok = true;
    return t;
  }

  // (3) CONV_2D / FULLY_CONNECTED / MATMUL between DEQUANTIZE and QUANTIZE.
  bool FoldLinear(int i) {
    ir::Node& n = g_.nodes[i];
    const int q = SoleQuantizeReader(n.outputs[0]);
    if (q < 0 || n.inputs.size() < 2) return false;
    const int a = DequantizedFrom(n.inputs[0]);
    if (a < 0) return false;
    if (opm::Activation* act = FusedActivation(n, nullptr, nullptr))
      if (*act == opm::Activation::HARD_SWISH) return false;  // not on integers (the scheme)
    if (!has_kernel_(n.op, DType::INT8)) return false;
    const float sx = T(a).quant.scale[0];
    std::vector<int> inputs = {a};
    if (n.op == OpCode::MATMUL) {
      int b = DequantizedFrom(n.inputs[1]);
      if (b < 0) {
        const std::optional<ConstantValues> c = Constant(n.inputs[1]);
        if (!c || c->shape.size() != 2 || !c->record.present() || c->record.axis >= 0) return false;
        ConstantValues per_tensor = *c;
        auto ints = Recorded(per_tensor);
        if (!ints) return false;
        b = g_.AddConstant(g_.UniqueName(c->name + "/int8"), DType::INT8, c->shape, *ints);
        g_.tensors[b].quant = c->record;
      }
      inputs.push_back(b);
    } else {
      const std::optional<ConstantValues> w = Constant(n.inputs[1]);
      if (!w || w->shape.empty() || !w->record.present()) return false;
      std::optional<ConstantValues> b;
      if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
        b = Constant(n.inputs[2]);
        if (!b) return false;  // a bias computed at run time
      }
      const int wt = Int8Weights(*w, n.name);
      inputs.push_back(wt);
      if (b) {
        bool ok;
        const ir::Quantization wq = T(wt).quant;
        const int bt = Int32Bias(*b, sx, wq, w->shape[0], g_.nodes[i].name, &ok);
        if (!ok) return false;
        inputs.push_back(bt);
      }
    }
    ir::Node& node = g_.nodes[i];
    node.inputs = inputs;
    node.outputs[0] = g_.nodes[q].outputs[0];
    Erase({q});
    return true;
  }

  // (4) RELU / CLIP after an integer op, quantized with that op's output parameters.
  bool FoldClamp(int i) {
    const ir::Node& r = g_.nodes[i];
    const int x = r.inputs[0];
    if (links_->output[x] || links_->consumers[x].size() != 1) return false;
    const int a = DequantizedFrom(x);
    if (a < 0 || links_->output[a] || links_->consumers[a].size() != 1) return false;
    const int d = links_->producer[x];
    const int p = links_->producer[a];
    if (p < 0) return false;
    float *lo = nullptr, *hi = nullptr;
    opm::Activation* act = FusedActivation(g_.nodes[p], &lo, &hi);
    if (act == nullptr || *act != opm::Activation::NONE) return false;
    const int q = SoleQuantizeReader(r.outputs[0]);
    if (q < 0 || !SameQuantization(T(g_.nodes[q].outputs[0]).quant, T(a).quant)) return false;
    if (r.op == OpCode::CLIP) {
      const auto* c = r.options.AsClipOptions();
      if (c == nullptr || !(c->min <= c->max)) return false;
      *act = opm::Activation::CLIP;
      *lo = c->min;
      *hi = c->max;
    } else {
      *act = opm::Activation::RELU;
    }
    g_.nodes[p].outputs[0] = g_.nodes[q].outputs[0];
    Erase({i, d, q});
    return true;
  }

  // (5) an op that requantizes, between DEQUANTIZEs and a QUANTIZE.
  bool FoldRequantizing(int i) {
    ir::Node& n = g_.nodes[i];
    if (n.outputs.size() != 1) return false;
    const int q = SoleQuantizeReader(n.outputs[0]);
    if (q < 0) return false;
    std::vector<int> inputs = n.inputs;
    for (int& in : inputs) {
      if (in < 0) continue;
      in = DequantizedFrom(in);
      if (in < 0) return false;
    }
    if (opm::Activation* act = FusedActivation(n, nullptr, nullptr))
      if (*act == opm::Activation::HARD_SWISH) return false;
    if (!has_kernel_(n.op, DType::INT8)) return false;
    n.inputs = inputs;
    n.outputs[0] = g_.nodes[q].outputs[0];
    Erase({q});
    return true;
  }

  ir::Graph& g_;
  std::vector<std::string>* warnings_;
  std::function<bool(OpCode, DType)> has_kernel_;
  const Links* links_ = nullptr;
};

}  // namespace

int FoldQdq(ir::Graph& graph, const QdqOptions& options, std::vector<std::string>* warnings) {
  Folder folder(graph, options, warnings);
  int rewrites = 0;
  while (folder.RewriteOne()) ++rewrites;
  if (rewrites) graph.RemoveUnusedTensors();
  return rewrites;
}

int FinishQuantization(ir::Graph& g) {
  int merged = 0;
  // QUANTIZE float -> INT8 then INT8 -> UINT8 with the same scale (a uint8 graph output) is
  // one QUANTIZE float -> UINT8: both round the same way, the shift by 128 is exact.
  for (bool again = true; again;) {
    again = false;
    const Links links(g);
    for (size_t i = 0; i < g.nodes.size() && !again; ++i) {
      const ir::Node& second = g.nodes[i];
      if (second.op != OpCode::QUANTIZE) continue;
      const int m = second.inputs[0];
      const int p = links.producer[m];
      if (p < 0 || g.nodes[p].op != OpCode::QUANTIZE || links.output[m] ||
          links.consumers[m].size() != 1)
        continue;
      const ir::Tensor& x = g.tensors[g.nodes[p].inputs[0]];
      const ir::Tensor& mid = g.tensors[m];
      const ir::Tensor& y = g.tensors[second.outputs[0]];
      if (x.dtype != DType::FLOAT32 || mid.dtype != DType::INT8 || y.dtype != DType::UINT8 ||
          !SameQuantization(ShiftZeroPoints(mid.quant, 128), y.quant))
        continue;
      g.nodes[p].outputs[0] = second.outputs[0];
      g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
      ++merged;
      again = true;
    }
  }
  // A DEQUANTIZE of the INT8 view of a UINT8 tensor (QUANTIZE UINT8 -> INT8, same reals)
  // reads the UINT8 tensor itself: one op instead of two. The view's QUANTIZE goes when
  // nothing else reads the view (EliminateDeadNodes).
  {
    const Links links(g);
    for (ir::Node& d : g.nodes) {
      if (d.op != OpCode::DEQUANTIZE) continue;
      const int m = d.inputs[0];
      const int p = links.producer[m];
      if (p < 0 || g.nodes[p].op != OpCode::QUANTIZE) continue;
      const int x = g.nodes[p].inputs[0];
      if (g.tensors[x].dtype != DType::UINT8 || g.tensors[m].dtype != DType::INT8 ||
          !SameQuantization(ShiftZeroPoints(g.tensors[m].quant, 128), g.tensors[x].quant))
        continue;
      d.inputs[0] = x;
      ++merged;
    }
  }
  // The records of dequantized constants have served; float tensors carry no parameters.
  for (ir::Tensor& t : g.tensors)
    if (t.dtype == DType::FLOAT32) t.quant = {};
  g.RemoveUnusedTensors();
  for (const ir::Tensor& t : g.tensors)
    if (t.quant.present()) CheckQuantization(t.quant, t.dtype, t.shape, t.name);
  return merged;
}

}  // namespace outpost::passes
