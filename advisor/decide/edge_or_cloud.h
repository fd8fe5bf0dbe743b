// `outpost decide` (docs/advisor.md, "Decide: edge or cloud"): the edge-or-cloud checklist. Each
// answered question gives a finding (for edge, for cloud or neutral; decisive or weighing; one
// line with the numbers), the findings give a verdict (edge, cloud, hybrid or "insufficient
// answers"), its reasons ordered by weight and what would change it.
//
// Pure functions. A question that was not answered is listed as such and never filled in; the
// only figure assumed is the cloud round trip (kDefaultRttMs, stated with its source in every
// output that uses it).
//
// The rules, factor by factor (thresholds are constants below, so tests and docs name them):
//   latency       budget < cloud floor (RTT + upload of one input, when the input size and the
//                 uplink rate are known) -> edge, decisive: the cloud cannot meet it even with a
//                 zero-time server. budget < kInteractiveLatencyMs (100 ms) -> edge, weighing:
//                 the link's jitter and tail eat the headroom. Otherwise neutral.
//   availability  uptime < kGoodUptime (99%) -> edge, weighing (hours a day with no cloud
//                 inference). Otherwise neutral.
//   autonomy      must act while offline -> edge, decisive.
//   privacy       raw data may not leave the device -> edge, decisive.
//   uplink        data per day needs a sustained rate above the uplink -> edge, decisive.
//   link cost     upload per device per year >= kNegligibleCostUsdPerYear (1 USD) -> edge,
//                 weighing; below it neutral.
//   model fit     too large for the target even as int8 -> cloud, decisive ("or a bigger
//                 target"); fits only as int8, or takes more than kTightRamShare (50%) of the RAM
//                 -> cloud, weighing (tight hardware); fits with room -> neutral.
//   aggregation   cross-device aggregation needed -> cloud, weighing (it needs a central
//                 service: the cloud part of a hybrid when the inference belongs on the edge).
//   devices       at most kFewDevices (10) with a good link (uptime answered, >= 99%) -> cloud,
//                 weighing: one central model is simpler to run than a fleet. Otherwise neutral.
//
// The verdict:
//   - decisive for edge and decisive for cloud: hybrid when privacy is the only decisive edge
//     reason (run on the device what fits, e.g. feature extraction or anonymization, and the
//     model in the cloud on data that is no longer raw); otherwise edge on a bigger target
//     (the edge constraints rule the cloud out, the fit rules this target out);
//   - decisive for edge only: edge; hybrid when cross-device aggregation is needed;
//   - decisive for cloud only: cloud (or a bigger target);
//   - no decisive finding and fewer than kMinAnswered questions answered: insufficient answers,
//     with the unanswered questions that matter most;
//   - otherwise the weighing findings are counted: more for edge -> edge (hybrid with
//     aggregation), more for cloud -> cloud, a tie broken by the first weighing finding in the
//     checklist order above, none at all -> cloud (nothing requires the edge, and one central
//     model is the simpler thing to run and update).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "advisor/catalog/hardware_catalog.h"
#include "advisor/plan/plan.h"
#include "common/expected.h"

namespace outpost::advisor::decide {

// Median ping round trip over 4G LTE to Google from Los Angeles and New York over seven days
// (Catchpoint, 2013; the same article gives 21 ms for wired "last mile" agents and a standard
// deviation of 132 ms on 4G).
inline constexpr double kDefaultRttMs = 55;
inline constexpr std::string_view kDefaultRttSource =
    "median 4G LTE ping round trip, Los Angeles and New York, 7 days (Catchpoint, "
    "https://calendar.perfplanet.com/2013/network-latency-4g/)";

inline constexpr double kInteractiveLatencyMs = 100;
inline constexpr double kGoodUptime = 0.99;
inline constexpr double kNegligibleCostUsdPerYear = 1;
inline constexpr double kTightRamShare = 0.5;
inline constexpr int kFewDevices = 10;
inline constexpr int kMinAnswered = 3;

// Whether the model fits the device: from the model and a catalog target (CheckModelFit), or
// answered yes/no.
struct ModelFit {
  enum class Result { kFits, kFitsAsInt8, kTooLarge, kUnknown };
  Result result = Result::kUnknown;
  std::optional<double> ram_share;  // memory need / RAM, as the model is
  std::string detail;               // the numbers, in words
};

struct DecideAnswers {
  std::optional<double> latency_ms;          // end-to-end budget per inference
  std::optional<double> rtt_ms;              // round trip to the cloud; kDefaultRttMs when absent
  std::optional<double> uplink_mbps;         // sustained upload rate, Mbit/s
  std::optional<double> input_bytes;         // one inference's input, as uploaded
  std::optional<double> inferences_per_day;  // with input_bytes: the upload per day
  std::optional<double> link_uptime;         // share of the time the link is up, (0, 1]
  std::optional<double> outage_hours_per_day;  // the same question in hours down per day
  std::optional<double> link_cost_per_gb;    // USD per GB (1 GB = 1000 MB) uploaded
  std::optional<double> upload_mb_per_day;   // per device, for cloud inference
  std::optional<bool> private_data;          // raw data may not leave the device
  std::optional<bool> offline_autonomy;      // the device must act while the link is down
  std::optional<bool> cross_device;          // results must be aggregated across devices
  std::optional<double> devices;             // fleet size
  std::optional<ModelFit> model_fit;
  std::optional<double> model_mb;            // model size, for the record and the fit's detail
};

// Ranges and combinations; one message per problem, naming the flag.
Expected<DecideAnswers> ValidateAnswers(const DecideAnswers& a);

// One answer typed by a person: a number (finite) or yes / no (y, n; any case).
Expected<double> ParseNumberAnswer(std::string_view text);
Expected<bool> ParseYesNoAnswer(std::string_view text);

// The fit of `model` on catalog target `target_id`, with plan's memory arithmetic (MakePlan: arena
// + weights against RAM; on MCUs arena against SRAM and weights against flash); "as int8" is a
// quarter of the bytes of a float model, as plan's hint. An unknown target is an error.
Expected<ModelFit> CheckModelFit(const PlanModel& model, const std::string& target_id, const HardwareCatalog& catalog);

enum class Side { kEdge, kCloud, kNeutral };
enum class Strength { kDecisive, kWeighing, kNone };  // kNone for neutral findings
std::string_view SideName(Side s);          // "edge", "cloud", "neutral"
std::string_view StrengthName(Strength s);  // "decisive", "weighing", "-"

struct Finding {
  std::string factor;  // latency, availability, autonomy, privacy, uplink, link_cost, model_fit, aggregation, devices
  Side side = Side::kNeutral;
  Strength strength = Strength::kNone;
  std::string reason;  // one line with the numbers
};

// A question left unanswered, with the flag that answers it.
struct Unanswered {
  std::string factor, question, flag;
};

struct Assumption {
  std::string what, value, source;
};

enum class Choice { kEdge, kCloud, kHybrid, kInsufficient };
std::string_view ChoiceName(Choice c);  // "edge", "cloud", "hybrid", "insufficient answers"

struct Decision {
  Choice verdict = Choice::kInsufficient;
  std::string summary;                 // the verdict in one sentence
  bool needs_bigger_target = false;    // edge, but the model does not fit the target asked about
  std::vector<Finding> findings;       // checklist order
  std::vector<std::string> reasons;    // by weight: decisive, then weighing for the verdict, then against
  std::vector<std::string> would_change;
  std::vector<Unanswered> unanswered;  // checklist order
  std::vector<std::string> ask_first;  // insufficient answers: the questions that matter most
  std::vector<Assumption> assumptions;
  int answered = 0;                    // factors with an answer
};

// The checklist on validated answers (ValidateAnswers first).
Decision Decide(const DecideAnswers& a);

}  // namespace outpost::advisor::decide
