// Cost of ownership: the arithmetic of cost_of_ownership.h. Each line item's detail spells out
// its arithmetic with the numbers used, so the printed table can be checked by hand.
#include "advisor/tco/cost_of_ownership.h"

#include <cmath>
#include <cstdio>

#include "advisor/text_format.h"

namespace outpost::advisor {
namespace {

std::string TcoNum(double v) { return FormatValue("%.6g", v); }

std::string TcoUsd(double v) { return FormatValue("$%.2f", v); }

// "catalog: <title> (<url>)" for a catalog figure, with its note or derivation when it has one.
std::string TcoCatalogBasis(const HardwareCatalog& catalog, const std::string& target, const std::string& field, const Figure& f) {
  std::string basis = "catalog " + target + " " + field;
  if (const auto it = catalog.sources.find(f.source); it != catalog.sources.end())
    basis += ": " + it->second.title + " (" + it->second.url + ")";
  if (!f.derived.empty()) basis += "; " + f.derived;
  if (!f.note.empty()) basis += "; " + f.note;
  return basis;
}

const Figure* TcoPowerField(const Target& t, const std::string& name) {
  const auto it = t.power.find(name);
  return it == t.power.end() ? nullptr : &it->second;
}

// Active and idle power of one catalog target, without its host.
void TcoOwnPower(const HardwareCatalog& catalog, const Target& t, CostFigure& active, CostFigure& idle) {
  const bool mcu = t.kind == "mcu";
  const std::string active_field = mcu ? "active_mw" : "typical_w";
  const std::string idle_field = mcu ? "sleep_mw" : "idle_w";
  const Figure* a = TcoPowerField(t, active_field);
  const Figure* i = TcoPowerField(t, idle_field);
  if (a && a->si())
    active = CostFigure::Known(*a->si(), "W", CostOrigin::kCatalog, TcoCatalogBasis(catalog, t.id, "power." + active_field, *a));
  else {
    std::string why = t.id + " has no " + active_field + " in the catalog";
    if (const Figure* peak = TcoPowerField(t, "peak_w"); peak && peak->si()) why += " (its peak is " + TcoNum(*peak->si()) + " W)";
    active = CostFigure::Unknown("W", why + "; give --power-w");
  }
  if (i && i->si())
    idle = CostFigure::Known(*i->si(), "W", CostOrigin::kCatalog, TcoCatalogBasis(catalog, t.id, "power." + idle_field, *i));
  else
    idle = CostFigure::Unknown("W", t.id + " has no " + idle_field + " in the catalog; give --idle-power-w");
}

// a + b when both are known (an accelerator and its host), else the first unknown one.
CostFigure TcoSumFigures(const CostFigure& a, const CostFigure& b) {
  if (!a.known()) return a;
  if (!b.known()) return b;
  return CostFigure::Known(*a.value + *b.value, a.unit, CostOrigin::kCatalog, a.basis + " + host: " + b.basis);
}

void TcoCheckNonNegative(const CostFigure& f, const char* flag, std::string& problems) {
  if (!f.known()) return;
  if (!std::isfinite(*f.value) || *f.value < 0) problems += std::string(problems.empty() ? "" : "; ") + flag + " must be >= 0, got " + TcoNum(*f.value);
}

void TcoCheckShare(const CostFigure& f, const char* flag, std::string& problems) {
  if (!f.known()) return;
  if (!std::isfinite(*f.value) || *f.value < 0 || *f.value > 1)
    problems += std::string(problems.empty() ? "" : "; ") + flag + " must be within [0, 1], got " + TcoNum(*f.value);
}

}  // namespace

std::string_view CostOriginName(CostOrigin o) {
  switch (o) {
    case CostOrigin::kDefault: return "default";
    case CostOrigin::kFlag: return "flag";
    case CostOrigin::kCatalog: return "catalog";
    case CostOrigin::kFile: return "file";
    case CostOrigin::kMeasured: return "measured";
    case CostOrigin::kUnknown: break;
  }
  return "unknown";
}

CostDefaults DefaultCostAssumptions() {
  CostDefaults d;
  d.electricity_usd_per_kwh = CostFigure::Known(
      0.1545, "USD/kWh", CostOrigin::kDefault,
      "U.S. average residential retail price, January 2024: 15.45 cents/kWh (EIA Electricity Monthly Update, End Use, "
      "https://www.eia.gov/electricity/monthly/update/end-use.php)");
  d.data_usd_per_mb = CostFigure::Known(
      0.03, "USD/MB", CostOrigin::kDefault,
      "Hologram pay-as-you-go cellular data at $0.03 per MB (plus $1 per SIM per month, not counted) "
      "(https://codeables.dev/article/hologram-pricing-what-would-2gb-month-across-1-000-sims-cost-with-1)");
  d.labor_usd_per_hour = CostFigure::Known(
      32.32, "USD/h", CostOrigin::kDefault,
      "median pay of electrical and electronics installers and repairers, May 2023: $32.32 per hour, wage only "
      "(BLS Occupational Outlook Handbook, "
      "https://www.bls.gov/ooh/installation-maintenance-and-repair/electrical-and-electronics-installers-and-repairers.htm)");
  d.failure_rate_per_year = CostFigure::Known(
      0.05, "1/year", CostOrigin::kDefault,
      "5% of laptops failed from malfunctions in their first year (SquareTrade, 30,000 laptops, Nov 2009, "
      "https://evertiq.com/news/15584); a proxy: no public field failure rate of edge boards was found");
  d.replacement_visit_usd = CostFigure::Known(
      150, "USD", CostOrigin::kDefault,
      "a service visit (truck roll) 'can easily exceed $150' (ihiji, http://www.ihiji.com/whats-it-really-cost-to-roll-a-truck/)");
  d.updates_per_year = CostFigure::Known(
      12, "1/year", CostOrigin::kDefault,
      "monthly, the cadence of the Android Security Bulletins, one a month "
      "(https://source.android.com/docs/security/bulletin)");
  return d;
}

Expected<TargetCostFigures> TargetFiguresFromCatalog(const HardwareCatalog& catalog, const std::string& target_id) {
  Expected<const Target*> found = catalog.FindTarget(target_id);
  if (!found) return found.error();
  const Target& t = *found.value();
  TargetCostFigures out;
  out.id = t.id;
  out.name = t.name;
  out.kind = t.kind;

  // The system price (accelerator + host) where the catalog has one, as `outpost plan` does.
  if (t.cost_system_usd && t.cost_system_usd->si())
    out.unit_cost_usd = CostFigure::Known(*t.cost_system_usd->si(), "USD", CostOrigin::kCatalog,
                                          TcoCatalogBasis(catalog, t.id, "cost.system_usd", *t.cost_system_usd));
  else if (t.cost_usd.si())
    out.unit_cost_usd = CostFigure::Known(*t.cost_usd.si(), "USD", CostOrigin::kCatalog, TcoCatalogBasis(catalog, t.id, "cost.usd", t.cost_usd));
  else
    out.unit_cost_usd = CostFigure::Unknown(
        "USD", t.id + " has no unit cost in the catalog" + (t.cost_usd.note.empty() ? "" : " (" + t.cost_usd.note + ")") + "; give --unit-cost");

  TcoOwnPower(catalog, t, out.active_power_w, out.idle_power_w);
  if (!t.host_target.empty()) {
    Expected<const Target*> host = catalog.FindTarget(t.host_target);
    if (!host) return host.error();
    CostFigure host_active, host_idle;
    TcoOwnPower(catalog, *host.value(), host_active, host_idle);
    out.active_power_w = TcoSumFigures(out.active_power_w, host_active);
    out.idle_power_w = TcoSumFigures(out.idle_power_w, host_idle);
  }
  return out;
}

Expected<Unit> ValidateCostInputs(const CostInputs& in) {
  std::string problems;
  auto add = [&](const std::string& p) { problems += (problems.empty() ? "" : "; ") + p; };
  if (in.devices < 1) add("--devices must be at least 1, got " + std::to_string(in.devices));
  if (!std::isfinite(in.years) || in.years <= 0) add("--years must be > 0, got " + TcoNum(in.years));
  if (!std::isfinite(in.duty_cycle) || in.duty_cycle <= 0 || in.duty_cycle > 1)
    add("--duty-cycle must be within (0, 1], got " + TcoNum(in.duty_cycle));
  TcoCheckNonNegative(in.unit_cost_usd, "--unit-cost", problems);
  TcoCheckNonNegative(in.install_usd, "--install-cost", problems);
  TcoCheckNonNegative(in.active_power_w, "--power-w", problems);
  TcoCheckNonNegative(in.idle_power_w, "--idle-power-w", problems);
  TcoCheckNonNegative(in.electricity_usd_per_kwh, "--electricity-usd-per-kwh", problems);
  TcoCheckNonNegative(in.telemetry_bytes_per_day, "--telemetry-bytes-per-day", problems);
  TcoCheckNonNegative(in.poll_bytes_per_day, "--poll-bytes-per-day", problems);
  TcoCheckNonNegative(in.updates_per_year, "--updates-per-year", problems);
  TcoCheckNonNegative(in.package_bytes, "--package-bytes", problems);
  TcoCheckNonNegative(in.delta_bytes, "--delta-bytes", problems);
  TcoCheckNonNegative(in.data_usd_per_mb, "--data-usd-per-mb", problems);
  TcoCheckNonNegative(in.maintenance_hours_per_year, "--maintenance-hours", problems);
  TcoCheckNonNegative(in.labor_usd_per_hour, "--labor-usd-per-hour", problems);
  TcoCheckNonNegative(in.replacement_visit_usd, "--replacement-visit-usd", problems);
  TcoCheckShare(in.failure_rate_per_year, "--failure-rate", problems);
  TcoCheckShare(in.event_share, "--event-share", problems);
  for (const std::optional<double>& m : {in.measured_package_bytes_per_day, in.measured_delta_bytes_per_day})
    if (m && (!std::isfinite(*m) || *m < 0)) add("measured OTA bytes per day must be >= 0, got " + TcoNum(*m));
  if (in.active_power_w.known() && in.idle_power_w.known() && *in.idle_power_w.value > *in.active_power_w.value)
    add("idle power " + TcoNum(*in.idle_power_w.value) + " W exceeds active power " + TcoNum(*in.active_power_w.value) + " W");
  if (in.delta_updates && !in.delta_bytes.known() && !in.measured_delta_bytes_per_day)
    add("delta updates need the delta's size (--delta FILE or --delta-bytes)");
  if (!problems.empty()) return Error(problems);
  return Unit{};
}

Expected<CostReport> ComputeCostOfOwnership(const CostInputs& in) {
  if (Expected<Unit> ok = ValidateCostInputs(in); !ok) return ok.error();
  CostReport r;
  auto price_mb = [&](double mb) { return mb * *in.data_usd_per_mb.value; };

  // Hardware: the purchase (and installation) spread over the service life.
  {
    CostLine l{"hardware", std::nullopt, ""};
    if (in.unit_cost_usd.known()) {
      const double install = in.install_usd.value.value_or(0);
      l.usd_per_device_year = (*in.unit_cost_usd.value + install) / in.years;
      l.detail = "(" + TcoUsd(*in.unit_cost_usd.value) + " unit + " + TcoUsd(install) + " install) / " + TcoNum(in.years) + " years";
    } else {
      l.detail = "unknown: " + in.unit_cost_usd.basis;
    }
    r.lines.push_back(l);
  }

  // Energy: average power over the year. The idle share only matters below a duty cycle of 1.
  const bool needs_idle = in.duty_cycle < 1;
  std::optional<double> always_on_kwh;
  {
    CostLine l{"energy", std::nullopt, ""};
    if (!in.active_power_w.known()) {
      l.detail = "unknown: " + in.active_power_w.basis;
    } else if (!in.electricity_usd_per_kwh.known()) {
      l.detail = "unknown: no electricity price";
    } else {
      const double active = *in.active_power_w.value;
      always_on_kwh = active * kHoursPerYear / 1000;
      if (needs_idle && !in.idle_power_w.known()) {
        l.detail = "unknown: duty cycle " + TcoNum(in.duty_cycle) + " needs the idle power: " + in.idle_power_w.basis;
      } else {
        const double idle = needs_idle ? *in.idle_power_w.value : 0;
        const double avg_w = in.duty_cycle * active + (1 - in.duty_cycle) * idle;
        r.energy_kwh_per_year = avg_w * kHoursPerYear / 1000;
        l.usd_per_device_year = *r.energy_kwh_per_year * *in.electricity_usd_per_kwh.value;
        l.detail = (needs_idle ? "(" + TcoNum(in.duty_cycle) + " x " + TcoNum(active) + " W + " + TcoNum(1 - in.duty_cycle) + " x " +
                                     TcoNum(idle) + " W)"
                               : TcoNum(active) + " W") +
                   " x 8760 h = " + TcoNum(*r.energy_kwh_per_year) + " kWh x $" + TcoNum(*in.electricity_usd_per_kwh.value) + "/kWh";
      }
    }
    r.lines.push_back(l);
  }

  // Connectivity: telemetry, polls and OTA bytes, priced per MB.
  std::optional<double> updates = in.updates_per_year.value;
  {
    CostLine l{"connectivity", std::nullopt, ""};
    std::string missing;
    if (in.telemetry_bytes_per_day.known()) r.telemetry_mb_per_year = *in.telemetry_bytes_per_day.value * 365 / kBytesPerMb;
    else missing += "telemetry bytes (" + in.telemetry_bytes_per_day.basis + ")";
    if (in.poll_bytes_per_day.known()) r.poll_mb_per_year = *in.poll_bytes_per_day.value * 365 / kBytesPerMb;
    else missing += std::string(missing.empty() ? "" : ", ") + "poll bytes (" + in.poll_bytes_per_day.basis + ")";
    std::string ota_how;
    if (in.measured_package_bytes_per_day || in.measured_delta_bytes_per_day) {
      const double per_day = in.measured_package_bytes_per_day.value_or(0) + in.measured_delta_bytes_per_day.value_or(0);
      r.ota_mb_per_year = per_day * 365 / kBytesPerMb;
      ota_how = "OTA " + TcoNum(*r.ota_mb_per_year) + " MB (measured)";
    } else {
      const CostFigure& size = in.delta_updates ? in.delta_bytes : in.package_bytes;
      if (updates && size.known()) {
        r.ota_mb_per_year = *updates * *size.value / kBytesPerMb;
        ota_how = "OTA " + TcoNum(*updates) + " x " + TcoNum(*size.value / kBytesPerMb) + " MB " + (in.delta_updates ? "delta" : "package");
      } else {
        missing += std::string(missing.empty() ? "" : ", ") +
                   (in.delta_updates ? "the delta's size (--delta FILE)" : "the package's size (--package FILE)");
      }
    }
    if (!in.data_usd_per_mb.known()) missing += std::string(missing.empty() ? "" : ", ") + "the data price";
    if (!missing.empty()) {
      l.detail = "unknown: needs " + missing;
    } else {
      const double mb = *r.telemetry_mb_per_year + *r.poll_mb_per_year + *r.ota_mb_per_year;
      l.usd_per_device_year = price_mb(mb);
      l.detail = "(telemetry " + TcoNum(*r.telemetry_mb_per_year) + " + poll " + TcoNum(*r.poll_mb_per_year) + " + " + ota_how +
                 ") MB/year x $" + TcoNum(*in.data_usd_per_mb.value) + "/MB";
    }
    r.lines.push_back(l);
  }

  // Maintenance: routine hours per device per year.
  {
    CostLine l{"maintenance", std::nullopt, ""};
    if (!in.maintenance_hours_per_year.known()) l.detail = "unknown: " + in.maintenance_hours_per_year.basis;
    else if (!in.labor_usd_per_hour.known()) l.detail = "unknown: no labour rate";
    else {
      l.usd_per_device_year = *in.maintenance_hours_per_year.value * *in.labor_usd_per_hour.value;
      l.detail = TcoNum(*in.maintenance_hours_per_year.value) + " h x $" + TcoNum(*in.labor_usd_per_hour.value) + "/h";
    }
    r.lines.push_back(l);
  }

  // Replacement: the expected share of devices that fail each year, each a new unit and a visit.
  {
    CostLine l{"replacement", std::nullopt, ""};
    if (!in.unit_cost_usd.known()) l.detail = "unknown: " + in.unit_cost_usd.basis;
    else if (!in.failure_rate_per_year.known() || !in.replacement_visit_usd.known()) l.detail = "unknown: no failure rate or visit cost";
    else {
      l.usd_per_device_year = *in.failure_rate_per_year.value * (*in.unit_cost_usd.value + *in.replacement_visit_usd.value);
      l.detail = TcoNum(*in.failure_rate_per_year.value) + "/year x (" + TcoUsd(*in.unit_cost_usd.value) + " unit + " +
                 TcoUsd(*in.replacement_visit_usd.value) + " visit)";
    }
    r.lines.push_back(l);
  }

  for (const CostLine& l : r.lines) {
    if (l.usd_per_device_year) r.known_usd_per_device_year += *l.usd_per_device_year;
    else r.unknown_items.push_back(l.item);
  }
  r.fleet_usd_per_year = r.known_usd_per_device_year * static_cast<double>(in.devices);
  r.fleet_usd_over_life = r.fleet_usd_per_year * in.years;

  // Savings, per device per year.
  {
    Saving s{"delta updates vs full packages", std::nullopt, ""};
    if (!in.package_bytes.known() || !in.delta_bytes.known()) {
      s.detail = "unknown: needs the package's and the delta's sizes (--package FILE --delta FILE)";
    } else if (!updates) {
      s.detail = "unknown: no update count";
    } else if (!in.data_usd_per_mb.known()) {
      s.detail = "unknown: no data price";
    } else {
      const double saved_mb = *updates * (*in.package_bytes.value - *in.delta_bytes.value) / kBytesPerMb;
      s.usd_per_device_year = price_mb(saved_mb);
      s.detail = TcoNum(*updates) + " updates/year x (" + TcoNum(*in.package_bytes.value / kBytesPerMb) + " - " +
                 TcoNum(*in.delta_bytes.value / kBytesPerMb) + ") MB x $" + TcoNum(*in.data_usd_per_mb.value) + "/MB";
      if (*in.delta_bytes.value > *in.package_bytes.value) s.detail += " (the delta is larger than the package: send the package)";
    }
    r.savings.push_back(s);
  }
  {
    Saving s{"event-only uplink vs periodic telemetry", std::nullopt, ""};
    if (!r.telemetry_mb_per_year) s.detail = "unknown: no telemetry bytes";
    else if (!in.event_share.known()) s.detail = "unknown: " + in.event_share.basis;
    else if (!in.data_usd_per_mb.known()) s.detail = "unknown: no data price";
    else {
      s.usd_per_device_year = price_mb(*r.telemetry_mb_per_year * (1 - *in.event_share.value));
      s.detail = TcoNum(*r.telemetry_mb_per_year) + " MB/year x (1 - " + TcoNum(*in.event_share.value) + " kept) x $" +
                 TcoNum(*in.data_usd_per_mb.value) + "/MB";
    }
    r.savings.push_back(s);
  }
  {
    Saving s{"duty cycling vs always on", std::nullopt, ""};
    if (!in.active_power_w.known() || !in.electricity_usd_per_kwh.known()) s.detail = "unknown: no active power or electricity price";
    else if (in.duty_cycle >= 1) s.detail = "not computed: --duty-cycle is 1 (always on); give the active share to price it";
    else if (!r.energy_kwh_per_year) s.detail = "unknown: " + in.idle_power_w.basis;
    else {
      s.usd_per_device_year = (*always_on_kwh - *r.energy_kwh_per_year) * *in.electricity_usd_per_kwh.value;
      s.detail = "(" + TcoNum(*always_on_kwh) + " - " + TcoNum(*r.energy_kwh_per_year) + ") kWh x $" +
                 TcoNum(*in.electricity_usd_per_kwh.value) + "/kWh";
    }
    r.savings.push_back(s);
  }
  return r;
}

}  // namespace outpost::advisor
