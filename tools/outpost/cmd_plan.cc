// outpost plan: which catalog targets can run a model within a latency, memory, power, cost and
// battery budget (docs/advisor.md, "Plan"). The logic is advisor/plan/plan.h; this file reads
// the model and the catalog, measures the model on this host and prints the result.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "advisor/catalog/hardware_catalog.h"
#include "advisor/cost/latency_model.h"
#include "advisor/plan/plan.h"
#include "io/model_file.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"
#include "tools/outpost/model_summary.h"

namespace outpost::cli {
namespace {

struct PlanArgs {
  std::string model;
  advisor::PlanConstraints constraints;
  std::string catalog_dir;
  int runs = 10;
  bool json = false;
};

std::string Opt(const std::optional<double>& v, const char* fmt, const char* none = "?") {
  if (!v) return none;
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, *v);
  return buf;
}

nlohmann::json OptJson(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json CheckJson(const advisor::Check& c) {
  if (c.verdict == advisor::Verdict::kNotAsked) return nullptr;
  return {{"verdict", c.verdict == advisor::Verdict::kFail ? "fail" : std::string(advisor::VerdictName(c.verdict))},
          {"detail", c.detail}};
}

void PrintPlanJson(const advisor::PlanModel& pm, const advisor::Plan& plan) {
  nlohmann::json j;
  j["model"] = {{"path", pm.name}, {"macs", pm.macs}, {"weight_bytes", pm.weight_bytes},
                {"arena_bytes", pm.arena_bytes}, {"precision", advisor::PrecisionName(pm.precision)}};
  j["recommendation"] = plan.recommendation;
  j["reasons"] = plan.reasons;
  nlohmann::json rows = nlohmann::json::array();
  for (const advisor::PlanRow& r : plan.rows) {
    nlohmann::json lat = nullptr;
    if (r.latency)
      lat = {{"ms", r.latency->ms}, {"error_factor", OptJson(r.latency->error_factor)}, {"basis", r.latency->basis}, {"measured", r.latency->measured}};
    rows.push_back({{"target", r.target},
                    {"name", r.name},
                    {"latency", lat},
                    {"ram_need_bytes", OptJson(r.ram_need_bytes)},
                    {"ram_bytes", OptJson(r.ram_bytes)},
                    {"flash_need_bytes", OptJson(r.flash_need_bytes)},
                    {"flash_bytes", OptJson(r.flash_bytes)},
                    {"power_w", OptJson(r.power_w)},
                    {"power_is_peak", r.power_is_peak},
                    {"energy_mj", OptJson(r.energy_mj)},
                    {"battery_hours", OptJson(r.battery_hours)},
                    {"cost_usd", OptJson(r.cost_usd)},
                    {"checks",
                     {{"latency", CheckJson(r.latency_check)},
                      {"memory", CheckJson(r.memory_check)},
                      {"power", CheckJson(r.power_check)},
                      {"cost", CheckJson(r.cost_check)},
                      {"battery", CheckJson(r.battery_check)}}},
                    {"fails", r.fails},
                    {"unknowns", r.unknowns},
                    {"fixes", r.fixes}});
  }
  j["targets"] = rows;
  std::cout << j.dump(2) << "\n";
}

void PrintPlanText(const advisor::PlanModel& pm, const advisor::Plan& plan) {
  std::cout << pm.name << ": " << FormatCount(pm.macs) << "MACs, " << FormatBytes(pm.weight_bytes)
            << " of weights, arena " << FormatBytes(pm.arena_bytes) << ", " << advisor::PrecisionName(pm.precision)
            << "\n\n";
  Table table({"target", "latency ms", "±", "RAM need/have", "power W", "mJ/inf", "battery h", "USD", "lat", "mem",
               "power", "cost", "batt"},
              {false, true, true, true, true, true, true, true, false, false, false, false, false});
  for (const advisor::PlanRow& r : plan.rows) {
    std::string err = "-";
    if (r.latency && r.latency->measured) err = "meas";
    else if (r.latency) err = r.latency->error_factor ? "x" + FormatFixed(*r.latency->error_factor, 2) : "n/e";
    std::string mem = Opt(r.ram_need_bytes, "%.0f") == "?" ? "?" : FormatBytes(uint64_t(*r.ram_need_bytes));
    mem += " / " + (r.ram_bytes ? FormatBytes(uint64_t(*r.ram_bytes)) : std::string("?"));
    const char* bound = r.power_is_peak ? "<=%.3g" : "%.3g";
    table.AddRow({r.target, r.latency ? FormatFixed(r.latency->ms, 3) : "none", err, mem, Opt(r.power_w, bound),
                  Opt(r.energy_mj, r.power_is_peak ? "<=%.3g" : "%.3g"),
                  Opt(r.battery_hours, r.power_is_peak ? ">=%.3g" : "%.3g", "-"), Opt(r.cost_usd, "%.2f"),
                  std::string(advisor::VerdictName(r.latency_check.verdict)), std::string(advisor::VerdictName(r.memory_check.verdict)),
                  std::string(advisor::VerdictName(r.power_check.verdict)), std::string(advisor::VerdictName(r.cost_check.verdict)),
                  std::string(advisor::VerdictName(r.battery_check.verdict))});
  }
  table.Print(std::cout);
  std::cout << "\n  ±: worst leave-one-out error factor of the latency fit; n/e: no error estimate (one point); meas: measured here;\n"
               "  none: no latency estimate (no published point at this precision with its MACs)\n\n";
  for (const advisor::PlanRow& r : plan.rows) {
    std::string lines;
    for (const advisor::Check* c : {&r.latency_check, &r.memory_check, &r.power_check, &r.cost_check, &r.battery_check})
      if (c->verdict == advisor::Verdict::kFail || c->verdict == advisor::Verdict::kUnknown)
        lines += "    " + std::string(advisor::VerdictName(c->verdict)) + ": " + c->detail + "\n";
    for (const std::string& f : r.fixes) lines += "    would help: " + f + "\n";
    if (r.latency && !r.latency->basis.empty()) lines += "    latency: " + r.latency->basis + "\n";
    if (!lines.empty()) std::cout << "  " << r.target << "\n" << lines;
  }
  std::cout << "\nrecommendation: " << plan.recommendation << "\n";
  for (const std::string& why : plan.reasons) std::cout << "  - " << why << "\n";
}

void RunPlan(const PlanArgs& a) {
  const advisor::PlanConstraints& c = a.constraints;
  if (!c.latency_ms && !c.ram_mb && !c.power_w && !c.unit_cost_usd && !c.hours)
    throw UsageError("give at least one constraint (--latency-ms, --ram-mb, --power-w, --unit-cost, --hours)");
  if (Expected<advisor::PlanConstraints> ok = advisor::ValidateConstraints(c); !ok) throw UsageError(ok.error().what());
  if (a.runs < 1) throw UsageError("--runs must be at least 1");

  const std::string dir = a.catalog_dir.empty() ? advisor::DefaultCatalogDir() : a.catalog_dir;
  const advisor::HardwareCatalog catalog = Must(advisor::LoadHardwareCatalog(dir + "/hardware.json"));
  const advisor::CalibrationSet points = Must(advisor::LoadCalibration(dir + "/calibration.json", catalog));

  const io::LoadedModel model = Must(io::LoadedModel::Open(a.model));
  const advisor::PlanModel pm = SummarizeModel(model, a.model);

  std::map<std::string, advisor::TargetLatency> latencies;
  const std::vector<advisor::PublishedFit> fits = advisor::FitPublishedPoints(points);
  for (const advisor::Target& t : catalog.targets) {
    advisor::TargetLatency tl;
    if (t.id == "host") {
      const advisor::ProfiledModel prof = Must(advisor::ProfileOnHost(model, a.model, a.runs));
      advisor::LatencyEstimate e;
      e.ms = prof.total_seconds * 1e3;
      e.measured = true;
      e.basis = "measured on this host, one thread, median of " + std::to_string(a.runs) + " runs";
      tl.as_is = e;
    } else {
      tl.as_is = advisor::EstimateFromPublished(fits, t.id, pm.precision, pm.macs);
      if (pm.precision != advisor::Precision::kInt8)
        tl.int8 = advisor::EstimateFromPublished(fits, t.id, advisor::Precision::kInt8, pm.macs);
    }
    latencies[t.id] = tl;
  }
  const advisor::Plan plan = advisor::MakePlan(c, pm, catalog, latencies);
  if (a.json)
    PrintPlanJson(pm, plan);
  else
    PrintPlanText(pm, plan);
}

void AddOptionalDouble(CLI::App* app, const std::string& name, std::optional<double>& target, const std::string& help) {
  app->add_option_function<double>(name, [&target](const double& v) { target = v; }, help);
}

}  // namespace

Command AddPlanCommand(CLI::App& root) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* app = root.add_subcommand("plan", "Rank catalog targets for a model against latency, memory, power, cost and battery budgets");
  app->add_option("model", args->model, ".opm model file")->required()->check(CLI::ExistingFile);
  advisor::PlanConstraints& c = args->constraints;
  AddOptionalDouble(app, "--latency-ms", c.latency_ms, "Latency budget per inference (ms)");
  AddOptionalDouble(app, "--ram-mb", c.ram_mb, "Memory the model may use: arena + weights (MiB)");
  AddOptionalDouble(app, "--power-w", c.power_w, "Power budget while inferring (W)");
  AddOptionalDouble(app, "--unit-cost", c.unit_cost_usd, "Unit cost budget (USD)");
  AddOptionalDouble(app, "--battery-wh", c.battery_wh, "Battery capacity (Wh)");
  AddOptionalDouble(app, "--hours", c.hours, "Required battery life (h); needs --battery-wh");
  app->add_option("--duty-cycle", c.duty_cycle, "Share of time spent inferring, in (0, 1] (default 1)");
  app->add_option("--catalog", args->catalog_dir, "Directory with hardware.json and calibration.json (default: the built-in catalog)");
  app->add_option("--runs", args->runs, "Profiled runs on this host (default 10)");
  app->add_flag("--json", args->json, "Print one JSON object instead of the table");
  app->footer(
      "Latency on this host is measured; on other targets it comes from the fit of their published\n"
      "points, with the fit's leave-one-out error. An unknown catalog figure gives 'unknown'. Example:\n"
      "  outpost plan model.opm --latency-ms 50 --ram-mb 256 --power-w 2 --unit-cost 200 \\\n"
      "      --battery-wh 10 --hours 24 --duty-cycle 0.1");
  return {app, [args] { RunPlan(*args); }};
}

}  // namespace outpost::cli
