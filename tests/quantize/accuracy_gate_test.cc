// The accuracy gate on small classifiers built to misbehave in int8: an activation with a huge
// outlier channel that per-tensor int8 cannot represent next to small values. The gate must
// find the layers around it and keep exactly those in float, fail when the only way to meet
// the target is an all-float model, and fall back to output SQNR without labels.
#include "compiler/quantize/accuracy_gate.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/quantize/gate_test_models.h"

namespace outpost::testing {
namespace {

using opm::Activation;
using opm::OpCode;

quant::CalibrationResult CalibrateOn(const ir::Graph& g, uint32_t seed) {
  quant::Dataset calib = LabelledByModel(g, 64, seed);
  auto stats = quant::Calibrate(g, calib);
  EXPECT_TRUE(stats.ok()) << stats.message();
  return std::move(stats).value();
}

TEST(AccuracyGate, KeepsTheLayersAroundAnOutlierInFloat) {
  const GraphBuilder b = OutlierClassifier();
  const quant::Dataset val = LabelledByModel(b.g, 300, 1000);
  const quant::CalibrationResult stats = CalibrateOn(b.g, 7000);
  quant::GateOptions options;
  options.max_drop = 3.0;
  options.sensitivity_samples = 150;
  std::set<std::string> phases;
  options.progress = [&](const std::string& phase, int64_t done, int64_t total) {
    EXPECT_LE(done, total);
    phases.insert(phase);
  };
  auto r = quant::RunAccuracyGate(b.g, stats, {}, val, options);
  ASSERT_TRUE(r.ok()) << r.message();
  std::ostringstream report;
  quant::PrintGateReport(*r, report);
  SCOPED_TRACE(report.str());

  EXPECT_TRUE(r->labelled);
  EXPECT_EQ(r->eval_samples, 300);
  EXPECT_EQ(r->sensitivity_samples, 150);
  EXPECT_DOUBLE_EQ(r->float_accuracy, 100.0);
  EXPECT_GT(r->int8_drop(), 10.0);  // naive int8 really misses the gate
  ASSERT_TRUE(r->passed) << r->failure;
  EXPECT_LE(r->final_drop(), 3.0);
  std::set<std::string> kept(r->kept_float.begin(), r->kept_float.end());
  EXPECT_EQ(kept, (std::set<std::string>{"fc2", "fc3"}));
  // fc1 is still int8 in the result.
  bool fc1_int8 = false;
  for (const quant::LayerReport& l : r->quantize_report.layers)
    if (l.node == "fc1") fc1_int8 = l.quantized;
  EXPECT_TRUE(fc1_int8);
  // fc1 is ranked least sensitive.
  ASSERT_EQ(r->sensitivity.size(), 3u);
  EXPECT_EQ(r->sensitivity.back().node, "fc1");
  // The per-layer table shows where the damage is: fc1's output is clean, fc2's is not.
  double sqnr_fc1 = 0, sqnr_fc3 = 0;
  for (const quant::TensorSqnr& t : r->layer_sqnr.tensors) {
    if (t.node == "fc1") sqnr_fc1 = t.sqnr_db;
    if (t.node == "fc3") sqnr_fc3 = t.sqnr_db;
  }
  EXPECT_GT(sqnr_fc1, 25.0);
  EXPECT_LT(sqnr_fc3, sqnr_fc1 - 10.0);
  EXPECT_LT(r->weight_bytes, r->float_weight_bytes);
  EXPECT_TRUE(phases.count("float") && phases.count("int8") && phases.count("sensitivity") &&
              phases.count("search"));
  EXPECT_NE(report.str().find("gate: PASS"), std::string::npos);
  EXPECT_NE(report.str().find("kept float by the gate: fc"), std::string::npos);
}

TEST(AccuracyGate, PassesWithoutSearchWhenInt8Fits) {
  const GraphBuilder b = OutlierClassifier();
  const quant::Dataset val = LabelledByModel(b.g, 100, 3000);
  quant::GateOptions options;
  options.max_drop = 100.0;
  auto r = quant::RunAccuracyGate(b.g, CalibrateOn(b.g, 9000), {}, val, options);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->passed);
  EXPECT_TRUE(r->sensitivity.empty());
  EXPECT_TRUE(r->kept_float.empty());
  EXPECT_DOUBLE_EQ(r->final_accuracy, r->int8_accuracy);
}

TEST(AccuracyGate, FailsWhenOnlyAnAllFloatModelWouldFit) {
  const GraphBuilder b = OutlierInputClassifier();
  const quant::Dataset val = LabelledByModel(b.g, 200, 500, /*outlier_input=*/true);
  auto stats = quant::Calibrate(b.g, LabelledByModel(b.g, 64, 600, /*outlier_input=*/true));
  ASSERT_TRUE(stats.ok()) << stats.message();
  quant::GateOptions options;
  options.max_drop = 1.0;
  auto r = quant::RunAccuracyGate(b.g, *stats, {}, val, options);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_GT(r->int8_drop(), 1.0);
  EXPECT_FALSE(r->passed);
  EXPECT_TRUE(r->kept_float.empty());
  EXPECT_NE(r->failure.find("cannot be met"), std::string::npos) << r->failure;
  EXPECT_NE(r->failure.find("'fc'"), std::string::npos) << r->failure;
  std::ostringstream report;
  quant::PrintGateReport(*r, report);
  EXPECT_NE(report.str().find("gate: FAIL"), std::string::npos) << report.str();
}

TEST(AccuracyGate, FailsAfterTryingEveryMixOfLayers) {
  // Every layer is broken by int8 on its own (fc1 by its input's outlier feature, fc2 and fc3 by
  // h2's outlier channel), so any mix with one layer left in int8 misses the gate.
  const GraphBuilder b = OutlierClassifier(/*ignore_feature0=*/true);
  const quant::Dataset val = LabelledByModel(b.g, 200, 1000, /*outlier_input=*/true);
  auto stats = quant::Calibrate(b.g, LabelledByModel(b.g, 64, 7000, true));
  ASSERT_TRUE(stats.ok()) << stats.message();
  quant::GateOptions options;
  options.max_drop = 2.0;
  auto r = quant::RunAccuracyGate(b.g, *stats, {}, val, options);
  ASSERT_TRUE(r.ok()) << r.message();
  std::ostringstream report;
  quant::PrintGateReport(*r, report);
  SCOPED_TRACE(report.str());
  EXPECT_FALSE(r->passed);
  ASSERT_EQ(r->sensitivity.size(), 3u);
  for (const quant::LayerSensitivity& s : r->sensitivity) EXPECT_LT(s.accuracy, 90.0) << s.node;
  ASSERT_EQ(r->steps.size(), 2u);  // 1 and 2 of the 3 layers kept float
  for (const quant::GateStep& s : r->steps) EXPECT_LT(s.subset_score, 98.0);
  EXPECT_TRUE(r->kept_float.empty());
  EXPECT_NE(r->failure.find("up to 2 of its 3"), std::string::npos) << r->failure;
}

TEST(AccuracyGate, WithoutLabelsGatesOnOutputSqnrAndSaysSo) {
  const GraphBuilder b = OutlierClassifier();
  quant::Dataset val = LabelledByModel(b.g, 100, 5000);
  val.labels.clear();
  quant::GateOptions options;
  options.min_output_sqnr_db = 30.0;
  auto r = quant::RunAccuracyGate(b.g, CalibrateOn(b.g, 7000), {}, val, options);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_FALSE(r->labelled);
  EXPECT_NE(r->criterion.find("SQNR"), std::string::npos);
  ASSERT_FALSE(r->notes.empty());
  EXPECT_NE(r->notes[0].find("no labels"), std::string::npos);
  EXPECT_LT(r->int8_output_sqnr_db, 30.0);
  ASSERT_TRUE(r->passed) << r->failure;
  EXPECT_GE(r->final_output_sqnr_db, 30.0);
  std::set<std::string> kept(r->kept_float.begin(), r->kept_float.end());
  EXPECT_TRUE(kept.count("fc2") || kept.count("fc3"));
  EXPECT_FALSE(kept.count("fc1"));
}

TEST(AccuracyGate, RefusesBadInput) {
  const GraphBuilder b = OutlierClassifier();
  quant::Dataset val = LabelledByModel(b.g, 10, 1);
  const quant::CalibrationResult stats = CalibrateOn(b.g, 2);
  quant::GateOptions options;
  options.max_drop = -1;
  EXPECT_FALSE(quant::RunAccuracyGate(b.g, stats, {}, val, options).ok());
  options.max_drop = 1;
  val.labels.pop_back();
  auto r = quant::RunAccuracyGate(b.g, stats, {}, val, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("9 labels for 10 samples"), std::string::npos) << r.message();
  EXPECT_FALSE(quant::RunAccuracyGate(b.g, stats, {}, quant::Dataset{}, options).ok());
}

}  // namespace
}  // namespace outpost::testing
