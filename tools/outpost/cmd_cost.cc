// outpost cost: total cost of ownership per device per year and for a fleet, with what each
// saving is worth (docs/advisor.md, "Cost of ownership"). The arithmetic is
// advisor/tco/cost_of_ownership.h; this file reads the catalog, the package and delta files and,
// with --fleet-db, the bytes the fleet server recorded, and prints the result.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "advisor/catalog/hardware_catalog.h"
#include "advisor/tco/cost_of_ownership.h"
#include "agent/daemon/agent_config.h"
#include "agent/telemetry/device_metrics.h"
#include "fleet/store/fleet_store.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace outpost::cli {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

struct CostArgs {
  std::string target;
  int64_t devices = 0;
  double years = 0;
  double duty_cycle = 1.0;
  std::optional<double> unit_cost, install_cost, power_w, idle_power_w;
  std::optional<double> electricity, data_price, labor_rate, failure_rate, visit_cost, updates, maintenance_hours;
  std::optional<double> telemetry_bytes_per_day, poll_bytes_per_day, event_share;
  std::optional<double> package_bytes, delta_bytes;
  std::string package_file, delta_file;
  bool delta_updates = false;
  std::string fleet_db;
  std::string catalog_dir;
  bool json = false;
};

// What the fleet database says about the traffic, per device per day, over the whole UTC days
// its transfers cover.
struct FleetTraffic {
  int64_t since_ms = 0, until_ms = 0;
  double days = 0;
  int64_t devices = 0;   // devices with at least one transfer in the window
  int64_t enrolled = 0;  // all enrolled devices
  std::map<std::string, double> bytes_per_device_day;  // by kind
  int64_t records = 0, event_records = 0;
  int64_t record_bytes = 0, event_record_bytes = 0;
  std::map<std::string, int64_t> transfers;  // how many, by kind
  std::map<std::string, int64_t> bytes;      // how many bytes, by kind
  // At least a whole day recorded: the rates (bytes a day, updates a year) are measured. A
  // shorter window (a trial, a demo with compressed periods) measures only the size of each
  // message; how often they are sent then comes from the agent's periods.
  bool whole_days = false;
};

template <typename T>
T StoreMust(Expected<T> e, const std::string& what) {
  if (!e.ok()) throw Error("fleet database: " + what + ": " + e.message());
  return std::move(e).value();
}

// A record "carries something" when it holds update events or inference errors: what an
// event-only uplink would still send.
bool RecordCarriesEvents(const std::string& body_json, int64_t errors) {
  if (errors > 0) return true;
  const nlohmann::json j = nlohmann::json::parse(body_json, nullptr, false);
  if (!j.is_object()) return false;
  const auto it = j.find("events");
  return it != j.end() && it->is_array() && !it->empty();
}

FleetTraffic ReadFleetTraffic(const std::string& url) {
  std::unique_ptr<fleet::FleetStore> store = StoreMust(fleet::FleetStore::Open(url, 2), "opening " + url);
  FleetTraffic t;
  const fleet::SqlResult span = StoreMust(store->db().Execute("SELECT MIN(time_ms), MAX(time_ms) FROM transfers"), "reading transfers");
  if (span.rows.empty() || span.rows[0].is_null(0)) throw Error("fleet database " + url + " has no recorded transfers to measure");
  const int64_t first = span.rows[0].integer(0), last = span.rows[0].integer(1);
  t.whole_days = last - first >= kMsPerDay;
  if (t.whole_days) {
    // Whole UTC days: traffic recorded once a day at the same hour covers as many days as it
    // has dates, not the hours between the first and the last record.
    t.since_ms = (first / kMsPerDay) * kMsPerDay;
    t.until_ms = (last / kMsPerDay + 1) * kMsPerDay;
  } else {
    // Less than a day: the span itself; only message sizes are taken from it.
    t.since_ms = first;
    t.until_ms = last + 1;
  }
  t.days = static_cast<double>(t.until_ms - t.since_ms) / static_cast<double>(kMsPerDay);

  const fleet::SqlResult active = StoreMust(
      store->db().Execute("SELECT COUNT(DISTINCT device_id) FROM transfers WHERE time_ms >= ? AND time_ms < ?", {t.since_ms, t.until_ms}),
      "counting devices");
  t.devices = active.rows.empty() ? 0 : active.rows[0].integer(0);
  t.enrolled = StoreMust(store->CountDevices({}), "counting devices");
  const double device_days = static_cast<double>(t.devices) * t.days;
  for (const auto& [kind, bytes] : StoreMust(store->TransferTotals("", t.since_ms, t.until_ms), "reading transfer totals")) {
    t.bytes[kind] = bytes;
    t.bytes_per_device_day[kind] = static_cast<double>(bytes) / device_days;
  }
  const fleet::SqlResult counts = StoreMust(
      store->db().Execute("SELECT kind, COUNT(*) FROM transfers WHERE time_ms >= ? AND time_ms < ? GROUP BY kind", {t.since_ms, t.until_ms}),
      "counting transfers");
  for (const fleet::SqlRow& row : counts.rows) t.transfers[row.text(0)] = row.integer(1);

  const fleet::SqlResult records = StoreMust(
      store->db().Execute("SELECT body_json, errors FROM telemetry WHERE time_ms >= ? AND time_ms < ?", {t.since_ms, t.until_ms}),
      "reading telemetry");
  for (const fleet::SqlRow& row : records.rows) {
    const std::string body = row.text(0);
    ++t.records;
    t.record_bytes += static_cast<int64_t>(body.size());
    if (RecordCarriesEvents(body, row.integer(1))) {
      ++t.event_records;
      t.event_record_bytes += static_cast<int64_t>(body.size());
    }
  }
  return t;
}

// Bytes a day of the agent's periodic messages when nothing was measured: one telemetry record
// as the agent builds it, in a batch of one, every report period; one poll exchange of a device
// running its desired version every poll period. Payload only, as the fleet server counts it.
struct AgentTrafficEstimate {
  double telemetry_batch_bytes = 0, poll_exchange_bytes = 0;
  double telemetry_per_day = 0, poll_per_day = 0;
  int64_t report_ms = 0, poll_ms = 0;
};

AgentTrafficEstimate EstimateAgentTraffic() {
  agent::DeviceMetricsOptions options;
  options.thermal_root = "/nonexistent";  // no temperature: its presence depends on the build host
  agent::DeviceMetrics metrics(0, options);
  // A 10 s period with 100 inferences between 1 and 20 ms.
  for (int i = 0; i < 100; ++i) metrics.RecordInference(1.0 * std::pow(20.0, i / 99.0), true);
  agent::PeriodContext context;
  context.model = "model";
  context.version = "1.0.0";
  context.arena_bytes = 262144;
  nlohmann::json record = metrics.EndPeriod(10'000, context);
  record["seq"] = 1;
  const nlohmann::json batch = {{"records", nlohmann::json::array({record})}};
  const nlohmann::json poll_request = {{"model", "model"}, {"version", "1.0.0"}, {"status", {{"update_state", "idle"}}}};
  const std::string digest(64, '0');
  const nlohmann::json poll_answer = {
      {"desired", {{"model", "model"}, {"version", "1.0.0"}, {"digest", digest}, {"size", 1000000}, {"url", "/v1/artifacts/" + digest}}}};
  const agent::AgentPeriods periods;
  AgentTrafficEstimate e;
  e.report_ms = periods.report_ms;
  e.poll_ms = periods.poll_ms;
  e.telemetry_batch_bytes = static_cast<double>(batch.dump().size());
  e.poll_exchange_bytes = static_cast<double>(poll_request.dump().size() + poll_answer.dump().size());
  e.telemetry_per_day = e.telemetry_batch_bytes * static_cast<double>(kMsPerDay / periods.report_ms);
  e.poll_per_day = e.poll_exchange_bytes * static_cast<double>(kMsPerDay / periods.poll_ms);
  return e;
}

advisor::CostFigure FromFlag(const std::optional<double>& v, const std::string& unit, const std::string& flag) {
  return advisor::CostFigure::Known(*v, unit, advisor::CostOrigin::kFlag, "given: " + flag);
}

// The flag's value when given, else the fallback.
advisor::CostFigure Pick(const std::optional<double>& flag_value, const std::string& flag, const advisor::CostFigure& fallback) {
  return flag_value ? FromFlag(flag_value, fallback.unit, flag) : fallback;
}

advisor::CostFigure FileSize(const std::string& path, const std::string& flag) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw UsageError(flag + ": cannot read '" + path + "': " + ec.message());
  return advisor::CostFigure::Known(static_cast<double>(size), "B", advisor::CostOrigin::kFile, "size of " + path);
}

std::string Fmt(double v, const char* f = "%.2f") {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string Money(const std::optional<double>& v) { return v ? Fmt(*v) : "unknown"; }

nlohmann::json MoneyJson(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json FigureJson(const std::string& name, const advisor::CostFigure& f) {
  return {{"name", name}, {"value", MoneyJson(f.value)}, {"unit", f.unit}, {"origin", advisor::CostOriginName(f.origin)}, {"basis", f.basis}};
}

void RunCost(const CostArgs& a) {
  if (a.devices < 1) throw UsageError("--devices must be at least 1");
  if (!(a.years > 0)) throw UsageError("--years must be > 0");
  if (!a.package_file.empty() && a.package_bytes) throw UsageError("give --package or --package-bytes, not both");
  if (!a.delta_file.empty() && a.delta_bytes) throw UsageError("give --delta or --delta-bytes, not both");

  const std::string dir = a.catalog_dir.empty() ? advisor::DefaultCatalogDir() : a.catalog_dir;
  const advisor::HardwareCatalog catalog = Must(advisor::LoadHardwareCatalog(dir + "/hardware.json"));
  Expected<advisor::TargetCostFigures> found = advisor::TargetFiguresFromCatalog(catalog, a.target);
  if (!found) throw UsageError(found.message());
  const advisor::TargetCostFigures& tf = found.value();
  const advisor::CostDefaults defaults = advisor::DefaultCostAssumptions();

  advisor::CostInputs in;
  in.devices = a.devices;
  in.years = a.years;
  in.duty_cycle = a.duty_cycle;
  in.unit_cost_usd = Pick(a.unit_cost, "--unit-cost", tf.unit_cost_usd);
  in.install_usd = a.install_cost ? FromFlag(a.install_cost, "USD", "--install-cost")
                                  : advisor::CostFigure::Known(0, "USD", advisor::CostOrigin::kDefault, "none unless --install-cost");
  in.active_power_w = Pick(a.power_w, "--power-w", tf.active_power_w);
  in.idle_power_w = Pick(a.idle_power_w, "--idle-power-w", tf.idle_power_w);
  in.electricity_usd_per_kwh = Pick(a.electricity, "--electricity-usd-per-kwh", defaults.electricity_usd_per_kwh);
  in.data_usd_per_mb = Pick(a.data_price, "--data-usd-per-mb", defaults.data_usd_per_mb);
  in.labor_usd_per_hour = Pick(a.labor_rate, "--labor-usd-per-hour", defaults.labor_usd_per_hour);
  in.failure_rate_per_year = Pick(a.failure_rate, "--failure-rate", defaults.failure_rate_per_year);
  in.replacement_visit_usd = Pick(a.visit_cost, "--replacement-visit-usd", defaults.replacement_visit_usd);
  in.updates_per_year = Pick(a.updates, "--updates-per-year", defaults.updates_per_year);
  in.maintenance_hours_per_year =
      Pick(a.maintenance_hours, "--maintenance-hours",
           advisor::CostFigure::Unknown("h/year", "no public figure for routine hours per device was found; give --maintenance-hours"));
  in.delta_updates = a.delta_updates;

  // Traffic: measured when a fleet database is given, else the agent's default periods.
  std::optional<FleetTraffic> measured;
  // Opening a SQLite path creates the database: a mistyped path must not measure an empty fleet.
  if (a.fleet_db.rfind("sqlite:", 0) == 0 && a.fleet_db != "sqlite::memory:" && !std::filesystem::exists(a.fleet_db.substr(7)))
    throw UsageError("--fleet-db: no database at '" + a.fleet_db.substr(7) + "'");
  if (!a.fleet_db.empty()) measured = ReadFleetTraffic(a.fleet_db);
  const AgentTrafficEstimate agent_default = EstimateAgentTraffic();
  if (measured && measured->whole_days) {
    const FleetTraffic& t = *measured;
    const std::string over = "measured: " + Fmt(t.days, "%.4g") + " days, " + std::to_string(t.devices) + " devices";
    auto per_day = [&](const std::string& kind) {
      const auto it = t.bytes_per_device_day.find(kind);
      return it == t.bytes_per_device_day.end() ? 0.0 : it->second;
    };
    in.telemetry_bytes_per_day = advisor::CostFigure::Known(per_day("telemetry"), "B/day", advisor::CostOrigin::kMeasured, over);
    in.poll_bytes_per_day = advisor::CostFigure::Known(per_day("poll"), "B/day", advisor::CostOrigin::kMeasured, over);
    // No download in the window says nothing about how often updates come: then the update
    // count and size are used, as without measurement.
    if (per_day("package") > 0 || per_day("delta") > 0) {
      in.measured_package_bytes_per_day = per_day("package");
      in.measured_delta_bytes_per_day = per_day("delta");
    }
  } else if (measured) {
    // Less than a day: a yearly figure scaled from minutes would multiply the trial's own
    // periods (a demo reports every half second) by the size of a year. The sizes are real;
    // the rates are the agent's default periods.
    const FleetTraffic& t = *measured;
    const std::string span = Fmt(static_cast<double>(t.until_ms - t.since_ms) / 1000.0, "%.4g") + " s";
    auto mean = [&](const std::string& kind, int64_t count) -> std::optional<double> {
      const auto b = t.bytes.find(kind);
      if (b == t.bytes.end() || count <= 0) return std::nullopt;
      return static_cast<double>(b->second) / static_cast<double>(count);
    };
    // Telemetry per record (an upload may batch several), polls per exchange.
    const auto polls = t.transfers.find("poll");
    const std::optional<double> per_record = mean("telemetry", t.records);
    const std::optional<double> per_poll = mean("poll", polls == t.transfers.end() ? 0 : polls->second);
    const double records_a_day = static_cast<double>(kMsPerDay / agent_default.report_ms);
    const double polls_a_day = static_cast<double>(kMsPerDay / agent_default.poll_ms);
    in.telemetry_bytes_per_day =
        per_record ? advisor::CostFigure::Known(*per_record * records_a_day, "B/day", advisor::CostOrigin::kMeasured,
                                                "measured size, default rate: " + Fmt(*per_record, "%.0f") + " B per record (" +
                                                    std::to_string(t.records) + " records over " + span + ", less than a day) every " +
                                                    std::to_string(agent_default.report_ms / 1000) + " s (agent default periods_ms.report)")
                   : advisor::CostFigure::Unknown("B/day", "no telemetry recorded in " + span + "; give --telemetry-bytes-per-day");
    in.poll_bytes_per_day =
        per_poll ? advisor::CostFigure::Known(*per_poll * polls_a_day, "B/day", advisor::CostOrigin::kMeasured,
                                              "measured size, default rate: " + Fmt(*per_poll, "%.0f") + " B per poll exchange (" +
                                                  std::to_string(polls->second) + " over " + span + ", less than a day) every " +
                                                  std::to_string(agent_default.poll_ms / 1000) + " s (agent default periods_ms.poll)")
                 : advisor::CostFigure::Unknown("B/day", "no poll recorded in " + span + "; give --poll-bytes-per-day");
  }
  if (measured) {
    const FleetTraffic& t = *measured;
    const std::string over = "measured: " + Fmt(t.days, "%.4g") + " days, " + std::to_string(t.devices) + " devices";
    if (t.records > 0)
      in.event_share = advisor::CostFigure::Known(
          static_cast<double>(t.event_record_bytes) / static_cast<double>(t.record_bytes), "share", advisor::CostOrigin::kMeasured,
          over + ": " + std::to_string(t.event_records) + " of " + std::to_string(t.records) +
              " telemetry records carry update events or inference errors (share of their bytes)");
    else
      in.event_share = advisor::CostFigure::Unknown("share", "no telemetry records in the measured window; give --event-share");
  } else {
    const AgentTrafficEstimate& e = agent_default;
    in.telemetry_bytes_per_day = advisor::CostFigure::Known(
        e.telemetry_per_day, "B/day", advisor::CostOrigin::kDefault,
        "not measured: one agent telemetry batch of one record (" + Fmt(e.telemetry_batch_bytes, "%.0f") + " B, built here as the agent builds it) every " +
            std::to_string(e.report_ms / 1000) + " s (agent default periods_ms.report); HTTP and TLS overhead not counted");
    in.poll_bytes_per_day = advisor::CostFigure::Known(
        e.poll_per_day, "B/day", advisor::CostOrigin::kDefault,
        "not measured: one poll request and answer (" + Fmt(e.poll_exchange_bytes, "%.0f") + " B) every " + std::to_string(e.poll_ms / 1000) +
            " s (agent default periods_ms.poll); HTTP and TLS overhead not counted");
    in.event_share = advisor::CostFigure::Unknown("share", "not measured: give --fleet-db (records carrying events) or --event-share");
  }
  if (a.telemetry_bytes_per_day) in.telemetry_bytes_per_day = FromFlag(a.telemetry_bytes_per_day, "B/day", "--telemetry-bytes-per-day");
  if (a.poll_bytes_per_day) in.poll_bytes_per_day = FromFlag(a.poll_bytes_per_day, "B/day", "--poll-bytes-per-day");
  if (a.event_share) in.event_share = FromFlag(a.event_share, "share", "--event-share");

  // Update sizes: files, flags, else the mean download of that kind the fleet recorded (a
  // resumed download counts as two).
  auto measured_mean = [&](const std::string& kind) -> std::optional<advisor::CostFigure> {
    if (!measured) return std::nullopt;
    const auto n = measured->transfers.find(kind);
    if (n == measured->transfers.end() || n->second == 0) return std::nullopt;
    const double per_download = static_cast<double>(measured->bytes.at(kind)) / static_cast<double>(n->second);
    return advisor::CostFigure::Known(per_download, "B", advisor::CostOrigin::kMeasured,
                                      "measured: mean of " + std::to_string(n->second) + " " + kind + " download(s)");
  };
  if (!a.package_file.empty()) in.package_bytes = FileSize(a.package_file, "--package");
  else if (a.package_bytes) in.package_bytes = FromFlag(a.package_bytes, "B", "--package-bytes");
  else if (auto m = measured_mean("package")) in.package_bytes = *m;
  else in.package_bytes = advisor::CostFigure::Unknown("B", "no package size: give --package FILE");
  if (!a.delta_file.empty()) in.delta_bytes = FileSize(a.delta_file, "--delta");
  else if (a.delta_bytes) in.delta_bytes = FromFlag(a.delta_bytes, "B", "--delta-bytes");
  else if (auto m = measured_mean("delta")) in.delta_bytes = *m;
  else in.delta_bytes = advisor::CostFigure::Unknown("B", "no delta size: give --delta FILE");

  // With measured downloads, the update count is their number per device-year.
  if (in.measured_package_bytes_per_day && !a.updates) {
    int64_t downloads = 0;
    for (const char* kind : {"package", "delta"})
      if (const auto it = measured->transfers.find(kind); it != measured->transfers.end()) downloads += it->second;
    in.updates_per_year = advisor::CostFigure::Known(
        static_cast<double>(downloads) / (static_cast<double>(measured->devices) * measured->days) * 365, "1/year",
        advisor::CostOrigin::kMeasured, "measured: " + std::to_string(downloads) + " package and delta downloads, per device-year");
  }

  if (Expected<Unit> ok = advisor::ValidateCostInputs(in); !ok) throw UsageError(ok.message());
  const advisor::CostReport report = Must(advisor::ComputeCostOfOwnership(in));

  const std::vector<std::pair<std::string, const advisor::CostFigure*>> figures = {
      {"unit_cost_usd", &in.unit_cost_usd},
      {"install_usd", &in.install_usd},
      {"active_power_w", &in.active_power_w},
      {"idle_power_w", &in.idle_power_w},
      {"electricity_usd_per_kwh", &in.electricity_usd_per_kwh},
      {"telemetry_bytes_per_day", &in.telemetry_bytes_per_day},
      {"poll_bytes_per_day", &in.poll_bytes_per_day},
      {"updates_per_year", &in.updates_per_year},
      {"package_bytes", &in.package_bytes},
      {"delta_bytes", &in.delta_bytes},
      {"event_share", &in.event_share},
      {"data_usd_per_mb", &in.data_usd_per_mb},
      {"maintenance_hours_per_year", &in.maintenance_hours_per_year},
      {"labor_usd_per_hour", &in.labor_usd_per_hour},
      {"failure_rate_per_year", &in.failure_rate_per_year},
      {"replacement_visit_usd", &in.replacement_visit_usd},
  };
  const double devices = static_cast<double>(a.devices);
  auto fleet_year = [&](const std::optional<double>& v) -> std::optional<double> {
    if (!v) return std::nullopt;
    return *v * devices;
  };
  auto fleet_life = [&](const std::optional<double>& v) -> std::optional<double> {
    if (!v) return std::nullopt;
    return *v * devices * a.years;
  };

  if (a.json) {
    nlohmann::json j;
    j["target"] = {{"id", tf.id}, {"name", tf.name}, {"kind", tf.kind}};
    j["devices"] = a.devices;
    j["years"] = a.years;
    j["duty_cycle"] = a.duty_cycle;
    j["delta_updates"] = a.delta_updates;
    if (measured) {
      nlohmann::json per_day = nlohmann::json::object();
      for (const auto& [kind, bytes] : measured->bytes_per_device_day) per_day[kind] = bytes;
      j["measured"] = {{"source", a.fleet_db},
                       {"days", measured->days},
                       {"devices", measured->devices},
                       {"enrolled_devices", measured->enrolled},
                       {"since_ms", measured->since_ms},
                       {"until_ms", measured->until_ms},
                       {"whole_days", measured->whole_days},
                       {"bytes", measured->bytes},
                       // Only a window of whole days measures rates.
                       {"bytes_per_device_per_day", measured->whole_days ? per_day : nlohmann::json(nullptr)},
                       {"transfers", measured->transfers},
                       {"telemetry_records", measured->records},
                       {"event_records", measured->event_records}};
    } else {
      j["measured"] = nullptr;
    }
    nlohmann::json figs = nlohmann::json::array();
    for (const auto& [name, f] : figures) figs.push_back(FigureJson(name, *f));
    j["figures"] = figs;
    nlohmann::json lines = nlohmann::json::array();
    for (const advisor::CostLine& l : report.lines)
      lines.push_back({{"item", l.item},
                       {"usd_per_device_year", MoneyJson(l.usd_per_device_year)},
                       {"fleet_usd_per_year", MoneyJson(fleet_year(l.usd_per_device_year))},
                       {"fleet_usd_over_life", MoneyJson(fleet_life(l.usd_per_device_year))},
                       {"detail", l.detail}});
    j["lines"] = lines;
    j["total"] = {{"usd_per_device_year", report.known_usd_per_device_year},
                  {"fleet_usd_per_year", report.fleet_usd_per_year},
                  {"fleet_usd_over_life", report.fleet_usd_over_life},
                  {"excludes", report.unknown_items}};
    j["connectivity_mb_per_device_year"] = {{"telemetry", MoneyJson(report.telemetry_mb_per_year)},
                                            {"poll", MoneyJson(report.poll_mb_per_year)},
                                            {"ota", MoneyJson(report.ota_mb_per_year)}};
    j["energy_kwh_per_device_year"] = MoneyJson(report.energy_kwh_per_year);
    nlohmann::json savings = nlohmann::json::array();
    for (const advisor::Saving& s : report.savings)
      savings.push_back({{"name", s.name},
                         {"usd_per_device_year", MoneyJson(s.usd_per_device_year)},
                         {"fleet_usd_per_year", MoneyJson(fleet_year(s.usd_per_device_year))},
                         {"fleet_usd_over_life", MoneyJson(fleet_life(s.usd_per_device_year))},
                         {"detail", s.detail}});
    j["savings"] = savings;
    std::cout << j.dump(2) << "\n";
    return;
  }

  const std::string life = "fleet " + Fmt(a.years, "%g") + " y";
  std::cout << "cost of ownership: " << tf.id << " (" << tf.name << "), " << a.devices << " devices, " << Fmt(a.years, "%g")
            << " years, duty cycle " << Fmt(a.duty_cycle, "%g") << "\n";
  if (measured)
    std::cout << "traffic measured: " << Fmt(measured->days, "%.4g") << " days, " << measured->devices << " devices (" << measured->enrolled
              << " enrolled) in " << a.fleet_db << (measured->whole_days ? "" : "; less than a day: message sizes measured, rates from the agent's default periods") << "\n\n";
  else
    std::cout << "traffic not measured: the agent's default periods (give --fleet-db to measure)\n\n";
  Table lines({"item", "USD/device/yr", "USD fleet/yr", "USD " + life, "how"}, {false, true, true, true, false});
  for (const advisor::CostLine& l : report.lines)
    lines.AddRow({l.item, Money(l.usd_per_device_year), Money(fleet_year(l.usd_per_device_year)), Money(fleet_life(l.usd_per_device_year)), l.detail});
  std::string excludes;
  for (const std::string& item : report.unknown_items) excludes += (excludes.empty() ? "excludes " : ", ") + item;
  lines.AddRow({"total", Fmt(report.known_usd_per_device_year), Fmt(report.fleet_usd_per_year), Fmt(report.fleet_usd_over_life), excludes});
  lines.Print(std::cout);
  if (report.telemetry_mb_per_year || report.poll_mb_per_year || report.ota_mb_per_year)
    std::cout << "\n  data per device per year: telemetry " << (report.telemetry_mb_per_year ? Fmt(*report.telemetry_mb_per_year, "%.3g") : "?")
              << " MB, poll " << (report.poll_mb_per_year ? Fmt(*report.poll_mb_per_year, "%.3g") : "?") << " MB, OTA "
              << (report.ota_mb_per_year ? Fmt(*report.ota_mb_per_year, "%.3g") : "?") << " MB (1 MB = 10^6 B)\n";

  std::cout << "\nsavings\n";
  Table savings({"saving", "USD/device/yr", "USD fleet/yr", "USD " + life, "how"}, {false, true, true, true, false});
  for (const advisor::Saving& s : report.savings)
    savings.AddRow({s.name, Money(s.usd_per_device_year), Money(fleet_year(s.usd_per_device_year)), Money(fleet_life(s.usd_per_device_year)), s.detail});
  savings.Print(std::cout);

  std::cout << "\nfigures used\n";
  Table figs({"figure", "value", "unit", "from", "basis"}, {false, true, false, false, false});
  for (const auto& [name, f] : figures)
    figs.AddRow({name, f->value ? Fmt(*f->value, "%.6g") : "unknown", f->unit, std::string(advisor::CostOriginName(f->origin)), f->basis});
  figs.Print(std::cout);
}

void AddOptionalCostDouble(CLI::App* app, const std::string& name, std::optional<double>& target, const std::string& help) {
  app->add_option_function<double>(name, [&target](const double& v) { target = v; }, help);
}

}  // namespace

Command AddCostCommand(CLI::App& root) {
  auto args = std::make_shared<CostArgs>();
  CostArgs& a = *args;
  CLI::App* app = root.add_subcommand("cost", "Total cost of ownership per device per year and for a fleet, and what each saving is worth");
  app->add_option("--target", a.target, "Catalog target id (outpost plan lists them)")->required();
  app->add_option("--devices", a.devices, "Number of devices in the fleet")->required();
  app->add_option("--years", a.years, "Years of service")->required();
  app->add_option("--duty-cycle", a.duty_cycle, "Share of the time active, in (0, 1] (default 1); idle power for the rest");
  AddOptionalCostDouble(app, "--unit-cost", a.unit_cost, "Unit cost (USD; default: the catalog's)");
  AddOptionalCostDouble(app, "--install-cost", a.install_cost, "Installation cost per device (USD; default 0)");
  AddOptionalCostDouble(app, "--power-w", a.power_w, "Active power (W; default: the catalog's typical power)");
  AddOptionalCostDouble(app, "--idle-power-w", a.idle_power_w, "Idle power (W; default: the catalog's idle or sleep power)");
  AddOptionalCostDouble(app, "--electricity-usd-per-kwh", a.electricity, "Electricity price (default 0.1545, EIA)");
  AddOptionalCostDouble(app, "--data-usd-per-mb", a.data_price, "Cellular data price per MB (default 0.03)");
  AddOptionalCostDouble(app, "--labor-usd-per-hour", a.labor_rate, "Labour rate (default 32.32, BLS)");
  AddOptionalCostDouble(app, "--maintenance-hours", a.maintenance_hours, "Routine maintenance hours per device per year (default: unknown)");
  AddOptionalCostDouble(app, "--failure-rate", a.failure_rate, "Share of devices failing per year (default 0.05)");
  AddOptionalCostDouble(app, "--replacement-visit-usd", a.visit_cost, "Labour and travel to replace one device (default 150)");
  AddOptionalCostDouble(app, "--updates-per-year", a.updates, "Model updates per device per year (default 12)");
  AddOptionalCostDouble(app, "--telemetry-bytes-per-day", a.telemetry_bytes_per_day, "Telemetry uplink bytes per device per day");
  AddOptionalCostDouble(app, "--poll-bytes-per-day", a.poll_bytes_per_day, "Poll bytes per device per day");
  AddOptionalCostDouble(app, "--event-share", a.event_share, "Share of telemetry bytes an event-only uplink keeps, in [0, 1]");
  app->add_option("--package", a.package_file, "A package (.opk): its size is one full update")->check(CLI::ExistingFile);
  app->add_option("--delta", a.delta_file, "A delta (.opd): its size is one delta update")->check(CLI::ExistingFile);
  AddOptionalCostDouble(app, "--package-bytes", a.package_bytes, "Size of one full update (bytes)");
  AddOptionalCostDouble(app, "--delta-bytes", a.delta_bytes, "Size of one delta update (bytes)");
  app->add_flag("--delta-updates", a.delta_updates, "Updates are sent as deltas (default: full packages)");
  app->add_option("--fleet-db", a.fleet_db, "Fleet database (sqlite:PATH or postgresql://...): measure the traffic");
  app->add_option("--catalog", a.catalog_dir, "Directory with hardware.json (default: the built-in catalog)");
  app->add_flag("--json", a.json, "Print one JSON object instead of the tables");
  app->footer(
      "Every default price and rate is printed with its source and can be overridden. An unknown figure\n"
      "makes its line 'unknown' and is left out of the totals. Example:\n"
      "  outpost cost --target rpi4-4gb --devices 500 --years 5 --power-w 3.4 --package m.opk --delta m.opd");
  return {app, [args] { RunCost(*args); }};
}

}  // namespace outpost::cli
