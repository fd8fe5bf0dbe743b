// Leave-one-out scoring of the published calibration points: which points can be scored, the
// arithmetic of one of them by hand, and the table (printed: docs/advisor.md quotes it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "advisor/catalog/hardware_catalog.h"
#include "advisor/cost/calibration_fit.h"

namespace outpost::advisor {
namespace {

TEST(AdvisorCalibrationFit, ScoresThePointsWithMacsLeaveOneOut) {
  Expected<HardwareCatalog> cat = LoadHardwareCatalog(DefaultCatalogDir() + "/hardware.json");
  ASSERT_TRUE(cat.ok()) << cat.message();
  Expected<CalibrationSet> set = LoadCalibration(DefaultCatalogDir() + "/calibration.json", *cat);
  ASSERT_TRUE(set.ok()) << set.message();
  const std::vector<CalibrationResidual> rows = ScoreCalibrationPoints(*set);
  ASSERT_EQ(rows.size(), set->points.size());
  std::printf("%s", FormatCalibrationTable(rows).c_str());

  auto row = [&](const std::string& id) {
    const auto it = std::find_if(rows.begin(), rows.end(), [&](const CalibrationResidual& r) { return r.point == id; });
    EXPECT_NE(it, rows.end()) << id;
    return *it;
  };
  // MobileNet V2 on the Raspberry Pi 4 (fp32, 4 threads) predicted from MobileNet V1's rate:
  // 300e6 / (575e6 / 61.17 ms) = 31.92 ms, against 61.88 ms measured. A whole-network MAC
  // rate cannot see that V2's depthwise layers run at half V1's rate.
  const CalibrationResidual v2 = row("ncnn-rpi4-mobilenet-v2-t4");
  ASSERT_TRUE(v2.predicted_ms.has_value());
  EXPECT_NEAR(*v2.predicted_ms, 300e6 / (575e6 / 61.17), 1e-6);
  EXPECT_EQ(v2.fitted_on, 1);
  // The MLPerf Tiny reference (TFLite Micro on a Cortex-M4 at 120 MHz): keyword spotting
  // predicted from the anomaly autoencoder's rate, 2,656,768 / (264,192 / 10.052 ms) = 101.1 ms
  // against 181.9 ms measured: the autoencoder's dense layers run faster per MAC than the
  // DS-CNN's depthwise ones.
  const CalibrationResidual kws = row("mlperf-tiny-v05-ref-kws");
  ASSERT_TRUE(kws.predicted_ms.has_value());
  EXPECT_NEAR(*kws.predicted_ms, 2656768.0 / (264192.0 / 10.052), 1e-6);
  // Points without published MACs, throughput points and single points are not scored.
  EXPECT_FALSE(row("mlperf-tiny-v05-ref-vww").predicted_ms.has_value());
  EXPECT_FALSE(row("jetson-xnx-resnet-50").predicted_ms.has_value());
  EXPECT_NE(row("jetson-xnx-resnet-50").status.find("amortized"), std::string::npos);
  const CalibrationResidual single = row("ncnn-rpi4-mobilenet-int8-t4");
  EXPECT_FALSE(single.predicted_ms.has_value());
  EXPECT_NE(single.status.find("only point of its group"), std::string::npos);
  const int scored = static_cast<int>(std::count_if(rows.begin(), rows.end(), [](const auto& r) { return r.ratio().has_value(); }));
  EXPECT_GE(scored, 16);
}

}  // namespace
}  // namespace outpost::advisor
