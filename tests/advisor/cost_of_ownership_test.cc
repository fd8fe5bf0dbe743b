// The cost-of-ownership arithmetic (advisor/tco/cost_of_ownership.h) on inputs whose every line
// item and saving is worked out by hand in the comments, the unknown figures that must stay
// unknown (never zero), the refused inputs, and the committed catalog's figures.
#include <gtest/gtest.h>

#include <string>

#include "advisor/catalog/hardware_catalog.h"
#include "advisor/tco/cost_of_ownership.h"

namespace outpost::advisor {
namespace {

CostFigure Given(double v, const std::string& unit = "") { return CostFigure::Known(v, unit, CostOrigin::kFlag, "given"); }

// 10 devices, 4 years. Unit 100 USD + 20 install. 5 W active, 1 W idle, duty 0.2, 0.20 USD/kWh.
// Telemetry 1e6 B/day, polls 1e5 B/day, 12 updates of a 2e6 B package (5e5 B delta), 0.05 USD/MB.
// 2 h maintenance at 30 USD/h; 10% failures a year, 150 USD a visit; events in 10% of the bytes.
CostInputs HandCase() {
  CostInputs in;
  in.devices = 10;
  in.years = 4;
  in.unit_cost_usd = Given(100, "USD");
  in.install_usd = Given(20, "USD");
  in.active_power_w = Given(5, "W");
  in.idle_power_w = Given(1, "W");
  in.duty_cycle = 0.2;
  in.electricity_usd_per_kwh = Given(0.20);
  in.telemetry_bytes_per_day = Given(1e6);
  in.poll_bytes_per_day = Given(1e5);
  in.updates_per_year = Given(12);
  in.package_bytes = Given(2e6);
  in.delta_bytes = Given(5e5);
  in.event_share = Given(0.1);
  in.data_usd_per_mb = Given(0.05);
  in.maintenance_hours_per_year = Given(2);
  in.labor_usd_per_hour = Given(30);
  in.failure_rate_per_year = Given(0.1);
  in.replacement_visit_usd = Given(150);
  return in;
}

const CostLine& Line(const CostReport& r, const std::string& item) {
  for (const CostLine& l : r.lines)
    if (l.item == item) return l;
  throw std::runtime_error("no line " + item);
}

const Saving& FindSaving(const CostReport& r, const std::string& prefix) {
  for (const Saving& s : r.savings)
    if (s.name.rfind(prefix, 0) == 0) return s;
  throw std::runtime_error("no saving " + prefix);
}

TEST(AdvisorCostOfOwnership, EveryLineItemByHand) {
  Expected<CostReport> r = ComputeCostOfOwnership(HandCase());
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->lines.size(), 5u);
  // (100 + 20) / 4
  EXPECT_DOUBLE_EQ(*Line(*r, "hardware").usd_per_device_year, 30.0);
  // (0.2 x 5 + 0.8 x 1) W = 1.8 W x 8760 h = 15.768 kWh x 0.20
  EXPECT_NEAR(*r->energy_kwh_per_year, 15.768, 1e-9);
  EXPECT_NEAR(*Line(*r, "energy").usd_per_device_year, 3.1536, 1e-9);
  // 365 MB telemetry + 36.5 MB polls + 12 x 2 MB packages = 425.5 MB x 0.05
  EXPECT_NEAR(*r->telemetry_mb_per_year, 365.0, 1e-9);
  EXPECT_NEAR(*r->poll_mb_per_year, 36.5, 1e-9);
  EXPECT_NEAR(*r->ota_mb_per_year, 24.0, 1e-9);
  EXPECT_NEAR(*Line(*r, "connectivity").usd_per_device_year, 21.275, 1e-9);
  // 2 h x 30
  EXPECT_DOUBLE_EQ(*Line(*r, "maintenance").usd_per_device_year, 60.0);
  // 0.1 x (100 + 150)
  EXPECT_DOUBLE_EQ(*Line(*r, "replacement").usd_per_device_year, 25.0);

  EXPECT_NEAR(r->known_usd_per_device_year, 139.4286, 1e-9);
  EXPECT_TRUE(r->unknown_items.empty());
  EXPECT_NEAR(r->fleet_usd_per_year, 1394.286, 1e-9);
  EXPECT_NEAR(r->fleet_usd_over_life, 5577.144, 1e-9);
  // The arithmetic is spelt out with its numbers.
  EXPECT_NE(Line(*r, "energy").detail.find("0.2 x 5 W + 0.8 x 1 W"), std::string::npos) << Line(*r, "energy").detail;
}

TEST(AdvisorCostOfOwnership, SavingsByHand) {
  Expected<CostReport> r = ComputeCostOfOwnership(HandCase());
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->savings.size(), 3u);
  // 12 x (2 - 0.5) MB x 0.05
  EXPECT_NEAR(*FindSaving(*r, "delta").usd_per_device_year, 0.9, 1e-9);
  // 365 MB x (1 - 0.1) x 0.05
  EXPECT_NEAR(*FindSaving(*r, "event-only").usd_per_device_year, 16.425, 1e-9);
  // always on: 5 W x 8760 h = 43.8 kWh; (43.8 - 15.768) x 0.20
  EXPECT_NEAR(*FindSaving(*r, "duty").usd_per_device_year, 5.6064, 1e-9);
}

TEST(AdvisorCostOfOwnership, DeltaUpdatesAndMeasuredOta) {
  CostInputs in = HandCase();
  in.delta_updates = true;
  Expected<CostReport> r = ComputeCostOfOwnership(in);
  ASSERT_TRUE(r.ok()) << r.message();
  // 12 x 0.5 MB deltas: (365 + 36.5 + 6) MB x 0.05
  EXPECT_NEAR(*r->ota_mb_per_year, 6.0, 1e-9);
  EXPECT_NEAR(*Line(*r, "connectivity").usd_per_device_year, 20.375, 1e-9);

  // Measured downloads replace updates x size: (1e5 + 2e4) B/day x 365 = 43.8 MB.
  in.measured_package_bytes_per_day = 1e5;
  in.measured_delta_bytes_per_day = 2e4;
  in.updates_per_year = CostFigure::Unknown("1/year", "not known");
  r = ComputeCostOfOwnership(in);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_NEAR(*r->ota_mb_per_year, 43.8, 1e-9);
  EXPECT_NEAR(*Line(*r, "connectivity").usd_per_device_year, (365 + 36.5 + 43.8) * 0.05, 1e-9);
  EXPECT_NE(Line(*r, "connectivity").detail.find("measured"), std::string::npos);
  // Without an update count the delta saving cannot be priced.
  EXPECT_FALSE(FindSaving(*r, "delta").usd_per_device_year.has_value());
}

TEST(AdvisorCostOfOwnership, AlwaysOnNeedsNoIdlePower) {
  CostInputs in = HandCase();
  in.duty_cycle = 1;
  in.idle_power_w = CostFigure::Unknown("W", "no idle figure");
  Expected<CostReport> r = ComputeCostOfOwnership(in);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_NEAR(*Line(*r, "energy").usd_per_device_year, 43.8 * 0.20, 1e-9);
  const Saving& duty = FindSaving(*r, "duty");
  EXPECT_FALSE(duty.usd_per_device_year.has_value());
  EXPECT_NE(duty.detail.find("always on"), std::string::npos) << duty.detail;
}

TEST(AdvisorCostOfOwnership, UnknownFiguresStayUnknownAndLeaveTheTotals) {
  CostInputs in = HandCase();
  in.unit_cost_usd = CostFigure::Unknown("USD", "board has no unit cost in the catalog; give --unit-cost");
  in.idle_power_w = CostFigure::Unknown("W", "board has no idle_w in the catalog; give --idle-power-w");
  in.package_bytes = CostFigure::Unknown("B", "no package size: give --package FILE");
  in.event_share = CostFigure::Unknown("share", "not measured");
  Expected<CostReport> r = ComputeCostOfOwnership(in);
  ASSERT_TRUE(r.ok()) << r.message();
  // Hardware and replacement need the unit cost, energy at duty 0.2 the idle power, OTA the size.
  for (const char* item : {"hardware", "energy", "connectivity", "replacement"}) {
    EXPECT_FALSE(Line(*r, item).usd_per_device_year.has_value()) << item;
    EXPECT_EQ(Line(*r, item).detail.rfind("unknown: ", 0), 0u) << Line(*r, item).detail;
  }
  EXPECT_NE(Line(*r, "hardware").detail.find("give --unit-cost"), std::string::npos);
  EXPECT_NE(Line(*r, "energy").detail.find("idle"), std::string::npos);
  EXPECT_NE(Line(*r, "connectivity").detail.find("--package"), std::string::npos);
  EXPECT_EQ(r->unknown_items, (std::vector<std::string>{"hardware", "energy", "connectivity", "replacement"}));
  // Only maintenance is counted: 60 per device-year.
  EXPECT_DOUBLE_EQ(r->known_usd_per_device_year, 60.0);
  EXPECT_DOUBLE_EQ(r->fleet_usd_per_year, 600.0);
  for (const Saving& s : r->savings) EXPECT_FALSE(s.usd_per_device_year.has_value()) << s.name;
}

TEST(AdvisorCostOfOwnership, RefusesInvalidInputs) {
  auto refused = [](CostInputs in, const std::string& needle) {
    Expected<CostReport> r = ComputeCostOfOwnership(in);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_NE(r.message().find(needle), std::string::npos) << r.message();
  };
  CostInputs in = HandCase();
  in.devices = 0;
  refused(in, "--devices must be at least 1");
  in = HandCase();
  in.years = 0;
  refused(in, "--years must be > 0");
  in = HandCase();
  in.duty_cycle = 1.5;
  refused(in, "--duty-cycle must be within (0, 1]");
  in = HandCase();
  in.electricity_usd_per_kwh = Given(-0.1);
  refused(in, "--electricity-usd-per-kwh must be >= 0");
  in = HandCase();
  in.failure_rate_per_year = Given(2);
  refused(in, "--failure-rate must be within [0, 1]");
  in = HandCase();
  in.event_share = Given(-0.1);
  refused(in, "--event-share must be within [0, 1]");
  in = HandCase();
  in.idle_power_w = Given(9);
  refused(in, "idle power 9 W exceeds active power 5 W");
  in = HandCase();
  in.delta_updates = true;
  in.delta_bytes = CostFigure::Unknown("B", "none");
  refused(in, "delta updates need the delta's size");
}

TEST(AdvisorCostOfOwnership, DefaultsCarryTheirSources) {
  const CostDefaults d = DefaultCostAssumptions();
  for (const CostFigure* f : {&d.electricity_usd_per_kwh, &d.data_usd_per_mb, &d.labor_usd_per_hour, &d.failure_rate_per_year,
                              &d.replacement_visit_usd, &d.updates_per_year}) {
    ASSERT_TRUE(f->known());
    EXPECT_GT(*f->value, 0);
    EXPECT_EQ(f->origin, CostOrigin::kDefault);
    EXPECT_NE(f->basis.find("http"), std::string::npos) << f->basis;
  }
  EXPECT_DOUBLE_EQ(*d.electricity_usd_per_kwh.value, 0.1545);
  EXPECT_DOUBLE_EQ(*d.labor_usd_per_hour.value, 32.32);
}

TEST(AdvisorCostOfOwnership, CommittedCatalogFigures) {
  Expected<HardwareCatalog> catalog = LoadHardwareCatalog(DefaultCatalogDir() + "/hardware.json");
  ASSERT_TRUE(catalog.ok()) << catalog.message();

  // Raspberry Pi 4: 55 USD, idle 2.1 W, no typical power (only the 6.41 W peak): unknown.
  Expected<TargetCostFigures> rpi = TargetFiguresFromCatalog(*catalog, "rpi4-4gb");
  ASSERT_TRUE(rpi.ok()) << rpi.message();
  EXPECT_DOUBLE_EQ(*rpi->unit_cost_usd.value, 55);
  EXPECT_EQ(rpi->unit_cost_usd.origin, CostOrigin::kCatalog);
  EXPECT_DOUBLE_EQ(*rpi->idle_power_w.value, 2.1);
  EXPECT_FALSE(rpi->active_power_w.known());
  EXPECT_NE(rpi->active_power_w.basis.find("6.41"), std::string::npos) << rpi->active_power_w.basis;
  EXPECT_NE(rpi->active_power_w.basis.find("--power-w"), std::string::npos);

  // ESP32-S3: active 105 mW, deep sleep 0.026 mW, in watts; no USD list price.
  Expected<TargetCostFigures> esp = TargetFiguresFromCatalog(*catalog, "esp32-s3");
  ASSERT_TRUE(esp.ok()) << esp.message();
  EXPECT_NEAR(*esp->active_power_w.value, 0.105, 1e-12);
  EXPECT_NEAR(*esp->idle_power_w.value, 0.026e-3, 1e-15);
  EXPECT_FALSE(esp->unit_cost_usd.known());
  EXPECT_NE(esp->unit_cost_usd.basis.find("--unit-cost"), std::string::npos);

  // An accelerator costs its system price (accelerator + host).
  Expected<TargetCostFigures> coral = TargetFiguresFromCatalog(*catalog, "coral-usb");
  ASSERT_TRUE(coral.ok()) << coral.message();
  EXPECT_DOUBLE_EQ(*coral->unit_cost_usd.value, 130);

  Expected<TargetCostFigures> none = TargetFiguresFromCatalog(*catalog, "no-such-board");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("rpi4-4gb"), std::string::npos) << "the error lists the known ids: " << none.message();
}

}  // namespace
}  // namespace outpost::advisor
