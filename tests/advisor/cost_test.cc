// The per-op features and the latency cost model on the committed zoo models: features agree
// with `outpost inspect`'s counts, a model fitted to per-op times measured on this host
// predicts each zoo model's measured latency within a stated factor, and the model behaves as
// a cost model must (more MACs cost more, a faster precision is faster, an unfitted precision
// is an error rather than a guess).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "advisor/cost/latency_model.h"
#include "advisor/cost/op_features.h"
#include "compiler/compile.h"
#include "compiler/emit/opm_writer.h"
#include "compiler/quantize/finalize.h"
#include "compiler/quantize/quantizer.h"
#include "io/npy.h"
#include "io/op_info.h"

namespace outpost::advisor {
namespace {

namespace fs = std::filesystem;

// The committed zoo (models/zoo) compiled in float32, and quantized to int8 where the
// quantizer takes the model ("<name>/int8"), once for the whole program. The int8 models are
// calibrated on the zoo's one golden input: their accuracy is irrelevant here, their kernels
// are what is timed.
const std::map<std::string, io::LoadedModel>& Zoo() {
  static const std::map<std::string, io::LoadedModel> zoo = [] {
    std::map<std::string, io::LoadedModel> out;
    const fs::path base = fs::path(OUTPOST_SOURCE_DIR) / "models/zoo";
    for (const auto& e : fs::directory_iterator(base)) {
      if (!fs::exists(e.path() / "model.onnx")) continue;
      const std::string name = e.path().filename().string();
      Expected<ir::Graph> graph = compiler::CompileOnnx((e.path() / "model.onnx").string(), {});
      if (!graph) throw std::runtime_error(name + ": " + graph.message());
      Expected<io::LoadedModel> m = io::LoadedModel::FromBytes(name, emit::EmitOpm(*graph));
      if (!m) throw std::runtime_error(m.message());
      out.emplace(name, std::move(*m));

      io::NpyReadOptions f32;
      f32.float64_to_float32 = true;
      Expected<io::HostTensor> x = io::ReadNpy((e.path() / "input.npy").string(), f32);
      if (!x) throw std::runtime_error(name + ": " + x.message());
      quant::Dataset calib;
      calib.sample_shape = x->shape;
      calib.sample_shape[0] = 1;
      const std::span<const float> values = x->values<float>();
      const size_t n = values.size() / static_cast<size_t>(x->shape[0]);
      calib.samples.emplace_back(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n));
      ir::Graph g = *graph;
      g.plan.reset();
      g.self_test.reset();
      Expected<quant::CalibrationResult> stats = quant::Calibrate(g, calib);
      if (!stats) continue;
      Expected<ir::Graph> q = quant::QuantizeGraph(g, *stats, quant::QuantizeOptions{});
      if (!q || !quant::PlanAndSelfTest(*q, &calib.samples[0])) continue;
      Expected<io::LoadedModel> qm = io::LoadedModel::FromBytes(name + "/int8", emit::EmitOpm(*q));
      if (qm) out.emplace(name + "/int8", std::move(*qm));
    }
    return out;
  }();
  return zoo;
}

bool IsInt8(const std::string& name) { return name.size() > 5 && name.substr(name.size() - 5) == "/int8"; }
std::string BaseName(const std::string& name) { return IsInt8(name) ? name.substr(0, name.size() - 5) : name; }

// Per-op medians of every zoo model, as recorded on this host in kProfileFile. The fit-quality
// tests below judge the cost model, not the machine: read from a recorded profile they give
// the same verdict on a loaded CI machine and under AddressSanitizer as on a quiet one. The
// features come from the models as compiled now; a recording whose op count no longer matches
// a model is refused with the command that records it again:
//   OUTPOST_ADVISOR_RECORD_PROFILE=1 build/release/tests/advisor/advisor_cost_tests
// which profiles the zoo (kRuns runs after a warm-up, one thread) and rewrites the file.
constexpr int kRuns = 15;
const char* const kProfileFile = OUTPOST_SOURCE_DIR "/tests/advisor/data/zoo_host_profile.json";

std::vector<ProfiledModel> MeasureProfiles() {
  std::vector<ProfiledModel> out;
  for (const auto& [name, model] : Zoo()) {
    Expected<ProfiledModel> p = ProfileOnHost(model, name, kRuns);
    if (!p) throw std::runtime_error(name + ": " + p.message());
    out.push_back(std::move(*p));
  }
  return out;
}

void WriteProfiles(const std::vector<ProfiledModel>& profiles) {
  nlohmann::json j;
  j["runs"] = kRuns;
  j["threads"] = 1;
  j["recorded_with"] = "OUTPOST_ADVISOR_RECORD_PROFILE=1 build/release/tests/advisor/advisor_cost_tests";
  for (const ProfiledModel& p : profiles)
    j["models"][p.name] = {{"total_seconds", p.total_seconds}, {"op_seconds", p.op_seconds}};
  std::ofstream(kProfileFile) << j.dump(1) << "\n";
}

const std::vector<ProfiledModel>& Profiles() {
  static const std::vector<ProfiledModel> profiles = [] {
    if (std::getenv("OUTPOST_ADVISOR_RECORD_PROFILE")) WriteProfiles(MeasureProfiles());
    std::ifstream in(kProfileFile);
    if (!in) throw std::runtime_error(std::string("cannot read ") + kProfileFile);
    const nlohmann::json j = nlohmann::json::parse(in);
    std::vector<ProfiledModel> out;
    for (const auto& [name, model] : Zoo()) {
      if (!j["models"].contains(name)) throw std::runtime_error(name + " is not in the recorded profile; record it again");
      ProfiledModel p;
      p.name = name;
      p.ops = ExtractOpFeatures(model.model());
      p.op_seconds = j["models"][name]["op_seconds"].get<std::vector<double>>();
      p.total_seconds = j["models"][name]["total_seconds"].get<double>();
      if (p.op_seconds.size() != p.ops.size())
        throw std::runtime_error(name + ": the recorded profile has " + std::to_string(p.op_seconds.size()) +
                                 " ops, the model " + std::to_string(p.ops.size()) + "; record it again");
      out.push_back(std::move(p));
    }
    return out;
  }();
  return profiles;
}

std::vector<ProfiledModel> Float32Profiles() {
  std::vector<ProfiledModel> out;
  for (const ProfiledModel& p : Profiles())
    if (!IsInt8(p.name)) out.push_back(p);
  return out;
}

TEST(AdvisorFeatures, AgreeWithInspectTotals) {
  ASSERT_GE(Zoo().size(), 8u);  // five float32 models, and int8 for most of them
  for (const auto& [name, model] : Zoo()) {
    const std::vector<OpFeatures> ops = ExtractOpFeatures(model.model());
    const io::ModelTotals totals = io::ComputeTotals(model.model());
    ASSERT_EQ(static_cast<int>(ops.size()), totals.ops) << name;
    uint64_t macs = 0, weights = 0;
    for (const OpFeatures& op : ops) {
      macs += op.macs;
      weights += op.weight_bytes;
      EXPECT_GT(op.output_bytes, 0u) << name << " op " << op.index;
      if (!IsInt8(name)) {
        EXPECT_EQ(op.precision, Precision::kFp32) << name << " op " << op.index;
      }
      // Only the MAC classes carry MACs.
      if (op.op_class == OpClass::kElementwise || op.op_class == OpClass::kOther) {
        EXPECT_EQ(op.macs, 0u) << name << " " << op.op;
      }
    }
    EXPECT_EQ(macs, totals.macs) << name;
    EXPECT_GE(weights, totals.weight_bytes) << name;  // a constant read by two ops counts twice
  }
}

TEST(AdvisorFeatures, DepthwiseIsItsOwnClass) {
  // The keyword spotter is a depthwise-separable CNN; the Fashion-MNIST CNN has none.
  auto count = [](const std::string& name, OpClass c) {
    const std::vector<OpFeatures> ops = ExtractOpFeatures(Zoo().at(name).model());
    return std::count_if(ops.begin(), ops.end(), [&](const OpFeatures& f) { return f.op_class == c; });
  };
  EXPECT_GT(count("kws_dscnn", OpClass::kDepthwise), 0);
  EXPECT_GT(count("kws_dscnn", OpClass::kConv), 0);
  EXPECT_EQ(count("fashion_cnn", OpClass::kDepthwise), 0);
  EXPECT_GT(count("fashion_cnn", OpClass::kFullyConnected), 0);
  EXPECT_GT(count("fashion_mobilenet", OpClass::kDepthwise), 0);
}

// The bound is about the model (a roofline with one rate per op class): the times are the
// recorded medians of kRuns.
constexpr double kHostFactor = 2.0;

TEST(AdvisorHostCostModel, PredictsEachZooModelWithinAFactor) {
  Expected<EngineCostModel> fit = FitFromProfiles("host", "cpu", Profiles());
  ASSERT_TRUE(fit.ok()) << fit.message();
  ASSERT_TRUE(fit->rate(OpClass::kConv, Precision::kInt8).has_value());
  EXPECT_GT(fit->op_overhead_s, 0);
  EXPECT_GT(fit->bytes_per_s, 0);
  ASSERT_TRUE(fit->rate(OpClass::kConv, Precision::kFp32).has_value());
  for (const ProfiledModel& p : Profiles()) {
    Expected<LatencyPrediction> pred = PredictLatency(*fit, p.ops);
    ASSERT_TRUE(pred.ok()) << pred.message();
    const double ratio = pred->seconds / p.total_seconds;
    std::printf("  %-24s measured %9.1f us  predicted %9.1f us  ratio %.2f\n", p.name.c_str(),
                p.total_seconds * 1e6, pred->seconds * 1e6, ratio);
    EXPECT_LT(ratio, kHostFactor) << p.name;
    EXPECT_GT(ratio, 1.0 / kHostFactor) << p.name;
  }
}

// Leave one network out: fitted on the other zoo networks, each model is still predicted within a
// wider factor (its op mix may not be in the fit at all).
constexpr double kLeaveOneOutFactor = 3.0;

TEST(AdvisorHostCostModel, LeaveOneModelOut) {
  const std::vector<ProfiledModel>& all = Profiles();
  for (size_t k = 0; k < all.size(); ++k) {
    // Out goes the network in both precisions: its int8 twin would otherwise carry its shape.
    std::vector<ProfiledModel> rest;
    for (size_t i = 0; i < all.size(); ++i)
      if (BaseName(all[i].name) != BaseName(all[k].name)) rest.push_back(all[i]);
    Expected<EngineCostModel> fit = FitFromProfiles("host", "cpu", rest);
    ASSERT_TRUE(fit.ok()) << fit.message();
    Expected<LatencyPrediction> pred = PredictLatency(*fit, all[k].ops);
    ASSERT_TRUE(pred.ok()) << pred.message();
    const double ratio = pred->seconds / all[k].total_seconds;
    std::printf("  %-24s leave-one-out ratio %.2f\n", all[k].name.c_str(), ratio);
    EXPECT_LT(ratio, kLeaveOneOutFactor) << all[k].name;
    EXPECT_GT(ratio, 1.0 / kLeaveOneOutFactor) << all[k].name;
  }
}

TEST(AdvisorHostCostModel, MonotonicInMacs) {
  Expected<EngineCostModel> fit = FitFromProfiles("host", "cpu", Profiles());
  ASSERT_TRUE(fit.ok()) << fit.message();
  for (const ProfiledModel& p : Profiles()) {
    std::vector<OpFeatures> more = p.ops;
    double before = PredictLatency(*fit, more)->seconds;
    for (OpFeatures& op : more) {
      if (op.macs == 0) continue;
      op.macs *= 2;
      const double after = PredictLatency(*fit, more)->seconds;
      EXPECT_GE(after, before) << p.name << " op " << op.index;
      before = after;
    }
  }
  // Across the zoo: the model with the most MACs is predicted slower than the one with the fewest.
  auto macs = [](const ProfiledModel& p) {
    uint64_t m = 0;
    for (const OpFeatures& op : p.ops) m += op.macs;
    return m;
  };
  const auto [lo, hi] = std::minmax_element(Profiles().begin(), Profiles().end(),
                                            [&](const auto& a, const auto& b) { return macs(a) < macs(b); });
  EXPECT_LT(PredictLatency(*fit, lo->ops)->seconds, PredictLatency(*fit, hi->ops)->seconds);
}

// The profiler itself, live on this machine: one median per op, every one positive, and a
// total that is the sum the fit assumes. No bound on the times: they belong to the machine.
TEST(AdvisorHostCostModel, ProfilerTimesEveryOp) {
  const io::LoadedModel& model = Zoo().at("kws_dscnn");
  Expected<ProfiledModel> p = ProfileOnHost(model, "kws_dscnn", 3);
  ASSERT_TRUE(p.ok()) << p.message();
  ASSERT_EQ(p->op_seconds.size(), p->ops.size());
  ASSERT_EQ(p->ops.size(), ExtractOpFeatures(model.model()).size());
  for (double s : p->op_seconds) EXPECT_GE(s, 0);
  EXPECT_GT(p->total_seconds, 0);
}

TEST(AdvisorHostCostModel, MissingPrecisionIsAnError) {
  Expected<EngineCostModel> fit = FitFromProfiles("host", "cpu", Float32Profiles());
  ASSERT_TRUE(fit.ok()) << fit.message();
  // Fitted on float32 models only: int8 is unknown, and saying so beats guessing.
  const ProfiledModel* int8 = nullptr;
  for (const ProfiledModel& p : Profiles())
    if (IsInt8(p.name)) int8 = &p;
  ASSERT_NE(int8, nullptr);
  Expected<LatencyPrediction> none = PredictLatency(*fit, int8->ops);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("target 'host' (cpu) has no int8 rate (it has: fp32)"), std::string::npos)
      << none.message();
}

TEST(AdvisorHostCostModel, Int8IsFasterWhereItsRateIsHigher) {
  Expected<EngineCostModel> fit = FitFromProfiles("host", "cpu", Profiles());
  ASSERT_TRUE(fit.ok()) << fit.message();
  for (int c = 0; c < kNumOpClasses; ++c) {
    const auto& f = fit->macs_per_s[c][static_cast<int>(Precision::kFp32)];
    const auto& q = fit->macs_per_s[c][static_cast<int>(Precision::kInt8)];
    char fp32_rate[32] = "-", int8_rate[32] = "-";
    if (f) std::snprintf(fp32_rate, sizeof(fp32_rate), "%.2f", *f / 1e9);
    if (q) std::snprintf(int8_rate, sizeof(int8_rate), "%.2f", *q / 1e9);
    std::printf("  %-16s fp32 %8s GMAC/s   int8 %8s GMAC/s\n", std::string(OpClassName(static_cast<OpClass>(c))).c_str(),
                fp32_rate, int8_rate);
  }
  std::printf("  overhead %.2f us/op, bandwidth %.2f GB/s\n", fit->op_overhead_s * 1e6, fit->bytes_per_s / 1e9);
  int compared = 0;
  for (const ProfiledModel& p : Profiles()) {
    if (IsInt8(p.name)) continue;
    const auto q = std::find_if(Profiles().begin(), Profiles().end(),
                                [&](const ProfiledModel& o) { return o.name == p.name + "/int8"; });
    if (q == Profiles().end()) continue;
    // Where every MAC class the model uses runs faster in int8 on this host, the int8 model
    // must be predicted faster.
    bool int8_faster = true;
    for (const OpFeatures& op : p.ops) {
      if (op.macs == 0) continue;
      const auto& f = fit->rate(op.op_class, Precision::kFp32);
      const auto& i = fit->rate(op.op_class, Precision::kInt8);
      if (!f || !i || *i <= *f) int8_faster = false;
    }
    if (!int8_faster) continue;
    ++compared;
    EXPECT_LT(PredictLatency(*fit, q->ops)->seconds, PredictLatency(*fit, p.ops)->seconds) << p.name;
  }
  EXPECT_GE(compared, 1);
}

TEST(AdvisorHostCostModel, NothingToFitIsAnError) {
  Expected<EngineCostModel> fit = FitFromProfiles("host", "cpu", {});
  ASSERT_FALSE(fit.ok());
  EXPECT_NE(fit.message().find("cannot fit 'host'"), std::string::npos) << fit.message();
}

}  // namespace
}  // namespace outpost::advisor
