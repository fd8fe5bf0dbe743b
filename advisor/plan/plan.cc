// Constraint checks, ranking and optimization hints of `outpost plan` (docs/advisor.md, "Plan").
#include "advisor/plan/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "advisor/text_format.h"

namespace outpost::advisor {
namespace {


std::optional<double> FigureSi(const std::map<std::string, Figure>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  return it->second.si();
}

const Target* FindById(const HardwareCatalog& catalog, const std::string& id) {
  for (const Target& t : catalog.targets)
    if (t.id == id) return &t;
  return nullptr;
}

std::string PlanGroupKey(const CalibrationPoint& p) {
  return p.target + "|" + p.engine + "|" + std::string(PrecisionName(*p.precision)) + "|" +
         std::to_string(p.threads.value_or(0)) + "|" + p.runtime;
}

// Power while running inferences: typical when published, else the peak as an upper bound.
// An accelerator draws its host's power as well.
struct PowerFigure {
  std::optional<double> active_w, idle_w;
  bool is_peak = false;
  std::string why_unknown;
};

PowerFigure OwnPower(const Target& t) {
  PowerFigure p;
  if (t.kind == "mcu") {
    p.active_w = FigureSi(t.power, "active_mw");
    p.idle_w = FigureSi(t.power, "sleep_mw");
    if (!p.active_w) p.why_unknown = t.id + " has no published active power";
    return p;
  }
  p.active_w = FigureSi(t.power, "typical_w");
  if (!p.active_w) {
    p.active_w = FigureSi(t.power, "peak_w");
    p.is_peak = p.active_w.has_value();
  }
  p.idle_w = FigureSi(t.power, "idle_w");
  if (!p.active_w) p.why_unknown = t.id + " has no published typical or peak power";
  return p;
}

PowerFigure TargetPower(const Target& t, const HardwareCatalog& catalog) {
  PowerFigure p = OwnPower(t);
  if (t.host_target.empty()) return p;
  const Target* host = FindById(catalog, t.host_target);
  if (host == nullptr) return p;
  const PowerFigure h = OwnPower(*host);
  PowerFigure sum;
  sum.is_peak = p.is_peak || h.is_peak;
  if (p.active_w && h.active_w) sum.active_w = *p.active_w + *h.active_w;
  else sum.why_unknown = p.active_w ? h.why_unknown : p.why_unknown;
  if (p.idle_w && h.idle_w) sum.idle_w = *p.idle_w + *h.idle_w;
  return sum;
}

void AddCheck(PlanRow& row, Check& check, Verdict v, std::string detail) {
  check.verdict = v;
  check.detail = std::move(detail);
  if (v == Verdict::kFail) ++row.fails;
  if (v == Verdict::kUnknown) ++row.unknowns;
}

void CheckLatency(const PlanConstraints& c, const PlanModel& model, const TargetLatency* lat, PlanRow& row) {
  if (lat != nullptr) row.latency = lat->as_is;
  if (!c.latency_ms) return;
  if (!row.latency) {
    // A target known only at int8 (microcontrollers, NPUs) has no estimate for a float model,
    // but the int8 figure says whether quantizing would do.
    if (model.precision != Precision::kInt8 && lat != nullptr && lat->int8) {
      const double q = lat->int8->ms;
      AddCheck(row, row.latency_check, Verdict::kUnknown,
               "no " + std::string(PrecisionName(model.precision)) + " latency estimate");
      row.fixes.push_back("int8: " + FormatValue("%.3g ms", q) + (q <= *c.latency_ms ? " (passes" : " (too slow") +
                          (lat->int8->error_factor ? ", uncertainty x" + FormatValue("%.2f", *lat->int8->error_factor)
                                                   : ", no error estimate") +
                          ")");
      return;
    }
    AddCheck(row, row.latency_check, Verdict::kUnknown, "no latency estimate");
    return;
  }
  const double ms = row.latency->ms, budget = *c.latency_ms;
  if (ms <= budget) {
    AddCheck(row, row.latency_check, Verdict::kPass, FormatValue("%.3g ms", ms) + " <= " + FormatValue("%.3g ms", budget));
    return;
  }
  AddCheck(row, row.latency_check, Verdict::kFail, FormatValue("%.3g ms", ms) + " > " + FormatValue("%.3g ms", budget));
  // Latency is taken to scale with MACs (the published fits are a single MAC rate; a
  // convolutional network's MACs scale with the input's area).
  if (model.precision != Precision::kInt8 && lat != nullptr && lat->int8) {
    const double q = lat->int8->ms;
    row.fixes.push_back("int8: " + FormatValue("%.3g ms", q) + (q <= budget ? " (passes" : " (still too slow") +
                        (lat->int8->error_factor ? ", uncertainty x" + FormatValue("%.2f", *lat->int8->error_factor)
                                                 : ", no error estimate") +
                        ")");
  }
  row.fixes.push_back("prune " + FormatValue("%.0f%%", std::ceil((1 - budget / ms) * 100)) + " of the MACs");
  row.fixes.push_back("input side x" + FormatValue("%.2f", std::sqrt(budget / ms)) + " (MACs follow the input area)");
}

void CheckMemory(const PlanConstraints& c, const PlanModel& model, const Target& t, const HardwareCatalog& catalog,
                 PlanRow& row) {
  const bool mcu = t.kind == "mcu";
  row.ram_need_bytes = static_cast<double>(model.arena_bytes) + (mcu ? 0.0 : static_cast<double>(model.weight_bytes));
  row.ram_bytes = FigureSi(t.memory, "ram_bytes");
  std::string ram_owner = t.id;
  if (!row.ram_bytes && !t.host_target.empty()) {
    // An accelerator's model lives in its host's memory.
    if (const Target* host = FindById(catalog, t.host_target)) {
      row.ram_bytes = FigureSi(host->memory, "ram_bytes");
      ram_owner = host->id + " (host)";
    }
  }
  double avail = row.ram_bytes.value_or(std::numeric_limits<double>::infinity());
  std::string avail_name = "RAM";
  if (c.ram_mb && *c.ram_mb * 1024 * 1024 < avail) avail = *c.ram_mb * 1024 * 1024, avail_name = "RAM budget";
  if (mcu) {
    row.flash_need_bytes = static_cast<double>(model.weight_bytes);
    row.flash_bytes = FigureSi(t.memory, "flash_onchip_bytes");
  }
  std::vector<std::string> why;
  Verdict v = Verdict::kPass;
  const double need = *row.ram_need_bytes;
  if (need > avail) {
    v = Verdict::kFail;
    why.push_back(std::string(mcu ? "arena " : "arena + weights ") + FormatBinaryBytes(need) + " > " + avail_name + " " + FormatBinaryBytes(avail));
  } else if (!row.ram_bytes) {
    v = Verdict::kUnknown;
    why.push_back(ram_owner + " RAM unknown");
  } else {
    why.push_back(FormatBinaryBytes(need) + " <= " + FormatBinaryBytes(avail));
  }
  if (mcu) {
    if (!row.flash_bytes) {
      if (v != Verdict::kFail) v = Verdict::kUnknown;
      why.push_back("on-chip flash unknown");
    } else if (*row.flash_need_bytes > *row.flash_bytes) {
      v = Verdict::kFail;
      why.push_back("weights " + FormatBinaryBytes(*row.flash_need_bytes) + " > flash " + FormatBinaryBytes(*row.flash_bytes));
    } else {
      why.push_back("weights " + FormatBinaryBytes(*row.flash_need_bytes) + " <= flash " + FormatBinaryBytes(*row.flash_bytes));
    }
  }
  std::string detail;
  for (const std::string& w : why) detail += (detail.empty() ? "" : "; ") + w;
  AddCheck(row, row.memory_check, v, detail);
  if (v != Verdict::kFail) return;
  // int8 stores each fp32 weight and activation in a quarter of the bytes.
  if (model.precision == Precision::kFp32) {
    const double q_ram = need / 4;
    const bool ram_ok = q_ram <= avail;
    const bool flash_ok = !mcu || !row.flash_bytes || *row.flash_need_bytes / 4 <= *row.flash_bytes;
    row.fixes.push_back(std::string("int8: about ") + FormatBinaryBytes(q_ram) + " of RAM" +
                        (ram_ok && flash_ok ? " (fits)" : " (still too large)"));
  }
  const double weights = static_cast<double>(model.weight_bytes);
  const double weight_room = mcu ? row.flash_bytes.value_or(0) : avail - model.arena_bytes;
  if (weights > 0 && weight_room > 0 && weight_room < weights)
    row.fixes.push_back("prune " + FormatValue("%.0f%%", std::ceil((1 - weight_room / weights) * 100)) +
                        " of the weights (sparse storage)");
  if (static_cast<double>(model.arena_bytes) > avail)
    row.fixes.push_back("input side x" + FormatValue("%.2f", std::sqrt(avail / model.arena_bytes)) +
                        " (activations follow the input area)");
}

}  // namespace

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kFail: return "FAIL";
    case Verdict::kUnknown: return "unknown";
    case Verdict::kNotAsked: return "-";
  }
  return "-";
}

Expected<PlanConstraints> ValidateConstraints(const PlanConstraints& c) {
  auto positive = [](const std::optional<double>& v) { return !v || (std::isfinite(*v) && *v > 0); };
  if (!positive(c.latency_ms)) return Error("--latency-ms must be a positive number of milliseconds");
  if (!positive(c.ram_mb)) return Error("--ram-mb must be a positive number of MiB");
  if (!positive(c.power_w)) return Error("--power-w must be a positive number of watts");
  if (!positive(c.unit_cost_usd)) return Error("--unit-cost must be a positive number of USD");
  if (!positive(c.battery_wh)) return Error("--battery-wh must be a positive number of watt-hours");
  if (!positive(c.hours)) return Error("--hours must be a positive number of hours");
  if (!(c.duty_cycle > 0 && c.duty_cycle <= 1)) return Error("--duty-cycle must be in (0, 1]: the share of time spent inferring");
  if (c.hours && !c.battery_wh) return Error("--hours needs --battery-wh: a battery life needs a battery");
  return c;
}

std::vector<PublishedFit> FitPublishedPoints(const CalibrationSet& set) {
  std::map<std::string, std::vector<const CalibrationPoint*>> groups;
  for (const CalibrationPoint& p : set.points)
    if (p.is_latency() && p.precision && p.macs.known() && p.latency_ms > 0) groups[PlanGroupKey(p)].push_back(&p);
  std::vector<PublishedFit> fits;
  for (const auto& [key, group] : groups) {
    PublishedFit f;
    f.target = group[0]->target;
    f.engine = group[0]->engine;
    f.runtime = group[0]->runtime;
    f.precision = *group[0]->precision;
    f.threads = group[0]->threads.value_or(0);
    std::vector<double> log_rates;
    for (const CalibrationPoint* p : group) {
      f.points.push_back(p->id);
      log_rates.push_back(std::log(*p->macs.si() / (p->latency_ms * 1e-3)));
    }
    double sum = 0;
    for (double l : log_rates) sum += l;
    f.macs_per_s = std::exp(sum / log_rates.size());
    // Leave-one-out, as in calibration_fit.cc: each point predicted from the others' rate.
    if (log_rates.size() > 1) {
      double worst = 1;
      for (size_t i = 0; i < log_rates.size(); ++i) {
        const double others = (sum - log_rates[i]) / (log_rates.size() - 1);
        worst = std::max(worst, std::exp(std::fabs(others - log_rates[i])));
      }
      f.loo_error_factor = worst;
    }
    fits.push_back(std::move(f));
  }
  return fits;
}

std::optional<LatencyEstimate> EstimateFromPublished(const std::vector<PublishedFit>& fits, const std::string& target,
                                                     Precision precision, uint64_t macs) {
  const PublishedFit* best = nullptr;
  for (const PublishedFit& f : fits) {
    if (f.target != target || f.precision != precision) continue;
    if (best == nullptr || f.points.size() > best->points.size() ||
        (f.points.size() == best->points.size() && f.threads > best->threads))
      best = &f;
  }
  if (best == nullptr || macs == 0) return std::nullopt;
  LatencyEstimate e;
  e.ms = static_cast<double>(macs) / best->macs_per_s * 1e3;
  e.error_factor = best->loo_error_factor;
  e.basis = std::to_string(best->points.size()) + " published " + std::string(PrecisionName(precision)) +
            " point(s), " + best->runtime + (best->threads ? ", " + std::to_string(best->threads) + " thread(s)" : "");
  return e;
}

Plan MakePlan(const PlanConstraints& c, const PlanModel& model, const HardwareCatalog& catalog,
              const std::map<std::string, TargetLatency>& latencies) {
  Plan plan;
  for (const Target& t : catalog.targets) {
    PlanRow row;
    row.target = t.id;
    row.name = t.name;
    row.kind = t.kind;
    auto lat = latencies.find(t.id);
    CheckLatency(c, model, lat == latencies.end() ? nullptr : &lat->second, row);
    CheckMemory(c, model, t, catalog, row);

    const PowerFigure power = TargetPower(t, catalog);
    row.power_w = power.active_w;
    row.power_is_peak = power.is_peak;
    if (row.power_w && row.latency) row.energy_mj = *row.power_w * row.latency->ms;
    if (c.power_w) {
      if (!row.power_w) {
        AddCheck(row, row.power_check, Verdict::kUnknown, power.why_unknown);
      } else if (*row.power_w <= *c.power_w) {
        AddCheck(row, row.power_check, Verdict::kPass,
                 FormatValue("%.3g W", *row.power_w) + (power.is_peak ? " peak" : "") + " <= " + FormatValue("%.3g W", *c.power_w));
      } else if (power.is_peak) {
        AddCheck(row, row.power_check, Verdict::kUnknown,
                 "peak " + FormatValue("%.3g W", *row.power_w) + " > budget, typical power unknown");
      } else {
        AddCheck(row, row.power_check, Verdict::kFail, FormatValue("%.3g W", *row.power_w) + " > " + FormatValue("%.3g W", *c.power_w));
      }
    }

    const Figure& own_cost = t.cost_system_usd && t.cost_system_usd->known() ? *t.cost_system_usd : t.cost_usd;
    row.cost_usd = own_cost.si();
    if (c.unit_cost_usd) {
      if (!row.cost_usd)
        AddCheck(row, row.cost_check, Verdict::kUnknown, "unit cost unknown");
      else
        AddCheck(row, row.cost_check, *row.cost_usd <= *c.unit_cost_usd ? Verdict::kPass : Verdict::kFail,
                 FormatValue("%.2f USD", *row.cost_usd) + (*row.cost_usd <= *c.unit_cost_usd ? " <= " : " > ") +
                     FormatValue("%.2f USD", *c.unit_cost_usd));
    }

    // Battery life with duty cycling: active power for the share of time spent inferring, idle
    // (sleep) power for the rest. With a peak power the life is a lower bound.
    if (c.battery_wh) {
      std::optional<double> avg;
      if (row.power_w && (c.duty_cycle >= 1 || power.idle_w))
        avg = c.duty_cycle * *row.power_w + (1 - c.duty_cycle) * power.idle_w.value_or(0);
      if (avg && *avg > 0) row.battery_hours = *c.battery_wh / *avg;
      if (c.hours) {
        if (!row.battery_hours) {
          AddCheck(row, row.battery_check, Verdict::kUnknown, !row.power_w ? "active power unknown" : "idle power unknown");
        } else if (*row.battery_hours >= *c.hours) {
          AddCheck(row, row.battery_check, Verdict::kPass,
                   FormatValue("%.3g h", *row.battery_hours) + (power.is_peak ? " or more" : "") + " >= " +
                       FormatValue("%.3g h", *c.hours));
        } else if (power.is_peak) {
          AddCheck(row, row.battery_check, Verdict::kUnknown,
                   "at least " + FormatValue("%.3g h", *row.battery_hours) + " (peak power), typical power unknown");
        } else {
          AddCheck(row, row.battery_check, Verdict::kFail,
                   FormatValue("%.3g h", *row.battery_hours) + " < " + FormatValue("%.3g h", *c.hours));
          if (power.idle_w && *row.power_w > *power.idle_w) {
            // Solve hours = Wh / (d * active + (1 - d) * idle) for the duty cycle d.
            const double d = (*c.battery_wh / *c.hours - *power.idle_w) / (*row.power_w - *power.idle_w);
            if (d > 0) row.fixes.push_back("duty cycle <= " + FormatValue("%.3g", d));
          }
        }
      }
    }
    plan.rows.push_back(std::move(row));
  }

  std::stable_sort(plan.rows.begin(), plan.rows.end(), [](const PlanRow& a, const PlanRow& b) {
    if (a.fails != b.fails) return a.fails < b.fails;
    if (a.unknowns != b.unknowns) return a.unknowns < b.unknowns;
    const double la = a.latency ? a.latency->ms : std::numeric_limits<double>::infinity();
    const double lb = b.latency ? b.latency->ms : std::numeric_limits<double>::infinity();
    if (la != lb) return la < lb;
    const double ca = a.cost_usd.value_or(std::numeric_limits<double>::infinity());
    const double cb = b.cost_usd.value_or(std::numeric_limits<double>::infinity());
    return ca < cb;
  });

  if (plan.rows.empty()) {
    plan.recommendation = "none: the catalog has no targets";
    return plan;
  }
  const PlanRow& top = plan.rows.front();
  if (top.fails == 0 && top.unknowns == 0) {
    plan.recommendation = top.target;
    for (const Check* ch : {&top.latency_check, &top.memory_check, &top.power_check, &top.cost_check, &top.battery_check})
      if (ch->verdict == Verdict::kPass) plan.reasons.push_back(ch->detail);
    if (top.latency) {
      plan.reasons.push_back(
          "latency " + FormatValue("%.3g ms", top.latency->ms) + " from " + top.latency->basis +
          (top.latency->error_factor ? ", uncertainty x" + FormatValue("%.2f", *top.latency->error_factor) +
                                           " (worst leave-one-out)"
                                     : ", no error estimate"));
    }
    int others = 0;
    for (const PlanRow& r : plan.rows)
      if (&r != &top && r.fails == 0 && r.unknowns == 0) ++others;
    plan.reasons.push_back(others ? std::to_string(others) + " other target(s) also pass; ranked by latency, then cost"
                                  : "the only target that passes every constraint");
  } else if (top.fails == 0) {
    plan.recommendation = "none confirmed";
    plan.reasons.push_back(top.target + " fails nothing, but " + std::to_string(top.unknowns) +
                           " constraint(s) cannot be checked from the catalog");
  } else {
    plan.recommendation = "none";
    plan.reasons.push_back("every target fails at least one constraint; nearest: " + top.target);
    for (const std::string& f : top.fixes) plan.reasons.push_back(top.target + ": " + f);
  }
  return plan;
}

}  // namespace outpost::advisor
