// The edge-or-cloud checklist of `outpost decide`: the rules are in edge_or_cloud.h.
#include "advisor/decide/edge_or_cloud.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "advisor/text_format.h"

namespace outpost::advisor::decide {
namespace {

// Whole numbers and numbers from 100 up in full (no exponent), others with three significant
// digits.
std::string DcNum(double v) {
  if (std::fabs(v) < 1e15 && (v == std::floor(v) || std::fabs(v) >= 100)) return FormatValue("%.0f", v);
  return FormatValue("%.3g", v);
}

// Hours a day, in hours from one hour up, else in minutes.
std::string DcDowntime(double hours) { return hours >= 1 ? DcNum(hours) + " h" : DcNum(hours * 60) + " min"; }

std::string DcLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view DcTrim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The upload per device per day in MB (1 MB = 1e6 bytes), answered or derived.
std::optional<double> DcUploadMbPerDay(const DecideAnswers& a) {
  if (a.upload_mb_per_day) return a.upload_mb_per_day;
  if (a.input_bytes && a.inferences_per_day) return *a.input_bytes * *a.inferences_per_day / 1e6;
  return std::nullopt;
}

std::optional<double> DcUptime(const DecideAnswers& a) {
  if (a.link_uptime) return a.link_uptime;
  if (a.outage_hours_per_day) return 1 - *a.outage_hours_per_day / 24;
  return std::nullopt;
}

struct DcChecklist {
  Decision& d;
  void Add(std::string factor, Side side, Strength strength, std::string reason) {
    d.findings.push_back({std::move(factor), side, strength, std::move(reason)});
    ++d.answered;
  }
  void Missing(std::string factor, std::string question, std::string flag) {
    d.unanswered.push_back({std::move(factor), std::move(question), std::move(flag)});
  }
};

void DcCheckLatency(const DecideAnswers& a, DcChecklist& c) {
  if (!a.latency_ms) {
    c.Missing("latency", "latency budget per inference (ms)", "--latency-ms");
    return;
  }
  const double rtt = a.rtt_ms.value_or(kDefaultRttMs);
  std::optional<double> upload_ms;
  if (a.input_bytes && a.uplink_mbps) upload_ms = *a.input_bytes * 8 / (*a.uplink_mbps * 1e6) * 1e3;
  const double floor = rtt + upload_ms.value_or(0);
  const std::string rtt_text = "the cloud round trip " + DcNum(rtt) + " ms" + (a.rtt_ms ? "" : " (assumed)");
  const std::string floor_text = upload_ms ? rtt_text + " + upload " + DcNum(*upload_ms) + " ms" : rtt_text;
  const double budget = *a.latency_ms;
  if (budget < floor) {
    c.Add("latency", Side::kEdge, Strength::kDecisive,
          "latency budget " + DcNum(budget) + " ms is below " + floor_text + ": only edge can meet it");
  } else if (budget < kInteractiveLatencyMs) {
    c.Add("latency", Side::kEdge, Strength::kWeighing,
          "latency budget " + DcNum(budget) + " ms is under " + DcNum(kInteractiveLatencyMs) + " ms and leaves " +
              DcNum(budget - floor) + " ms after " + floor_text + " for the server and the link's jitter");
  } else {
    c.Add("latency", Side::kNeutral, Strength::kNone,
          "latency budget " + DcNum(budget) + " ms leaves " + DcNum(budget - floor) + " ms after " + floor_text);
  }
}

void DcCheckAvailability(const DecideAnswers& a, DcChecklist& c) {
  const std::optional<double> up = DcUptime(a);
  if (!up) {
    c.Missing("availability", "share of the time the link is up (0-1), or hours of outage per day",
              "--link-uptime / --outage-hours");
    return;
  }
  const std::string down = DcDowntime((1 - *up) * 24);
  if (*up < kGoodUptime)
    c.Add("availability", Side::kEdge, Strength::kWeighing,
          "link up " + DcNum(*up * 100) + "% of the time: " + down + " a day without cloud inference");
  else
    c.Add("availability", Side::kNeutral, Strength::kNone,
          "link up " + DcNum(*up * 100) + "% of the time (" + down + " a day down)");
}

void DcCheckAutonomy(const DecideAnswers& a, DcChecklist& c) {
  if (!a.offline_autonomy) {
    c.Missing("autonomy", "must the device act while the link is down (yes/no)", "--offline-autonomy");
    return;
  }
  if (*a.offline_autonomy) {
    const std::optional<double> up = DcUptime(a);
    c.Add("autonomy", Side::kEdge, Strength::kDecisive,
          "the device must act while offline" +
              (up && *up < 1 ? " (" + DcDowntime((1 - *up) * 24) + " a day down)" : std::string()) +
              ": cloud inference stops with the link");
  } else {
    c.Add("autonomy", Side::kNeutral, Strength::kNone, "the device may pause while the link is down");
  }
}

void DcCheckPrivacy(const DecideAnswers& a, DcChecklist& c) {
  if (!a.private_data) {
    c.Missing("privacy", "may the raw data leave the device (private: yes/no)", "--private-data");
    return;
  }
  if (*a.private_data)
    c.Add("privacy", Side::kEdge, Strength::kDecisive, "raw data may not leave the device: cloud inference would upload it");
  else
    c.Add("privacy", Side::kNeutral, Strength::kNone, "raw data may be uploaded");
}

void DcCheckUplink(const DecideAnswers& a, DcChecklist& c) {
  const std::optional<double> mb = DcUploadMbPerDay(a);
  if (!mb || !a.uplink_mbps) {
    c.Missing("uplink", !mb ? "data uploaded per device per day for cloud inference (MB), and the uplink rate (Mbit/s)"
                            : "uplink rate (Mbit/s)",
              !mb ? "--upload-mb-per-day or --input-bytes + --inferences-per-day; --uplink-mbps" : "--uplink-mbps");
    return;
  }
  const double need_mbps = *mb * 8 / 86400;  // MB/day -> Mbit/s, sustained over the whole day
  const double share = need_mbps / *a.uplink_mbps;
  const std::string text = DcNum(*mb) + " MB a day needs " + DcNum(need_mbps) + " Mbit/s sustained, " +
                           DcNum(share * 100) + "% of the " + DcNum(*a.uplink_mbps) + " Mbit/s uplink";
  if (share > 1)
    c.Add("uplink", Side::kEdge, Strength::kDecisive, text + ": the link cannot carry it");
  else
    c.Add("uplink", Side::kNeutral, Strength::kNone, text);
}

void DcCheckLinkCost(const DecideAnswers& a, DcChecklist& c) {
  const std::optional<double> mb = DcUploadMbPerDay(a);
  if (!mb || !a.link_cost_per_gb) {
    c.Missing("link_cost", !mb ? "data uploaded per device per day (MB), and the link's cost per GB (USD)"
                               : "link cost per GB (USD)",
              !mb ? "--upload-mb-per-day or --input-bytes + --inferences-per-day; --link-cost-per-gb"
                  : "--link-cost-per-gb");
    return;
  }
  const double per_year = *mb * 365 / 1000 * *a.link_cost_per_gb;
  std::string text = DcNum(*mb) + " MB a day at " + DcNum(*a.link_cost_per_gb) + " USD/GB is " +
                     FormatValue("%.2f", per_year) + " USD a year per device";
  if (a.devices) text += " (" + FormatValue("%.0f", per_year * *a.devices) + " USD for " + DcNum(*a.devices) + " devices)";
  if (per_year >= kNegligibleCostUsdPerYear)
    c.Add("link_cost", Side::kEdge, Strength::kWeighing, text + ", an upload edge inference avoids");
  else
    c.Add("link_cost", Side::kNeutral, Strength::kNone, text + " (under " + DcNum(kNegligibleCostUsdPerYear) + " USD: negligible)");
}

void DcCheckFit(const DecideAnswers& a, DcChecklist& c) {
  if (!a.model_fit || a.model_fit->result == ModelFit::Result::kUnknown) {
    if (a.model_fit)
      c.Missing("model_fit", "does the model fit the device: " + a.model_fit->detail, "--model-fits");
    else
      c.Missing("model_fit", "does the model fit the device (yes/no)", "--model M.opm --target ID, or --model-fits");
    return;
  }
  const ModelFit& f = *a.model_fit;
  const std::string size = a.model_mb ? "model " + DcNum(*a.model_mb) + " MB: " : "";
  switch (f.result) {
    case ModelFit::Result::kTooLarge:
      c.Add("model_fit", Side::kCloud, Strength::kDecisive, size + f.detail + ": too large for the device even as int8 (cloud, or a bigger target)");
      return;
    case ModelFit::Result::kFitsAsInt8:
      c.Add("model_fit", Side::kCloud, Strength::kWeighing, size + f.detail + ": fits only as int8 (its accuracy is to be checked)");
      return;
    case ModelFit::Result::kFits:
      if (f.ram_share && *f.ram_share > kTightRamShare)
        c.Add("model_fit", Side::kCloud, Strength::kWeighing,
              size + f.detail + ": tight hardware, " + DcNum(*f.ram_share * 100) + "% of the RAM");
      else
        c.Add("model_fit", Side::kNeutral, Strength::kNone, size + f.detail);
      return;
    case ModelFit::Result::kUnknown: return;
  }
}

void DcCheckAggregation(const DecideAnswers& a, DcChecklist& c) {
  if (!a.cross_device) {
    c.Missing("aggregation", "must results be aggregated across devices (yes/no)", "--cross-device");
    return;
  }
  if (*a.cross_device)
    c.Add("aggregation", Side::kCloud, Strength::kWeighing,
          "results are aggregated across devices: that needs a central service");
  else
    c.Add("aggregation", Side::kNeutral, Strength::kNone, "each device decides on its own data");
}

void DcCheckDevices(const DecideAnswers& a, DcChecklist& c) {
  if (!a.devices) {
    c.Missing("devices", "number of devices", "--devices");
    return;
  }
  const std::optional<double> up = DcUptime(a);
  const std::string n = DcNum(*a.devices) + " device" + (*a.devices == 1 ? "" : "s");
  if (*a.devices <= kFewDevices && up && *up >= kGoodUptime)
    c.Add("devices", Side::kCloud, Strength::kWeighing,
          n + " with a good link (" + DcNum(*up * 100) + "% up): one central model is simpler to run and update than a fleet");
  else if (*a.devices <= kFewDevices && !up)
    c.Add("devices", Side::kNeutral, Strength::kNone, n + "; the link's availability is not answered");
  else
    c.Add("devices", Side::kNeutral, Strength::kNone, n);
}

// What flips a finding, for "would change the verdict".
std::string DcFlip(const Finding& f, const DecideAnswers& a) {
  if (f.factor == "latency") {
    const double upload = a.input_bytes && a.uplink_mbps ? *a.input_bytes * 8 / (*a.uplink_mbps * 1e6) * 1e3 : 0;
    const double floor = a.rtt_ms.value_or(kDefaultRttMs) + upload;
    if (f.strength == Strength::kDecisive && upload >= *a.latency_ms)
      return "a latency budget of " + DcNum(floor) + " ms or more, or a faster uplink or smaller input (the upload alone takes " +
             DcNum(upload) + " ms)";
    if (f.strength == Strength::kDecisive)
      return "a latency budget of " + DcNum(floor) + " ms or more, or a round trip under " +
             DcNum(*a.latency_ms - upload) + " ms (e.g. a nearby edge server)";
    return "a latency budget of " + DcNum(kInteractiveLatencyMs) + " ms or more";
  }
  if (f.factor == "availability") return "a link up " + DcNum(kGoodUptime * 100) + "% of the time or more";
  if (f.factor == "autonomy") return "the device may pause while offline";
  if (f.factor == "privacy") return "raw data may leave the device (consent, or anonymization on the device)";
  if (f.factor == "uplink") return "an uplink above the sustained rate, or less data uploaded (event-only uplink)";
  if (f.factor == "link_cost") return "a link cost under " + DcNum(kNegligibleCostUsdPerYear) + " USD a year per device";
  if (f.factor == "model_fit") return "a smaller model (pruning, int8, a smaller input) or a target with more memory";
  if (f.factor == "aggregation") return "no cross-device aggregation";
  if (f.factor == "devices") return "more than " + std::to_string(kFewDevices) + " devices, or a less reliable link";
  return "";
}

}  // namespace

std::string_view SideName(Side s) {
  switch (s) {
    case Side::kEdge: return "edge";
    case Side::kCloud: return "cloud";
    case Side::kNeutral: return "neutral";
  }
  return "neutral";
}

std::string_view StrengthName(Strength s) {
  switch (s) {
    case Strength::kDecisive: return "decisive";
    case Strength::kWeighing: return "weighing";
    case Strength::kNone: return "-";
  }
  return "-";
}

std::string_view ChoiceName(Choice c) {
  switch (c) {
    case Choice::kEdge: return "edge";
    case Choice::kCloud: return "cloud";
    case Choice::kHybrid: return "hybrid";
    case Choice::kInsufficient: return "insufficient answers";
  }
  return "insufficient answers";
}

Expected<double> ParseNumberAnswer(std::string_view text) {
  const std::string s(DcTrim(text));
  if (s.empty()) return Error("a number is expected");
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return Error("'" + s + "' is not a number");
  return v;
}

Expected<bool> ParseYesNoAnswer(std::string_view text) {
  const std::string s = DcLower(DcTrim(text));
  if (s == "yes" || s == "y") return true;
  if (s == "no" || s == "n") return false;
  return Error("'" + std::string(DcTrim(text)) + "' is not yes or no");
}

Expected<DecideAnswers> ValidateAnswers(const DecideAnswers& a) {
  auto positive = [](const std::optional<double>& v) { return !v || (std::isfinite(*v) && *v > 0); };
  auto non_negative = [](const std::optional<double>& v) { return !v || (std::isfinite(*v) && *v >= 0); };
  if (!positive(a.latency_ms)) return Error("--latency-ms must be a positive number of milliseconds");
  if (!non_negative(a.rtt_ms)) return Error("--rtt-ms must be a number of milliseconds, 0 or more");
  if (!positive(a.uplink_mbps)) return Error("--uplink-mbps must be a positive number of Mbit/s");
  if (!positive(a.input_bytes)) return Error("--input-bytes must be a positive number of bytes");
  if (!non_negative(a.inferences_per_day)) return Error("--inferences-per-day must be 0 or more");
  if (a.link_uptime && !(std::isfinite(*a.link_uptime) && *a.link_uptime > 0 && *a.link_uptime <= 1))
    return Error("--link-uptime must be in (0, 1]: the share of the time the link is up (0.99 for 99%)");
  if (a.outage_hours_per_day &&
      !(std::isfinite(*a.outage_hours_per_day) && *a.outage_hours_per_day >= 0 && *a.outage_hours_per_day < 24))
    return Error("--outage-hours must be in [0, 24): hours a day the link is down");
  if (a.link_uptime && a.outage_hours_per_day)
    return Error("give --link-uptime or --outage-hours, not both: they answer the same question");
  if (!non_negative(a.link_cost_per_gb)) return Error("--link-cost-per-gb must be a number of USD, 0 or more");
  if (!non_negative(a.upload_mb_per_day)) return Error("--upload-mb-per-day must be a number of MB, 0 or more");
  if (a.inferences_per_day && !a.input_bytes)
    return Error("--inferences-per-day needs --input-bytes: the upload per day is their product");
  if (a.upload_mb_per_day && a.inferences_per_day)
    return Error("give --upload-mb-per-day or --inferences-per-day, not both: they answer the same question");
  if (a.devices && !(std::isfinite(*a.devices) && *a.devices >= 1 && std::floor(*a.devices) == *a.devices))
    return Error("--devices must be a whole number, 1 or more");
  if (!positive(a.model_mb)) return Error("--model-mb must be a positive number of MB");
  return a;
}

Expected<ModelFit> CheckModelFit(const PlanModel& model, const std::string& target_id, const HardwareCatalog& catalog) {
  Expected<const Target*> target = catalog.FindTarget(target_id);
  if (!target) return target.error();
  // MakePlan's memory check on every target (an accelerator needs its host's RAM), no budget.
  const Plan plan = MakePlan(PlanConstraints{}, model, catalog, {});
  const PlanRow* row = nullptr;
  for (const PlanRow& r : plan.rows)
    if (r.target == target_id) row = &r;
  if (row == nullptr) return Error("target '" + target_id + "' is missing from the plan");
  ModelFit fit;
  fit.detail = row->memory_check.detail + " on " + target_id;
  if (row->ram_need_bytes && row->ram_bytes && *row->ram_bytes > 0) fit.ram_share = *row->ram_need_bytes / *row->ram_bytes;
  switch (row->memory_check.verdict) {
    case Verdict::kPass: fit.result = ModelFit::Result::kFits; break;
    case Verdict::kFail: {
      // As int8 a float model takes a quarter of the bytes (plan's int8 hint); an int8 model has
      // no smaller precision here.
      const bool ram_ok = row->ram_bytes && *row->ram_need_bytes / 4 <= *row->ram_bytes;
      const bool flash_ok = !row->flash_need_bytes || !row->flash_bytes || *row->flash_need_bytes / 4 <= *row->flash_bytes;
      fit.result = model.precision == Precision::kFp32 && ram_ok && flash_ok ? ModelFit::Result::kFitsAsInt8
                                                                             : ModelFit::Result::kTooLarge;
      if (fit.result == ModelFit::Result::kFitsAsInt8)
        fit.detail += "; as int8 about " + FormatBinaryBytes(*row->ram_need_bytes / 4);
      break;
    }
    default: fit.result = ModelFit::Result::kUnknown; break;
  }
  return fit;
}

Decision Decide(const DecideAnswers& a) {
  Decision d;
  DcChecklist c{d};
  DcCheckLatency(a, c);
  DcCheckAvailability(a, c);
  DcCheckAutonomy(a, c);
  DcCheckPrivacy(a, c);
  DcCheckUplink(a, c);
  DcCheckLinkCost(a, c);
  DcCheckFit(a, c);
  DcCheckAggregation(a, c);
  DcCheckDevices(a, c);
  if (a.latency_ms && !a.rtt_ms)
    d.assumptions.push_back({"cloud round trip", DcNum(kDefaultRttMs) + " ms", std::string(kDefaultRttSource)});

  auto has = [&](const std::string& factor, Side side, Strength strength) {
    return std::any_of(d.findings.begin(), d.findings.end(), [&](const Finding& f) {
      return f.factor == factor && f.side == side && f.strength == strength;
    });
  };
  int edge_decisive = 0, cloud_decisive = 0, edge_weighing = 0, cloud_weighing = 0;
  const Finding* first_weighing = nullptr;
  for (const Finding& f : d.findings) {
    if (f.strength == Strength::kDecisive) (f.side == Side::kEdge ? edge_decisive : cloud_decisive)++;
    if (f.strength == Strength::kWeighing) {
      (f.side == Side::kEdge ? edge_weighing : cloud_weighing)++;
      if (first_weighing == nullptr) first_weighing = &f;
    }
  }
  const bool aggregation = a.cross_device.value_or(false);

  if (edge_decisive == 0 && cloud_decisive == 0 && d.answered < kMinAnswered) {
    d.verdict = Choice::kInsufficient;
    d.summary = "insufficient answers: " + std::to_string(d.answered) + " of 9 questions answered, none decisive";
    // The questions that can decide alone first, in the checklist's order of weight.
    for (const char* factor : {"latency", "privacy", "autonomy", "model_fit", "uplink", "availability", "link_cost",
                               "aggregation", "devices"})
      for (const Unanswered& u : d.unanswered)
        if (u.factor == factor && d.ask_first.size() < 4) d.ask_first.push_back(u.question + " (" + u.flag + ")");
  } else if (edge_decisive > 0 && cloud_decisive > 0) {
    if (edge_decisive == 1 && has("privacy", Side::kEdge, Strength::kDecisive)) {
      d.verdict = Choice::kHybrid;
      d.summary = "hybrid: the raw data must stay on the device but the model does not fit it; run on the device what "
                  "fits (feature extraction, anonymization) and the model in the cloud on data that is no longer raw, "
                  "or choose a bigger target";
    } else {
      d.verdict = aggregation ? Choice::kHybrid : Choice::kEdge;
      d.needs_bigger_target = true;
      d.summary = std::string(aggregation ? "hybrid: edge inference on a bigger target + cloud aggregation"
                                          : "edge, on a bigger target") +
                  ": the edge constraints rule the cloud out and the model does not fit this target";
    }
  } else if (edge_decisive > 0) {
    d.verdict = aggregation ? Choice::kHybrid : Choice::kEdge;
    d.summary = aggregation ? "hybrid: edge inference (a decisive constraint rules the cloud out) + cloud aggregation"
                            : "edge: a decisive constraint rules the cloud out";
  } else if (cloud_decisive > 0) {
    d.verdict = Choice::kCloud;
    d.summary = "cloud (or a bigger target): the model does not fit the device";
  } else if (edge_weighing == 0 && cloud_weighing == 0) {
    d.verdict = Choice::kCloud;
    d.summary = "cloud: nothing answered requires the edge, and one central model is the simpler thing to run and update";
  } else {
    bool edge = edge_weighing > cloud_weighing;
    if (edge_weighing == cloud_weighing) edge = first_weighing->side == Side::kEdge;
    const std::string count = std::to_string(edge_weighing) + " finding(s) for edge, " + std::to_string(cloud_weighing) +
                              " for cloud" + (edge_weighing == cloud_weighing ? ", tie broken by " + first_weighing->factor : "");
    if (edge) {
      d.verdict = aggregation ? Choice::kHybrid : Choice::kEdge;
      d.summary = std::string(aggregation ? "hybrid: edge inference + cloud aggregation" : "edge") + " (" + count + ")";
    } else {
      d.verdict = Choice::kCloud;
      d.summary = "cloud (" + count + ")";
    }
  }

  // Reasons by weight: decisive, then weighing for the verdict's side, then weighing against,
  // then neutral findings.
  const Side winner = d.verdict == Choice::kCloud ? Side::kCloud : Side::kEdge;
  for (const Finding& f : d.findings)
    if (f.strength == Strength::kDecisive) d.reasons.push_back(std::string(SideName(f.side)) + ", decisive: " + f.reason);
  for (const Finding& f : d.findings)
    if (f.strength == Strength::kWeighing && f.side == winner)
      d.reasons.push_back(std::string(SideName(f.side)) + ": " + f.reason);
  for (const Finding& f : d.findings)
    if (f.strength == Strength::kWeighing && f.side != winner)
      d.reasons.push_back(std::string(SideName(f.side)) + ": " + f.reason);
  for (const Finding& f : d.findings)
    if (f.strength == Strength::kNone) d.reasons.push_back("neutral: " + f.reason);

  if (d.verdict == Choice::kInsufficient) return d;
  // What would change it: the findings the verdict rests on, and unanswered questions that
  // could decide against it on their own.
  const int winner_decisive = winner == Side::kEdge ? edge_decisive : cloud_decisive;
  std::vector<std::string> flips;
  for (const Finding& f : d.findings) {
    if (f.side != winner) continue;
    if (winner_decisive > 0 ? f.strength == Strength::kDecisive : f.strength == Strength::kWeighing)
      flips.push_back(DcFlip(f, a));
  }
  if (winner_decisive > 1) {
    // Each decisive reason suffices alone: only all of them changing changes the verdict.
    std::string all = "all of: ";
    for (size_t i = 0; i < flips.size(); ++i) all += (i ? "; and " : "") + flips[i];
    d.would_change.push_back(all);
  } else if (winner_decisive == 1) {
    d.would_change.push_back(flips.front() + " (the only decisive reason)");
  } else {
    for (const std::string& f : flips) d.would_change.push_back(f + " (one reason fewer for " + std::string(SideName(winner)) + ")");
  }
  if (d.verdict == Choice::kHybrid && aggregation) d.would_change.push_back("no cross-device aggregation: edge alone");
  if (winner == Side::kCloud) {
    for (const Unanswered& u : d.unanswered) {
      if (u.factor == "latency") d.would_change.push_back("a latency budget under the cloud round trip: edge");
      if (u.factor == "privacy") d.would_change.push_back("private data (--private-data yes): edge");
      if (u.factor == "autonomy") d.would_change.push_back("offline autonomy needed (--offline-autonomy yes): edge");
    }
  } else if (cloud_decisive == 0) {
    const bool privacy_only = edge_decisive == 1 && has("privacy", Side::kEdge, Strength::kDecisive);
    const std::string then = privacy_only ? "hybrid (or a bigger target)"
                             : edge_decisive > 0 ? "edge on a bigger target"
                                                 : "cloud or a bigger target";
    for (const Unanswered& u : d.unanswered)
      if (u.factor == "model_fit")
        d.would_change.push_back("a model too large for the device (check with --model M.opm --target ID): " + then);
  }
  return d;
}

}  // namespace outpost::advisor::decide
