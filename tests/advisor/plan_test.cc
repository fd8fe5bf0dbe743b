// `outpost plan`'s logic (advisor/plan/plan.h) on a small catalog built here, where every
// figure and every expected verdict can be worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "advisor/plan/plan.h"

namespace outpost::advisor {
namespace {

Figure Fig(double v, const std::string& unit) {
  Figure f;
  f.value = v;
  f.unit = unit;
  f.source = "s";
  return f;
}
Figure Unknown(const std::string& unit) {
  Figure f;
  f.unit = unit;
  f.note = "not published";
  return f;
}

// board: 1 GiB RAM, 3 W typical / 1 W idle, 100 USD. hot: 10 W typical, 50 USD.
// mcu: 256 KiB SRAM, 1 MiB flash, 50 mW active / 0.01 mW sleep, cost unknown.
// dark: RAM, power and cost unknown.
HardwareCatalog PlanCatalog() {
  HardwareCatalog c;
  Target board;
  board.id = "board";
  board.kind = "sbc";
  board.memory["ram_bytes"] = Fig(1024.0 * 1024 * 1024, "B");
  board.power["typical_w"] = Fig(3, "W");
  board.power["idle_w"] = Fig(1, "W");
  board.cost_usd = Fig(100, "USD");
  c.targets.push_back(board);

  Target hot = board;
  hot.id = "hot";
  hot.power["typical_w"] = Fig(10, "W");
  hot.cost_usd = Fig(50, "USD");
  c.targets.push_back(hot);

  Target mcu;
  mcu.id = "mcu";
  mcu.kind = "mcu";
  mcu.memory["ram_bytes"] = Fig(256 * 1024, "B");
  mcu.memory["flash_onchip_bytes"] = Fig(1024 * 1024, "B");
  mcu.power["active_mw"] = Fig(50, "mW");
  mcu.power["sleep_mw"] = Fig(0.01, "mW");
  mcu.cost_usd = Unknown("USD");
  c.targets.push_back(mcu);

  Target dark;
  dark.id = "dark";
  dark.kind = "sbc";
  dark.memory["ram_bytes"] = Unknown("B");
  dark.power["typical_w"] = Unknown("W");
  dark.power["peak_w"] = Unknown("W");
  dark.cost_usd = Unknown("USD");
  c.targets.push_back(dark);
  return c;
}

PlanModel SmallModel() {
  PlanModel m;
  m.name = "m";
  m.macs = 10'000'000;
  m.weight_bytes = 100 * 1024;
  m.arena_bytes = 100 * 1024;
  m.precision = Precision::kFp32;
  return m;
}

LatencyEstimate Ms(double ms, std::optional<double> err = std::nullopt) {
  LatencyEstimate e;
  e.ms = ms;
  e.error_factor = err;
  e.basis = "test";
  return e;
}

const PlanRow& Row(const Plan& p, const std::string& id) {
  for (const PlanRow& r : p.rows)
    if (r.target == id) return r;
  ADD_FAILURE() << "no row " << id;
  return p.rows.front();
}

TEST(AdvisorPlan, VerdictsPerConstraint) {
  PlanConstraints c;
  c.latency_ms = 20;
  c.power_w = 5;
  c.unit_cost_usd = 80;
  const std::map<std::string, TargetLatency> lat = {
      {"board", {Ms(10, 1.5), std::nullopt}}, {"hot", {Ms(5), std::nullopt}}, {"mcu", {Ms(400), Ms(100)}}};
  const Plan p = MakePlan(c, SmallModel(), PlanCatalog(), lat);
  ASSERT_EQ(p.rows.size(), 4u);

  const PlanRow& board = Row(p, "board");
  EXPECT_EQ(board.latency_check.verdict, Verdict::kPass);
  EXPECT_EQ(board.memory_check.verdict, Verdict::kPass);  // 200 KiB of 1 GiB
  EXPECT_EQ(board.power_check.verdict, Verdict::kPass);
  EXPECT_EQ(board.cost_check.verdict, Verdict::kFail);    // 100 > 80
  EXPECT_EQ(board.battery_check.verdict, Verdict::kNotAsked);
  EXPECT_DOUBLE_EQ(*board.energy_mj, 30.0);               // 3 W x 10 ms
  EXPECT_DOUBLE_EQ(*board.ram_need_bytes, 200.0 * 1024);  // arena + weights in RAM

  const PlanRow& hot = Row(p, "hot");
  EXPECT_EQ(hot.power_check.verdict, Verdict::kFail);
  EXPECT_EQ(hot.cost_check.verdict, Verdict::kPass);

  const PlanRow& mcu = Row(p, "mcu");
  EXPECT_EQ(mcu.latency_check.verdict, Verdict::kFail);
  EXPECT_DOUBLE_EQ(*mcu.ram_need_bytes, 100.0 * 1024);  // weights stay in flash
  EXPECT_DOUBLE_EQ(*mcu.flash_need_bytes, 100.0 * 1024);
  EXPECT_EQ(mcu.memory_check.verdict, Verdict::kPass);
  EXPECT_EQ(mcu.cost_check.verdict, Verdict::kUnknown);
  // 400 ms against 20: int8 (100 ms) still too slow, 95% of the MACs, side x sqrt(0.05).
  ASSERT_EQ(mcu.fixes.size(), 3u);
  EXPECT_EQ(mcu.fixes[0], "int8: 100 ms (still too slow, no error estimate)");
  EXPECT_EQ(mcu.fixes[1], "prune 95% of the MACs");
  EXPECT_EQ(mcu.fixes[2], "input side x0.22 (MACs follow the input area)");

  // No latency estimate and no catalog figure: unknown everywhere, never a pass or a fail.
  const PlanRow& dark = Row(p, "dark");
  EXPECT_FALSE(dark.latency.has_value());
  EXPECT_EQ(dark.latency_check.verdict, Verdict::kUnknown);
  EXPECT_EQ(dark.latency_check.detail, "no latency estimate");
  EXPECT_EQ(dark.memory_check.verdict, Verdict::kUnknown);
  EXPECT_EQ(dark.power_check.verdict, Verdict::kUnknown);
  EXPECT_EQ(dark.cost_check.verdict, Verdict::kUnknown);
  EXPECT_EQ(dark.fails, 0);
  EXPECT_EQ(dark.unknowns, 4);

  // Everyone fails something except dark, which cannot be confirmed: no recommendation.
  EXPECT_EQ(p.rows.front().target, "dark");
  EXPECT_EQ(p.recommendation, "none confirmed");
}

TEST(AdvisorPlan, RecommendsTheFastestTargetThatPassesEverything) {
  PlanConstraints c;
  c.latency_ms = 20;
  c.power_w = 5;
  c.unit_cost_usd = 150;
  const std::map<std::string, TargetLatency> lat = {{"board", {Ms(10, 1.5), std::nullopt}}, {"hot", {Ms(5), std::nullopt}}};
  const Plan p = MakePlan(c, SmallModel(), PlanCatalog(), lat);
  EXPECT_EQ(p.recommendation, "board");
  EXPECT_EQ(p.rows.front().target, "board");
  bool uncertainty = false;
  for (const std::string& r : p.reasons) uncertainty |= r.find("uncertainty x1.50") != std::string::npos;
  EXPECT_TRUE(uncertainty) << "the recommendation states the estimate's uncertainty";
}

TEST(AdvisorPlan, MemoryFitAndItsFixes) {
  PlanConstraints c;
  c.ram_mb = 0.1;  // 102.4 KiB: arena + weights (200 KiB) does not fit, int8 (50 KiB) does
  const Plan p = MakePlan(c, SmallModel(), PlanCatalog(), {});
  const PlanRow& board = Row(p, "board");
  EXPECT_EQ(board.memory_check.verdict, Verdict::kFail);
  EXPECT_EQ(board.memory_check.detail, "arena + weights 200.0 KiB > RAM budget 102.4 KiB");
  ASSERT_GE(board.fixes.size(), 2u);
  EXPECT_EQ(board.fixes[0], "int8: about 50.0 KiB of RAM (fits)");
  EXPECT_EQ(board.fixes[1], "prune 98% of the weights (sparse storage)");  // 2.4 of 100 KiB left

  PlanModel big = SmallModel();
  big.weight_bytes = 2 * 1024 * 1024;  // more than the MCU's 1 MiB flash
  const Plan q = MakePlan(PlanConstraints{}, big, PlanCatalog(), {});
  EXPECT_EQ(Row(q, "mcu").memory_check.verdict, Verdict::kFail);
  EXPECT_NE(Row(q, "mcu").memory_check.detail.find("weights 2.0 MiB > flash 1.0 MiB"), std::string::npos);
}

TEST(AdvisorPlan, BatteryLifeWithDutyCycle) {
  PlanConstraints c;
  c.battery_wh = 10;
  c.hours = 5;
  c.duty_cycle = 0.5;
  const Plan p = MakePlan(c, SmallModel(), PlanCatalog(), {});
  // board: 0.5 x 3 W + 0.5 x 1 W = 2 W -> 5 h, just enough.
  const PlanRow& board = Row(p, "board");
  EXPECT_DOUBLE_EQ(*board.battery_hours, 5.0);
  EXPECT_EQ(board.battery_check.verdict, Verdict::kPass);
  // hot: 0.5 x 10 + 0.5 x 1 = 5.5 W -> 1.82 h; the duty cycle that lasts 5 h: (2 - 1) / (10 - 1).
  const PlanRow& hot = Row(p, "hot");
  EXPECT_EQ(hot.battery_check.verdict, Verdict::kFail);
  EXPECT_NEAR(*hot.battery_hours, 10 / 5.5, 1e-9);
  ASSERT_EQ(hot.fixes.size(), 1u);
  EXPECT_EQ(hot.fixes[0], "duty cycle <= 0.111");
  EXPECT_EQ(Row(p, "dark").battery_check.verdict, Verdict::kUnknown);
}

TEST(AdvisorPlan, PeakPowerIsOnlyABound) {
  HardwareCatalog cat = PlanCatalog();
  Target& dark = cat.targets[3];
  dark.power["peak_w"] = Fig(4, "W");
  PlanConstraints c;
  c.power_w = 5;
  EXPECT_EQ(Row(MakePlan(c, SmallModel(), cat, {}), "dark").power_check.verdict, Verdict::kPass);
  c.power_w = 3;  // a peak above the budget says nothing about typical power
  const PlanRow r = Row(MakePlan(c, SmallModel(), cat, {}), "dark");
  EXPECT_EQ(r.power_check.verdict, Verdict::kUnknown);
  EXPECT_TRUE(r.power_is_peak);
}

TEST(AdvisorPlan, ConstraintValidation) {
  PlanConstraints c;
  c.latency_ms = -1;
  EXPECT_EQ(std::string(ValidateConstraints(c).error().what()), "--latency-ms must be a positive number of milliseconds");
  c = {};
  c.duty_cycle = 1.5;
  EXPECT_FALSE(ValidateConstraints(c).ok());
  c = {};
  c.hours = 3;
  EXPECT_EQ(std::string(ValidateConstraints(c).error().what()), "--hours needs --battery-wh: a battery life needs a battery");
  c = {};
  c.ram_mb = 4;
  EXPECT_TRUE(ValidateConstraints(c).ok());
}

// The per-target fit of published points: geometric-mean rate and worst leave-one-out error.
TEST(AdvisorPlan, PublishedFitAndItsUncertainty) {
  CalibrationSet set;
  auto point = [](const std::string& id, const std::string& target, double macs, double ms, int threads) {
    CalibrationPoint p;
    p.id = id;
    p.target = target;
    p.engine = "cpu";
    p.runtime = "rt";
    p.precision = Precision::kFp32;
    p.threads = threads;
    p.kind = "latency";
    p.latency_ms = ms;
    p.macs = Fig(macs, "count");
    return p;
  };
  set.points.push_back(point("a", "board", 100e6, 10, 4));  // 1e10 MAC/s
  set.points.push_back(point("b", "board", 100e6, 40, 4));  // 2.5e9 MAC/s
  set.points.push_back(point("c", "board", 100e6, 5, 1));   // alone in its group
  const std::vector<PublishedFit> fits = FitPublishedPoints(set);
  ASSERT_EQ(fits.size(), 2u);
  const std::optional<LatencyEstimate> e = EstimateFromPublished(fits, "board", Precision::kFp32, 50'000'000);
  ASSERT_TRUE(e);
  // Rate sqrt(1e10 x 2.5e9) = 5e9 MAC/s -> 10 ms; each point predicted from the other is 4x off.
  EXPECT_NEAR(e->ms, 10.0, 1e-9);
  ASSERT_TRUE(e->error_factor);
  EXPECT_NEAR(*e->error_factor, 4.0, 1e-9);
  EXPECT_FALSE(EstimateFromPublished(fits, "board", Precision::kInt8, 50'000'000));
  EXPECT_FALSE(EstimateFromPublished(fits, "mcu", Precision::kFp32, 50'000'000));
}

}  // namespace
}  // namespace outpost::advisor
