// Drift of a running model: a window of live inputs and outputs compared with the reference
// the model carries (io/model_reference.h), as PSI per histogram (agent/drift/psi.h) and as the
// shift of each input channel's mean in reference standard deviations.
//
// A model without a valid reference gives no monitor (ForModel returns the reason): the agent
// then reports no drift figure rather than a made-up one.
//
//   auto drift = agent::DriftMonitor::ForModel(model);        // Error: no reference
//   per frame, after the active model ran on `input`:  drift->Observe(input, session);
//   per report:  agent::DriftReport r = drift->Report();  drift->StartWindow();
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/drift/psi.h"
#include "common/expected.h"
#include "io/model_file.h"
#include "io/model_reference.h"
#include "io/session.h"

namespace outpost::agent {

struct DriftFigure {
  std::string what;  // "output 'y' classes", "output 'y' top-1 score", "output 'y' values",
                     // "input 'x' values"
  bool output = false;
  double psi = 0;
  PsiLevel level = PsiLevel::kStable;
};

struct ChannelShift {
  std::string input;
  int channel = 0;
  double reference_mean = 0, reference_std = 0;
  double mean = 0, std = 0;
  double shift = 0;  // (mean - reference_mean) / reference_std (0 when the reference std is 0)
};

struct DriftReport {
  uint64_t samples = 0;              // in the window; no figures when 0
  std::vector<DriftFigure> figures;  // outputs first, then inputs
  std::vector<ChannelShift> channels;
  // The largest output PSI (the `drift_psi` of a telemetry record) and the largest input PSI;
  // empty when the window has no samples.
  std::optional<double> output_psi;
  std::optional<double> input_psi;
};

class DriftMonitor {
 public:
  // The reference stored in `model`; an Error naming why there is none usable.
  static Expected<DriftMonitor> ForModel(const io::LoadedModel& model);
  explicit DriftMonitor(io::ModelReference reference);

  // One frame: the float values fed to each input and the model's outputs.
  Expected<Unit> Observe(std::span<const std::span<const float>> inputs,
                         std::span<const std::span<const float>> outputs);
  // One frame of a single-input model: `input` as fed, the outputs read from `session` after
  // its Run (converted to float into buffers this monitor reuses).
  Expected<Unit> Observe(std::span<const float> input, io::Session& session);

  // The window so far against the reference.
  DriftReport Report() const;
  // Starts a new window (the reference stays).
  void StartWindow() { window_.Reset(); }

  const io::ModelReference& reference() const { return reference_; }

 private:
  io::ModelReference reference_;
  io::ReferenceAccumulator window_;
  // Reused by Observe(input, session): after the first frame it allocates nothing.
  std::vector<std::vector<float>> outputs_;
  std::vector<std::span<const float>> views_;
};

}  // namespace outpost::agent
