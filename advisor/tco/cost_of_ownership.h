// `outpost cost` (docs/advisor.md, "Cost of ownership"): what a device costs per year and what a
// fleet of N devices costs over Y years of service: hardware amortization, energy, connectivity
// (telemetry, OTA updates, polls), maintenance and replacement; and what each saving is worth
// (delta updates, event-only uplink, duty cycling).
//
// Pure functions over plain numbers. Every figure carries where it comes from (a default with
// its public source, a flag, the catalog, a file on disk or a measurement of the fleet) so the
// output can say it; the caller reads the catalog, files and the fleet database. A figure that
// is unknown makes its line item "unknown" and is left out of the totals by name, never counted
// as zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "advisor/catalog/hardware_catalog.h"
#include "common/expected.h"

namespace outpost::advisor {

// Where a figure of the cost model comes from.
enum class CostOrigin {
  kDefault,   // a stated assumption with its public source (CostDefaults)
  kFlag,      // given on the command line
  kCatalog,   // the hardware catalog
  kFile,      // the size of a file on disk
  kMeasured,  // the fleet's recorded traffic
  kUnknown,   // nothing known: the line items that need it are unknown
};
std::string_view CostOriginName(CostOrigin o);  // "default", "flag", "catalog", "file", "measured", "unknown"

struct CostFigure {
  std::optional<double> value;
  std::string unit;
  CostOrigin origin = CostOrigin::kUnknown;
  std::string basis;  // the source in words: URL and what it says, the catalog's source, the measurement

  bool known() const { return value.has_value(); }
  static CostFigure Known(double v, std::string unit, CostOrigin origin, std::string basis) {
    return {v, std::move(unit), origin, std::move(basis)};
  }
  static CostFigure Unknown(std::string unit, std::string why) { return {std::nullopt, std::move(unit), CostOrigin::kUnknown, std::move(why)}; }
};

// The default prices and rates, each with its public source. Overridable one by one.
struct CostDefaults {
  CostFigure electricity_usd_per_kwh;
  CostFigure data_usd_per_mb;
  CostFigure labor_usd_per_hour;
  CostFigure failure_rate_per_year;
  CostFigure replacement_visit_usd;
  CostFigure updates_per_year;
};
CostDefaults DefaultCostAssumptions();

// What the catalog says about a target's price and power. Accelerators count their host: the
// system price (accelerator + host) and the sum of both typical powers.
struct TargetCostFigures {
  std::string id, name, kind;
  CostFigure unit_cost_usd;
  CostFigure active_power_w;  // typical_w (SBCs, servers) or active_mw (MCUs)
  CostFigure idle_power_w;    // idle_w or sleep_mw
};
Expected<TargetCostFigures> TargetFiguresFromCatalog(const HardwareCatalog& catalog, const std::string& target_id);

struct CostInputs {
  int64_t devices = 0;
  double years = 0;  // service life

  // Hardware.
  CostFigure unit_cost_usd;
  CostFigure install_usd;  // per device, once; zero unless given

  // Energy.
  CostFigure active_power_w;
  CostFigure idle_power_w;
  double duty_cycle = 1.0;  // share of the time active, (0, 1]
  CostFigure electricity_usd_per_kwh;

  // Connectivity, per device. Bytes are payload bytes as the fleet server counts them.
  CostFigure telemetry_bytes_per_day;
  CostFigure poll_bytes_per_day;
  // OTA: measured bytes per day when the fleet was read (then the update count is not needed
  // for the line item); otherwise updates_per_year x the size of one update.
  std::optional<double> measured_package_bytes_per_day;
  std::optional<double> measured_delta_bytes_per_day;
  CostFigure updates_per_year;
  CostFigure package_bytes;
  CostFigure delta_bytes;
  bool delta_updates = false;  // updates are sent as deltas (else as full packages)
  // Share of the telemetry bytes that carry events or errors: what an event-only uplink keeps.
  CostFigure event_share;
  CostFigure data_usd_per_mb;  // 1 MB = 10^6 bytes

  // Maintenance and replacement.
  CostFigure maintenance_hours_per_year;  // per device
  CostFigure labor_usd_per_hour;
  CostFigure failure_rate_per_year;  // share of devices replaced per year
  CostFigure replacement_visit_usd;  // labour and travel to replace one device
};

// Ranges (devices >= 1, years > 0, duty cycle in (0, 1], prices and sizes >= 0, shares in
// [0, 1]); one message per problem, naming the flag.
Expected<Unit> ValidateCostInputs(const CostInputs& in);

struct CostLine {
  std::string item;  // "hardware", "energy", "connectivity", "maintenance", "replacement"
  std::optional<double> usd_per_device_year;
  std::string detail;  // the arithmetic with its numbers, or why it is unknown
};

struct Saving {
  std::string name;  // "delta updates vs full packages", ...
  std::optional<double> usd_per_device_year;
  std::string detail;
};

struct CostReport {
  std::vector<CostLine> lines;  // hardware, energy, connectivity, maintenance, replacement
  double known_usd_per_device_year = 0;  // sum of the known lines
  std::vector<std::string> unknown_items;  // lines left out of the totals
  double fleet_usd_per_year = 0;           // known lines x devices
  double fleet_usd_over_life = 0;          // x years
  // Connectivity split, per device per year (MB); empty when unknown.
  std::optional<double> telemetry_mb_per_year, poll_mb_per_year, ota_mb_per_year;
  std::optional<double> energy_kwh_per_year;
  std::vector<Saving> savings;
};

// The cost of ownership for validated inputs (ValidateCostInputs is called first).
Expected<CostReport> ComputeCostOfOwnership(const CostInputs& in);

inline constexpr double kHoursPerYear = 8760;  // 365 days
inline constexpr double kBytesPerMb = 1e6;

}  // namespace outpost::advisor
