// Drift against the model's reference (agent/drift/drift_monitor.h).
#include "agent/drift/drift_monitor.h"

#include <algorithm>
#include <utility>

namespace outpost::agent {
namespace {

void AddFigure(DriftReport& r, std::string what, bool output,
               const std::vector<uint64_t>& expected, const std::vector<uint64_t>& actual) {
  Expected<double> psi = Psi(expected, actual);
  if (!psi) return;  // an empty histogram (no finite values yet) has no figure
  r.figures.push_back({std::move(what), output, *psi, ReadPsi(*psi)});
  std::optional<double>& worst = output ? r.output_psi : r.input_psi;
  worst = std::max(worst.value_or(0.0), *psi);
}

}  // namespace

Expected<DriftMonitor> DriftMonitor::ForModel(const io::LoadedModel& model) {
  Expected<io::ModelReference> ref = io::ReadModelReference(model);
  if (!ref) return ref.error();
  const opm::Model& fb = model.fb();
  const size_t inputs = fb.inputs() ? fb.inputs()->size() : 0;
  const size_t outputs = fb.outputs() ? fb.outputs()->size() : 0;
  if (ref->inputs.size() != inputs || ref->outputs.size() != outputs)
    return Error(model.path() + ": the drift reference describes " +
                 std::to_string(ref->inputs.size()) + " inputs and " +
                 std::to_string(ref->outputs.size()) + " outputs, the model has " +
                 std::to_string(inputs) + " and " + std::to_string(outputs));
  return DriftMonitor(std::move(*ref));
}

DriftMonitor::DriftMonitor(io::ModelReference reference)
    : reference_(std::move(reference)), window_(reference_) {}

Expected<Unit> DriftMonitor::Observe(std::span<const std::span<const float>> inputs,
                                     std::span<const std::span<const float>> outputs) {
  return window_.Add(inputs, outputs);
}

Expected<Unit> DriftMonitor::Observe(std::span<const float> input, io::Session& session) {
  if (session.num_inputs() != 1)
    return Error("drift: Observe(input, session) is for single-input models");
  outputs_.resize(static_cast<size_t>(session.num_outputs()));
  views_.resize(outputs_.size());
  for (size_t o = 0; o < outputs_.size(); ++o) {
    session.OutputAsFloat(static_cast<int>(o), outputs_[o]);
    views_[o] = outputs_[o];
  }
  const std::span<const float> in[1] = {input};
  return window_.Add(in, views_);
}

DriftReport DriftMonitor::Report() const {
  DriftReport r;
  r.samples = window_.samples();
  if (r.samples == 0) return r;
  const io::ModelReference live = window_.Result();
  for (size_t o = 0; o < live.outputs.size(); ++o) {
    const io::OutputReference& want = reference_.outputs[o];
    const io::OutputReference& got = live.outputs[o];
    const std::string name = "output '" + want.name + "' ";
    if (want.classes) {
      AddFigure(r, name + "classes", true, want.class_counts, got.class_counts);
      AddFigure(r, name + "top-1 score", true, want.values.counts, got.values.counts);
    } else {
      AddFigure(r, name + "values", true, want.values.counts, got.values.counts);
    }
  }
  for (size_t i = 0; i < live.inputs.size(); ++i) {
    const io::InputReference& want = reference_.inputs[i];
    const io::InputReference& got = live.inputs[i];
    AddFigure(r, "input '" + want.name + "' values", false, want.values.counts,
              got.values.counts);
    for (size_t c = 0; c < want.mean.size(); ++c) {
      ChannelShift s;
      s.input = want.name;
      s.channel = static_cast<int>(c);
      s.reference_mean = want.mean[c];
      s.reference_std = want.std[c];
      s.mean = got.mean[c];
      s.std = got.std[c];
      s.shift = want.std[c] > 0 ? (got.mean[c] - want.mean[c]) / want.std[c] : 0.0;
      r.channels.push_back(s);
    }
  }
  return r;
}

}  // namespace outpost::agent
