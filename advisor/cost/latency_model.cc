// Prediction and the host fit of the per-op latency model (docs/advisor.md).
#include "advisor/cost/latency_model.h"

#include <algorithm>
#include <cstring>

#include "io/session.h"

namespace outpost::advisor {
namespace {

// Quantile of the MAC-free ops' bandwidths taken as the roofline's ceiling (docs/advisor.md:
// on the zoo the fit hardly moves between 0.5 and 1.0; the mean of bytes over time does).
constexpr double kBandwidthQuantile = 0.9;

double MedianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double QuantileOf(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

std::string PrecisionList(const EngineCostModel& m) {
  std::string out;
  for (Precision p : {Precision::kInt8, Precision::kInt16, Precision::kFp16, Precision::kFp32})
    if (m.HasPrecision(p)) out += (out.empty() ? "" : ", ") + std::string(PrecisionName(p));
  return out.empty() ? "none" : out;
}

}  // namespace

bool EngineCostModel::HasPrecision(Precision p) const {
  for (int c = 0; c < kNumOpClasses; ++c)
    if (macs_per_s[c][static_cast<int>(p)]) return true;
  return false;
}

Expected<LatencyPrediction> PredictLatency(const EngineCostModel& model, const std::vector<OpFeatures>& ops) {
  LatencyPrediction out;
  out.op_seconds.reserve(ops.size());
  for (const OpFeatures& op : ops) {
    double compute = 0;
    if (op.macs > 0) {
      std::optional<double> rate = model.rate(op.op_class, op.precision);
      if (!rate) rate = model.rate(OpClass::kConv, op.precision);
      if (!rate) {
        for (int c = 0; c < kNumOpClasses && !rate; ++c) rate = model.macs_per_s[c][static_cast<int>(op.precision)];
      }
      if (!rate)
        return Error("target '" + model.target + "' (" + model.engine + ") has no " +
                     std::string(PrecisionName(op.precision)) + " rate (it has: " + PrecisionList(model) +
                     "); op " + std::to_string(op.index) + " (" + op.op + ") cannot be predicted");
      compute = static_cast<double>(op.macs) / *rate;
    }
    const double memory = model.bytes_per_s > 0 ? static_cast<double>(op.bytes_moved()) / model.bytes_per_s : 0;
    const double t = std::max(compute, memory) + model.op_overhead_s;
    out.op_seconds.push_back(t);
    out.seconds += t;
  }
  return out;
}

Expected<ProfiledModel> ProfileOnHost(const io::LoadedModel& model, const std::string& name, int runs) {
  if (runs < 1) return Error("profile: runs must be at least 1");
  io::SessionOptions options;
  options.threads = 1;
  options.profile = true;
  Expected<std::unique_ptr<io::Session>> session = io::Session::Create(model, options);
  if (!session) return session.error();
  io::Session& s = **session;
  for (int i = 0; i < s.num_inputs(); ++i) std::memset(s.input(i).data, 0, s.input(i).bytes);
  if (s.has_self_test()) {
    // Runs the golden input once: a model whose self-test fails is not worth timing.
    if (Expected<Unit> st = s.RunSelfTest(); !st) return st.error();
  }
  ProfiledModel out;
  out.name = name;
  out.ops = ExtractOpFeatures(model.model());
  std::vector<std::vector<double>> times(out.ops.size());
  std::vector<double> totals;
  for (int r = 0; r <= runs; ++r) {
    if (Expected<Unit> ran = s.Run(); !ran) return ran.error();
    if (r == 0) continue;  // warm-up: caches, lazily packed weights
    const std::vector<io::OpProfile>& prof = s.op_profiles();
    if (prof.size() != out.ops.size()) return Error("profile of '" + name + "' does not cover every op");
    double total = 0;
    for (size_t i = 0; i < prof.size(); ++i) {
      times[i].push_back(static_cast<double>(prof[i].nanos) * 1e-9);
      total += static_cast<double>(prof[i].nanos) * 1e-9;
    }
    totals.push_back(total);
  }
  for (auto& t : times) out.op_seconds.push_back(MedianOf(t));
  out.total_seconds = MedianOf(totals);
  return out;
}

Expected<EngineCostModel> FitFromProfiles(const std::string& target, const std::string& engine,
                                          const std::vector<ProfiledModel>& profiles) {
  EngineCostModel m;
  m.target = target;
  m.engine = engine;
  std::vector<double> free_times;
  for (const ProfiledModel& p : profiles) {
    if (p.op_seconds.size() != p.ops.size()) return Error("profile of '" + p.name + "' does not match its ops");
    for (size_t i = 0; i < p.ops.size(); ++i)
      if (p.ops[i].macs == 0) free_times.push_back(p.op_seconds[i]);
  }
  if (free_times.empty()) return Error("cannot fit '" + target + "': no MAC-free ops to fit the overhead and bandwidth");
  m.op_overhead_s = QuantileOf(free_times, 0.10);
  // The roofline's bandwidth is a ceiling: the rate the faster MAC-free ops reach (a high
  // quantile of their bytes per second), not their average, which slow ops with little data
  // drag down and which would then make every weight-heavy MAC op look memory-bound.
  std::vector<double> bandwidths;
  for (const ProfiledModel& p : profiles)
    for (size_t i = 0; i < p.ops.size(); ++i)
      if (p.ops[i].macs == 0 && p.op_seconds[i] > m.op_overhead_s)
        bandwidths.push_back(static_cast<double>(p.ops[i].bytes_moved()) / (p.op_seconds[i] - m.op_overhead_s));
  if (bandwidths.empty()) return Error("cannot fit '" + target + "': no MAC-free op took longer than the overhead");
  m.bytes_per_s = QuantileOf(bandwidths, kBandwidthQuantile);

  double macs[kNumOpClasses][kNumPrecisions] = {};
  double secs[kNumOpClasses][kNumPrecisions] = {};
  for (const ProfiledModel& p : profiles)
    for (size_t i = 0; i < p.ops.size(); ++i) {
      const OpFeatures& op = p.ops[i];
      if (op.macs == 0) continue;
      const int c = static_cast<int>(op.op_class), q = static_cast<int>(op.precision);
      macs[c][q] += static_cast<double>(op.macs);
      secs[c][q] += std::max(p.op_seconds[i] - m.op_overhead_s, 1e-9);
    }
  bool any = false;
  for (int c = 0; c < kNumOpClasses; ++c)
    for (int q = 0; q < kNumPrecisions; ++q)
      if (macs[c][q] > 0) m.macs_per_s[c][q] = macs[c][q] / secs[c][q], any = true;
  if (!any) return Error("cannot fit '" + target + "': no op with MACs was profiled");
  return m;
}

}  // namespace outpost::advisor
