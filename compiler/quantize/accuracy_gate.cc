#include "compiler/quantize/accuracy_gate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <ostream>
#include <set>

#include "io/classification.h"

namespace outpost::quant {
namespace {

std::string Fixed(double v, int digits);

// What the float reference produced for each validation sample.
struct Reference {
  std::vector<std::vector<float>> outputs;  // output 0 per sample
};

struct Score {
  double accuracy = 0;  // %
  double output_sqnr_db = 0;
};

class Gate {
 public:
  Gate(const ir::Graph& float_graph, const CalibrationResult& stats, const QuantizeOptions& base,
       const Dataset& data, const GateOptions& options)
      : float_graph_(float_graph), stats_(stats), base_(base), data_(data), opt_(options) {}

  Expected<GateResult> Run(const ir::Graph& reference);

 private:
  void Progress(const std::string& phase, int64_t done, int64_t total) const {
    if (opt_.progress) opt_.progress(phase, done, total);
  }
  // Runs `g` on the first n samples; accuracy against labels, SQNR against the reference.
  // per_sample: report progress per sample (long evaluations on every sample).
  Score Evaluate(const ir::Graph& g, int64_t n, const std::string& phase, bool per_sample) const;
  // Whether a score meets the gate (float_score: the reference's accuracy on the same samples).
  bool Fits(const Score& s, double float_accuracy) const {
    if (labelled_) return float_accuracy - s.accuracy <= opt_.max_drop + 1e-9;
    return s.output_sqnr_db >= opt_.min_output_sqnr_db;
  }
  double Metric(const Score& s) const { return labelled_ ? s.accuracy : s.output_sqnr_db; }
  ir::Graph Quantize(const QuantizeOptions& o, QuantizeReport* report) const {
    Expected<ir::Graph> q = QuantizeGraph(float_graph_, stats_, o, report);
    if (!q) throw q.error();
    return std::move(q).value();
  }
  std::vector<std::string> Candidates(const ir::Graph& quantized, const QuantizeReport& r) const;
  void RankSensitivity(GateResult& result, const std::vector<std::string>& candidates);
  void Search(GateResult& result);
  void Finish(GateResult& result, const ir::Graph& g, const QuantizeReport& r, const Score& all);

  const ir::Graph& float_graph_;
  const CalibrationResult& stats_;
  const QuantizeOptions& base_;
  const Dataset& data_;
  const GateOptions& opt_;
  bool labelled_ = true;
  int64_t n_all_ = 0, n_subset_ = 0;
  Reference ref_;
  double float_subset_accuracy_ = 0;
};

uint64_t ConstantBytes(const ir::Graph& g) {
  uint64_t bytes = 0;
  for (const ir::Tensor& t : g.tensors)
    if (t.constant) bytes += t.data.size();
  return bytes;
}

double Accuracy(const std::vector<int>& predictions, const std::vector<int>& labels, int64_t n) {
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) correct += predictions[i] == labels[i];
  return n ? 100.0 * static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

Score Gate::Evaluate(const ir::Graph& g, int64_t n, const std::string& phase,
                     bool per_sample) const {
  Expected<std::unique_ptr<GraphExecutor>> x = GraphExecutor::Create(g);
  if (!x) throw Error(phase + ": " + x.message());
  SqnrAccumulator sqnr;
  std::vector<int> predictions(n);
  for (int64_t i = 0; i < n; ++i) {
    Expected<Unit> r = (*x)->Run(data_.samples[i]);
    if (!r) throw Error(phase + ": sample " + std::to_string(i) + ": " + r.message());
    const std::vector<float> y = (*x)->Output(0);
    sqnr.Add(ref_.outputs[i], y);
    predictions[i] = io::ArgMax(y);
    if (per_sample) Progress(phase, i + 1, n);
  }
  Score s;
  s.output_sqnr_db = sqnr.db();
  if (labelled_) s.accuracy = Accuracy(predictions, data_.labels, n);
  return s;
}

// The layers the gate may keep in float: those the quantizer put in int8.
std::vector<std::string> Gate::Candidates(const ir::Graph& quantized,
                                          const QuantizeReport& r) const {
  std::vector<std::string> out;
  for (const LayerReport& l : r.layers)
    if (l.quantized && !base_.float_nodes.count(l.node)) out.push_back(l.node);
  if (!out.empty() || !r.layers.empty()) return out;
  // A quantizer report without layer details: a node whose output is int8 in the result.
  std::map<std::string, opm::DType> dtype;
  for (const ir::Tensor& t : quantized.tensors) dtype[t.name] = t.dtype;
  for (const ir::Node& n : float_graph_.nodes) {
    if (n.outputs.empty() || base_.float_nodes.count(n.name)) continue;
    auto it = dtype.find(float_graph_.tensors[n.outputs[0]].name);
    if (it != dtype.end() && it->second == opm::DType::INT8) out.push_back(n.name);
  }
  return out;
}

void Gate::RankSensitivity(GateResult& result, const std::vector<std::string>& candidates) {
  std::map<std::string, std::string> op_of;
  for (const ir::Node& n : float_graph_.nodes) op_of[n.name] = opm::EnumNameOpCode(n.op);
  std::vector<std::string> unranked;
  for (size_t i = 0; i < candidates.size(); ++i) {
    QuantizeOptions o = base_;
    o.only_nodes = {candidates[i]};
    Expected<ir::Graph> q = QuantizeGraph(float_graph_, stats_, o);
    Progress("sensitivity", static_cast<int64_t>(i + 1), static_cast<int64_t>(candidates.size()));
    if (!q) {
      // Ops that only move data take their input's precision and cannot be int8 alone; they
      // follow whatever the layers around them do.
      unranked.push_back(candidates[i]);
      continue;
    }
    const Score sc = Evaluate(*q, n_subset_, "sensitivity", /*per_sample=*/false);
    result.sensitivity.push_back(
        {candidates[i], op_of[candidates[i]], sc.accuracy, sc.output_sqnr_db});
  }
  if (!unranked.empty()) {
    std::string names;
    for (const std::string& n : unranked) names += (names.empty() ? "" : ", ") + n;
    result.notes.push_back(
        "not ranked (cannot be int8 on their own; they follow their input's "
        "precision): " +
        names);
  }
  // Most sensitive first. Accuracy on a subset moves in steps of one sample and small
  // differences are noise, so it is compared in steps of half the allowed drop (at least one
  // sample); within a step the lower output SQNR ranks first.
  const double step = std::max(opt_.max_drop / 2, 100.0 / static_cast<double>(n_subset_));
  const double reference = float_subset_accuracy_;
  auto bucket = [&](const LayerSensitivity& s) {
    return labelled_ ? std::floor(std::max(0.0, reference - s.accuracy) / step + 1e-9) : 0.0;
  };
  std::stable_sort(result.sensitivity.begin(), result.sensitivity.end(),
                   [&](const LayerSensitivity& a, const LayerSensitivity& b) {
                     const double ba = bucket(a), bb = bucket(b);
                     if (ba != bb) return ba > bb;
                     return a.output_sqnr_db < b.output_sqnr_db;
                   });
}

void Gate::Finish(GateResult& result, const ir::Graph& g, const QuantizeReport& r,
                  const Score& all) {
  result.graph = g;
  result.quantize_report = r;
  result.weight_bytes = ConstantBytes(g);
  result.final_accuracy = all.accuracy;
  result.final_output_sqnr_db = all.output_sqnr_db;
}

void Gate::Search(GateResult& result) {
  const int64_t candidates = static_cast<int64_t>(result.sensitivity.size());
  // Keeping every candidate float leaves nothing quantized: that is the failure case.
  for (int64_t k = 1; k < candidates; ++k) {
    QuantizeOptions o = base_;
    std::vector<std::string> kept;
    for (int64_t i = 0; i < k; ++i) {
      o.float_nodes.insert(result.sensitivity[i].node);
      kept.push_back(result.sensitivity[i].node);
    }
    QuantizeReport report;
    const ir::Graph q = Quantize(o, &report);
    GateStep step;
    step.float_layers = static_cast<int>(k);
    const Score sub = Evaluate(q, n_subset_, "search", /*per_sample=*/false);
    step.subset_score = Metric(sub);
    Progress("search", k, candidates - 1);
    if (!Fits(sub, float_subset_accuracy_)) {
      result.steps.push_back(step);
      continue;
    }
    const Score all = n_subset_ == n_all_ ? sub : Evaluate(q, n_all_, "final", true);
    step.checked_on_all = true;
    step.all_score = Metric(all);
    result.steps.push_back(step);
    Finish(result, q, report, all);
    if (Fits(all, result.float_accuracy)) {
      result.kept_float = kept;
      result.passed = true;
      return;
    }
  }
  result.passed = false;
  result.kept_float.clear();
  const std::string what = labelled_
                               ? "int8 drops " + Fixed(result.int8_drop(), 2) + " points (max " +
                                     Fixed(opt_.max_drop, 2) + ")"
                               : "int8 output SQNR is " + Fixed(result.int8_output_sqnr_db, 1) +
                                     " dB (min " + Fixed(opt_.min_output_sqnr_db, 1) + ")";
  const std::string tried =
      candidates > 1 ? "keeping up to " + std::to_string(candidates - 1) + " of its " +
                           std::to_string(candidates) + " quantized layers in float did not fit"
                     : "its only quantized layer, '" + result.sensitivity[0].node +
                           "', cannot be kept float without leaving nothing quantized";
  result.failure =
      "the gate cannot be met: " + what + "; " + tried + "; only an all-float model would meet it";
}

Expected<GateResult> Gate::Run(const ir::Graph& reference) {
  return Capture([&]() -> GateResult {
    if (data_.samples.empty()) throw Error("accuracy gate: the validation set is empty");
    if (!(opt_.max_drop >= 0)) throw Error("accuracy gate: the maximum drop must be >= 0");
    if (!data_.labels.empty() && data_.labels.size() != data_.samples.size())
      throw Error("accuracy gate: " + std::to_string(data_.labels.size()) + " labels for " +
                  std::to_string(data_.samples.size()) + " samples");
    if (reference.outputs.empty()) throw Error("accuracy gate: the model has no output");
    GateResult result;
    n_all_ = static_cast<int64_t>(data_.samples.size());
    n_subset_ = opt_.sensitivity_samples > 0 ? std::min(opt_.sensitivity_samples, n_all_) : n_all_;
    result.eval_samples = n_all_;
    result.sensitivity_samples = n_subset_;
    const int64_t scores = reference.tensors[reference.outputs[0]].num_elements();
    labelled_ = !data_.labels.empty() && scores >= 2;
    result.labelled = labelled_;
    char text[160];
    if (labelled_) {
      std::snprintf(text, sizeof(text), "top-1 accuracy drop <= %.2f points", opt_.max_drop);
    } else {
      std::snprintf(text, sizeof(text), "output SQNR >= %.1f dB", opt_.min_output_sqnr_db);
      result.notes.push_back(data_.labels.empty()
                                 ? "the validation data has no labels: accuracy cannot be "
                                   "measured, so the gate compares outputs with the float "
                                   "model (SQNR) instead"
                                 : "the model's output is not a score vector: the gate compares "
                                   "outputs with the float model (SQNR) instead of accuracy");
    }
    result.criterion = text;

    // The float reference, once, on every sample.
    {
      Expected<std::unique_ptr<GraphExecutor>> x = GraphExecutor::Create(reference);
      if (!x) throw Error("float model: " + x.message());
      std::vector<int> predictions(n_all_);
      for (int64_t i = 0; i < n_all_; ++i) {
        Expected<Unit> r = (*x)->Run(data_.samples[i]);
        if (!r) throw Error("float model: sample " + std::to_string(i) + ": " + r.message());
        ref_.outputs.push_back((*x)->Output(0));
        predictions[i] = io::ArgMax(ref_.outputs.back());
        Progress("float", i + 1, n_all_);
      }
      if (labelled_) {
        result.float_accuracy = Accuracy(predictions, data_.labels, n_all_);
        float_subset_accuracy_ = Accuracy(predictions, data_.labels, n_subset_);
        result.float_subset_accuracy = float_subset_accuracy_;
      }
    }
    result.float_weight_bytes = ConstantBytes(reference);

    QuantizeReport base_report;
    const ir::Graph q = Quantize(base_, &base_report);
    const Score int8 = Evaluate(q, n_all_, "int8", /*per_sample=*/true);
    result.int8_accuracy = int8.accuracy;
    result.int8_output_sqnr_db = int8.output_sqnr_db;
    Finish(result, q, base_report, int8);
    {
      Expected<LayerSqnrReport> layers = MeasureLayerSqnr(
          float_graph_, q, data_, opt_.sqnr_samples,
          [&](int64_t done, int64_t total) { Progress("layer sqnr", done, total); });
      if (!layers) throw layers.error();
      result.layer_sqnr = std::move(layers).value();
    }
    if (Fits(int8, result.float_accuracy)) {
      result.passed = true;
      return result;
    }

    const std::vector<std::string> candidates = Candidates(q, base_report);
    if (candidates.empty()) {
      result.failure = "the gate cannot be met and no layer is quantized that could be kept float";
      return result;
    }
    RankSensitivity(result, candidates);
    if (result.sensitivity.empty()) {
      result.failure = "the gate cannot be met and no layer can be quantized on its own";
      return result;
    }
    if (n_subset_ < n_all_)
      result.notes.push_back("sensitivity and the search screened on the first " +
                             std::to_string(n_subset_) + " samples; final figures use all " +
                             std::to_string(n_all_));
    Search(result);
    return result;
  });
}

std::string Fixed(double v, int digits) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char b[64];
  std::snprintf(b, sizeof(b), "%.*f", digits, v);
  return b;
}

std::string Size(uint64_t bytes) {
  char b[64];
  if (bytes >= (1u << 20))
    std::snprintf(b, sizeof(b), "%.2f MiB", bytes / 1048576.0);
  else
    std::snprintf(b, sizeof(b), "%.1f KiB", bytes / 1024.0);
  return std::string(b) + " (" + std::to_string(bytes) + " B)";
}

// Left-aligned text padded to `width`.
std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}
std::string PadLeft(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

}  // namespace

Expected<GateResult> RunAccuracyGate(const ir::Graph& float_graph, const CalibrationResult& stats,
                                     const QuantizeOptions& base, const Dataset& validation,
                                     const GateOptions& options, const ir::Graph* reference) {
  Gate gate(float_graph, stats, base, validation, options);
  return gate.Run(reference ? *reference : float_graph);
}

void PrintGateReport(const GateResult& r, std::ostream& out) {
  out << "accuracy gate: " << r.criterion << ", " << r.eval_samples << " validation samples\n";
  for (const std::string& n : r.notes) out << "  note: " << n << "\n";
  if (r.labelled) {
    out << "  float accuracy:         " << Fixed(r.float_accuracy, 2) << "%\n";
    out << "  int8 accuracy:          " << Fixed(r.int8_accuracy, 2) << "% (drop "
        << Fixed(r.int8_drop(), 2) << " points, output SQNR " << Fixed(r.int8_output_sqnr_db, 1)
        << " dB)\n";
  } else {
    out << "  int8 output SQNR:       " << Fixed(r.int8_output_sqnr_db, 1) << " dB\n";
  }

  if (!r.layer_sqnr.tensors.empty()) {
    out << "per-layer SQNR of the int8 model vs float (" << r.layer_sqnr.samples << " samples):\n";
    size_t w = 6;
    for (const TensorSqnr& t : r.layer_sqnr.tensors) w = std::max(w, t.node.size() + 2);
    out << "  " << Pad("layer", w) << Pad("op", 22) << Pad("dtype", 9) << PadLeft("SQNR dB", 9)
        << "\n";
    for (const TensorSqnr& t : r.layer_sqnr.tensors)
      out << "  " << Pad(t.node, w) << Pad(t.op, 22) << Pad(t.dtype, 9)
          << PadLeft(Fixed(t.sqnr_db, 1), 9) << "\n";
  }

  if (!r.sensitivity.empty()) {
    out << "sensitivity, most sensitive first (only that layer in int8, first "
        << r.sensitivity_samples << " samples";
    if (r.labelled) out << ", where float scores " << Fixed(r.float_subset_accuracy, 2) << "%";
    out << "):\n";
    size_t w = 6;
    for (const LayerSensitivity& s : r.sensitivity) w = std::max(w, s.node.size() + 2);
    out << "  " << Pad("layer", w) << Pad("op", 22);
    if (r.labelled) out << PadLeft("accuracy", 10);
    out << PadLeft("output SQNR dB", 16) << "\n";
    for (const LayerSensitivity& s : r.sensitivity) {
      out << "  " << Pad(s.node, w) << Pad(s.op, 22);
      if (r.labelled) out << PadLeft(Fixed(s.accuracy, 2) + "%", 10);
      out << PadLeft(Fixed(s.output_sqnr_db, 1), 16) << "\n";
    }
    out << "search (most sensitive layers kept float):\n";
    const char* unit = r.labelled ? "%" : " dB";
    for (const GateStep& s : r.steps) {
      out << "  " << s.float_layers << " float: " << Fixed(s.subset_score, 2) << unit
          << " on the subset";
      if (s.checked_on_all) out << ", " << Fixed(s.all_score, 2) << unit << " on all samples";
      out << "\n";
    }
  }

  out << "kept float by the gate: ";
  if (r.kept_float.empty()) out << "none";
  for (size_t i = 0; i < r.kept_float.size(); ++i) out << (i ? ", " : "") << r.kept_float[i];
  out << "\n";
  out << "weights: " << Size(r.weight_bytes) << " (float: " << Size(r.float_weight_bytes) << ")\n";
  if (r.passed) {
    if (r.labelled)
      out << "final accuracy: " << Fixed(r.final_accuracy, 2) << "% (drop "
          << Fixed(r.final_drop(), 2) << " points), output SQNR "
          << Fixed(r.final_output_sqnr_db, 1) << " dB\n";
    else
      out << "final output SQNR: " << Fixed(r.final_output_sqnr_db, 1) << " dB\n";
    out << "gate: PASS\n";
  } else {
    out << "gate: FAIL: " << r.failure << "\n";
  }
}

}  // namespace outpost::quant
