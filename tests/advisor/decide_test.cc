// The edge-or-cloud checklist (advisor/decide/edge_or_cloud.h): every factor's finding with its
// numbers, the decisive cases, hybrid, insufficient answers, the fit on a catalog built here,
// and the refusal of invalid answers.
#include <gtest/gtest.h>

#include <string>

#include "advisor/decide/edge_or_cloud.h"

namespace outpost::advisor::decide {
namespace {

const Finding* FindingOf(const Decision& d, const std::string& factor) {
  for (const Finding& f : d.findings)
    if (f.factor == factor) return &f;
  return nullptr;
}

bool IsUnanswered(const Decision& d, const std::string& factor) {
  for (const Unanswered& u : d.unanswered)
    if (u.factor == factor) return true;
  return false;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ModelFit Fit(ModelFit::Result r, std::optional<double> share = std::nullopt) {
  ModelFit f;
  f.result = r;
  f.ram_share = share;
  f.detail = "test fit";
  return f;
}

TEST(AdvisorDecide, LatencyBelowRoundTripPlusUploadIsDecisiveForEdge) {
  DecideAnswers a;
  a.latency_ms = 50;
  a.rtt_ms = 80;
  a.input_bytes = 30000;  // 240 000 bits at 20 Mbit/s: 12 ms
  a.uplink_mbps = 20;
  const Decision d = Decide(a);
  const Finding* f = FindingOf(d, "latency");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->side, Side::kEdge);
  EXPECT_EQ(f->strength, Strength::kDecisive);
  EXPECT_EQ(f->reason, "latency budget 50 ms is below the cloud round trip 80 ms + upload 12 ms: only edge can meet it");
  EXPECT_EQ(d.verdict, Choice::kEdge);  // decisive with a single answer: not "insufficient"
  EXPECT_TRUE(d.assumptions.empty());   // the round trip was answered
  ASSERT_FALSE(d.would_change.empty());
  EXPECT_TRUE(Contains(d.would_change[0], "a latency budget of 92 ms or more")) << d.would_change[0];
  EXPECT_TRUE(Contains(d.would_change[0], "a round trip under 38 ms")) << d.would_change[0];
  EXPECT_TRUE(Contains(d.would_change[0], "the only decisive reason")) << d.would_change[0];

  // An upload longer than the budget: no round trip helps, and the flip says so.
  a.input_bytes = 300000;  // 120 ms at 20 Mbit/s
  const Decision u = Decide(a);
  EXPECT_TRUE(Contains(FindingOf(u, "latency")->reason, "+ upload 120 ms")) << FindingOf(u, "latency")->reason;
  ASSERT_FALSE(u.would_change.empty());
  EXPECT_TRUE(Contains(u.would_change[0], "the upload alone takes 120 ms")) << u.would_change[0];
}

TEST(AdvisorDecide, LatencyUnder100MsWeighsAndAboveIsNeutral) {
  DecideAnswers a;
  a.latency_ms = 90;
  a.rtt_ms = 20;
  Decision d = Decide(a);
  EXPECT_EQ(FindingOf(d, "latency")->side, Side::kEdge);
  EXPECT_EQ(FindingOf(d, "latency")->strength, Strength::kWeighing);
  EXPECT_TRUE(Contains(FindingOf(d, "latency")->reason, "leaves 70 ms after the cloud round trip 20 ms"));
  a.latency_ms = 200;
  d = Decide(a);
  EXPECT_EQ(FindingOf(d, "latency")->side, Side::kNeutral);
  EXPECT_EQ(FindingOf(d, "latency")->strength, Strength::kNone);
  EXPECT_TRUE(Contains(FindingOf(d, "latency")->reason, "leaves 180 ms"));
}

TEST(AdvisorDecide, DefaultRoundTripIsStatedAsAnAssumption) {
  DecideAnswers a;
  a.latency_ms = 40;  // below the assumed 55 ms
  Decision d = Decide(a);
  EXPECT_EQ(FindingOf(d, "latency")->strength, Strength::kDecisive);
  EXPECT_TRUE(Contains(FindingOf(d, "latency")->reason, "55 ms (assumed)"));
  ASSERT_EQ(d.assumptions.size(), 1u);
  EXPECT_EQ(d.assumptions[0].value, "55 ms");
  EXPECT_TRUE(Contains(d.assumptions[0].source, "https://calendar.perfplanet.com/2013/network-latency-4g/"));
  // Without a latency question the round trip is not used, and not listed as assumed.
  d = Decide(DecideAnswers{});
  EXPECT_TRUE(d.assumptions.empty());
}

TEST(AdvisorDecide, Availability) {
  DecideAnswers a;
  a.link_uptime = 0.9;
  Decision d = Decide(a);
  EXPECT_EQ(FindingOf(d, "availability")->side, Side::kEdge);
  EXPECT_EQ(FindingOf(d, "availability")->strength, Strength::kWeighing);
  EXPECT_TRUE(Contains(FindingOf(d, "availability")->reason, "link up 90% of the time: 2.4 h a day without cloud inference"));
  a.link_uptime.reset();
  a.outage_hours_per_day = 0.12;  // 99.5% up
  d = Decide(a);
  EXPECT_EQ(FindingOf(d, "availability")->side, Side::kNeutral);
  EXPECT_TRUE(Contains(FindingOf(d, "availability")->reason, "99.5% of the time (7.2 min a day down)"));
}

TEST(AdvisorDecide, AutonomyAndPrivacyAreDecisiveForEdge) {
  DecideAnswers a;
  a.offline_autonomy = true;
  a.link_uptime = 0.75;
  Decision d = Decide(a);
  EXPECT_EQ(FindingOf(d, "autonomy")->strength, Strength::kDecisive);
  EXPECT_TRUE(Contains(FindingOf(d, "autonomy")->reason, "(6 h a day down)"));
  EXPECT_EQ(d.verdict, Choice::kEdge);

  DecideAnswers p;
  p.private_data = true;
  d = Decide(p);
  EXPECT_EQ(FindingOf(d, "privacy")->side, Side::kEdge);
  EXPECT_EQ(FindingOf(d, "privacy")->strength, Strength::kDecisive);
  EXPECT_EQ(d.verdict, Choice::kEdge);

  p.private_data = false;
  p.offline_autonomy = false;
  d = Decide(p);
  EXPECT_EQ(FindingOf(d, "privacy")->side, Side::kNeutral);
  EXPECT_EQ(FindingOf(d, "autonomy")->side, Side::kNeutral);
}

TEST(AdvisorDecide, UplinkThatCannotCarryTheDataIsDecisive) {
  DecideAnswers a;
  a.input_bytes = 100000;
  a.inferences_per_day = 86400;  // one a second: 8.64 GB a day, 0.8 Mbit/s sustained
  a.uplink_mbps = 0.5;
  Decision d = Decide(a);
  const Finding* f = FindingOf(d, "uplink");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->strength, Strength::kDecisive);
  EXPECT_EQ(f->reason, "8640 MB a day needs 0.8 Mbit/s sustained, 160% of the 0.5 Mbit/s uplink: the link cannot carry it");
  a.uplink_mbps = 10;
  d = Decide(a);
  EXPECT_EQ(FindingOf(d, "uplink")->side, Side::kNeutral);
  EXPECT_TRUE(Contains(FindingOf(d, "uplink")->reason, "8% of the 10 Mbit/s uplink"));
}

TEST(AdvisorDecide, LinkCostWeighsAboveOneDollarAYear) {
  DecideAnswers a;
  a.upload_mb_per_day = 100;
  a.link_cost_per_gb = 2;
  a.devices = 1000;
  Decision d = Decide(a);
  const Finding* f = FindingOf(d, "link_cost");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->side, Side::kEdge);
  EXPECT_EQ(f->strength, Strength::kWeighing);
  // 100 MB x 365 = 36.5 GB at 2 USD: 73 USD per device, 73 000 for the fleet.
  EXPECT_TRUE(Contains(f->reason, "73.00 USD a year per device (73000 USD for 1000 devices)")) << f->reason;
  a.upload_mb_per_day = 2;  // 0.73 GB a year at 1 USD
  a.link_cost_per_gb = 1;
  d = Decide(a);
  EXPECT_EQ(FindingOf(d, "link_cost")->side, Side::kNeutral);
  EXPECT_TRUE(Contains(FindingOf(d, "link_cost")->reason, "0.73 USD a year per device")) << FindingOf(d, "link_cost")->reason;
  // Data without a price: listed as unanswered, not priced at zero.
  a.link_cost_per_gb.reset();
  d = Decide(a);
  EXPECT_EQ(FindingOf(d, "link_cost"), nullptr);
  EXPECT_TRUE(IsUnanswered(d, "link_cost"));
}

TEST(AdvisorDecide, ModelFit) {
  DecideAnswers a;
  a.model_fit = Fit(ModelFit::Result::kTooLarge);
  Decision d = Decide(a);
  EXPECT_EQ(FindingOf(d, "model_fit")->side, Side::kCloud);
  EXPECT_EQ(FindingOf(d, "model_fit")->strength, Strength::kDecisive);
  EXPECT_EQ(d.verdict, Choice::kCloud);

  a.model_fit = Fit(ModelFit::Result::kFitsAsInt8);
  EXPECT_EQ(FindingOf(Decide(a), "model_fit")->strength, Strength::kWeighing);
  a.model_fit = Fit(ModelFit::Result::kFits, 0.8);
  d = Decide(a);
  EXPECT_EQ(FindingOf(d, "model_fit")->side, Side::kCloud);
  EXPECT_TRUE(Contains(FindingOf(d, "model_fit")->reason, "tight hardware, 80% of the RAM"));
  a.model_fit = Fit(ModelFit::Result::kFits, 0.1);
  EXPECT_EQ(FindingOf(Decide(a), "model_fit")->side, Side::kNeutral);
  a.model_fit = Fit(ModelFit::Result::kUnknown);
  d = Decide(a);
  EXPECT_EQ(FindingOf(d, "model_fit"), nullptr);
  EXPECT_TRUE(IsUnanswered(d, "model_fit"));
}

TEST(AdvisorDecide, AggregationAndFewDevicesWeighForCloud) {
  DecideAnswers a;
  a.cross_device = true;
  a.devices = 5;
  a.link_uptime = 0.999;
  const Decision d = Decide(a);
  EXPECT_EQ(FindingOf(d, "aggregation")->side, Side::kCloud);
  EXPECT_EQ(FindingOf(d, "devices")->side, Side::kCloud);
  EXPECT_TRUE(Contains(FindingOf(d, "devices")->reason, "5 devices with a good link (99.9% up)"));
  EXPECT_EQ(d.verdict, Choice::kCloud);
  // Few devices, link not answered: neutral, and it says why.
  DecideAnswers b;
  b.devices = 5;
  EXPECT_EQ(FindingOf(Decide(b), "devices")->side, Side::kNeutral);
  EXPECT_TRUE(Contains(FindingOf(Decide(b), "devices")->reason, "not answered"));
  b.devices = 500;
  b.link_uptime = 0.999;
  EXPECT_EQ(FindingOf(Decide(b), "devices")->side, Side::kNeutral);
}

TEST(AdvisorDecide, LocalLatencyAndAggregationIsHybrid) {
  DecideAnswers a;
  a.latency_ms = 20;
  a.cross_device = true;
  const Decision d = Decide(a);
  EXPECT_EQ(d.verdict, Choice::kHybrid);
  EXPECT_TRUE(Contains(d.summary, "edge inference")) << d.summary;
  EXPECT_TRUE(Contains(d.summary, "cloud aggregation")) << d.summary;
  // Decisive first, then the weighing for the verdict's side, then against.
  ASSERT_GE(d.reasons.size(), 2u);
  EXPECT_EQ(d.reasons[0].rfind("edge, decisive: latency budget 20 ms", 0), 0u) << d.reasons[0];
  EXPECT_EQ(d.reasons[1].rfind("cloud: results are aggregated", 0), 0u) << d.reasons[1];
}

TEST(AdvisorDecide, PrivacyWithAModelThatDoesNotFitIsHybrid) {
  DecideAnswers a;
  a.private_data = true;
  a.model_fit = Fit(ModelFit::Result::kTooLarge);
  const Decision d = Decide(a);
  EXPECT_EQ(d.verdict, Choice::kHybrid);
  EXPECT_FALSE(d.needs_bigger_target);
  EXPECT_TRUE(Contains(d.summary, "no longer raw")) << d.summary;
}

TEST(AdvisorDecide, LatencyWithAModelThatDoesNotFitNeedsABiggerTarget) {
  DecideAnswers a;
  a.latency_ms = 10;
  a.model_fit = Fit(ModelFit::Result::kTooLarge);
  const Decision d = Decide(a);
  EXPECT_EQ(d.verdict, Choice::kEdge);
  EXPECT_TRUE(d.needs_bigger_target);
  EXPECT_TRUE(Contains(d.summary, "bigger target")) << d.summary;
}

TEST(AdvisorDecide, TwoDecisiveReasonsMustBothChange) {
  DecideAnswers a;
  a.latency_ms = 10;
  a.private_data = true;
  const Decision d = Decide(a);
  EXPECT_EQ(d.verdict, Choice::kEdge);
  ASSERT_FALSE(d.would_change.empty());
  EXPECT_EQ(d.would_change[0].rfind("all of: ", 0), 0u) << d.would_change[0];
  EXPECT_TRUE(Contains(d.would_change[0], "raw data may leave the device")) << d.would_change[0];
}

TEST(AdvisorDecide, TooFewAnswersAreInsufficient) {
  DecideAnswers a;
  a.devices = 100;
  a.cross_device = false;
  const Decision d = Decide(a);
  EXPECT_EQ(d.verdict, Choice::kInsufficient);
  EXPECT_EQ(d.answered, 2);
  EXPECT_EQ(ChoiceName(d.verdict), "insufficient answers");
  ASSERT_EQ(d.ask_first.size(), 4u);
  EXPECT_TRUE(Contains(d.ask_first[0], "--latency-ms"));
  EXPECT_TRUE(Contains(d.ask_first[1], "--private-data"));
  EXPECT_TRUE(Contains(d.ask_first[2], "--offline-autonomy"));
  EXPECT_TRUE(Contains(d.ask_first[3], "--model"));
  EXPECT_EQ(d.unanswered.size(), 7u);  // every factor but aggregation and devices
  EXPECT_TRUE(d.would_change.empty());
}

TEST(AdvisorDecide, WeighingFindingsAreCountedAndTiesFollowTheChecklist) {
  // Edge: latency under 100 ms, unreliable link. Cloud: aggregation. 2 to 1, with aggregation.
  DecideAnswers a;
  a.latency_ms = 80;
  a.rtt_ms = 30;
  a.link_uptime = 0.95;
  a.cross_device = true;
  Decision d = Decide(a);
  EXPECT_EQ(d.verdict, Choice::kHybrid);
  EXPECT_TRUE(Contains(d.summary, "2 finding(s) for edge, 1 for cloud")) << d.summary;

  // 1 to 1: the first weighing finding in checklist order (latency) wins.
  DecideAnswers t;
  t.latency_ms = 80;
  t.rtt_ms = 30;
  t.model_fit = Fit(ModelFit::Result::kFits, 0.9);
  t.private_data = false;
  d = Decide(t);
  EXPECT_EQ(d.verdict, Choice::kEdge);
  EXPECT_TRUE(Contains(d.summary, "tie broken by latency")) << d.summary;

  // Cloud outweighs: tight hardware and few devices with a good link.
  DecideAnswers c;
  c.model_fit = Fit(ModelFit::Result::kFitsAsInt8);
  c.devices = 3;
  c.link_uptime = 0.999;
  d = Decide(c);
  EXPECT_EQ(d.verdict, Choice::kCloud);
  EXPECT_TRUE(Contains(d.summary, "0 finding(s) for edge, 2 for cloud")) << d.summary;
  // Unanswered questions that could force the edge are named.
  bool names_privacy = false;
  for (const std::string& w : d.would_change) names_privacy |= Contains(w, "--private-data yes");
  EXPECT_TRUE(names_privacy);
}

TEST(AdvisorDecide, NothingForTheEdgeIsCloud) {
  DecideAnswers a;
  a.latency_ms = 500;
  a.private_data = false;
  a.offline_autonomy = false;
  const Decision d = Decide(a);
  EXPECT_EQ(d.verdict, Choice::kCloud);
  EXPECT_TRUE(Contains(d.summary, "nothing answered requires the edge")) << d.summary;
}

TEST(AdvisorDecide, InvalidAnswersAreRefused) {
  const std::vector<std::pair<DecideAnswers, std::string>> cases = [] {
    std::vector<std::pair<DecideAnswers, std::string>> v;
    DecideAnswers a;
    a.latency_ms = 0;
    v.push_back({a, "--latency-ms must be a positive"});
    a = {};
    a.rtt_ms = -1;
    v.push_back({a, "--rtt-ms"});
    a = {};
    a.link_uptime = 1.5;
    v.push_back({a, "--link-uptime must be in (0, 1]"});
    a = {};
    a.outage_hours_per_day = 24;
    v.push_back({a, "--outage-hours must be in [0, 24)"});
    a = {};
    a.link_uptime = 0.9;
    a.outage_hours_per_day = 1;
    v.push_back({a, "not both"});
    a = {};
    a.inferences_per_day = 10;
    v.push_back({a, "--inferences-per-day needs --input-bytes"});
    a = {};
    a.input_bytes = 10;
    a.inferences_per_day = 10;
    a.upload_mb_per_day = 1;
    v.push_back({a, "--upload-mb-per-day or --inferences-per-day"});
    a = {};
    a.devices = 2.5;
    v.push_back({a, "--devices must be a whole number"});
    a = {};
    a.devices = 0;
    v.push_back({a, "--devices must be a whole number, 1 or more"});
    a = {};
    a.uplink_mbps = std::numeric_limits<double>::infinity();
    v.push_back({a, "--uplink-mbps"});
    a = {};
    a.link_cost_per_gb = -2;
    v.push_back({a, "--link-cost-per-gb"});
    a = {};
    a.model_mb = 0;
    v.push_back({a, "--model-mb"});
    return v;
  }();
  for (const auto& [answers, message] : cases) {
    const Expected<DecideAnswers> r = ValidateAnswers(answers);
    ASSERT_FALSE(r.ok()) << message;
    EXPECT_TRUE(Contains(r.error().what(), message)) << r.error().what();
  }
  DecideAnswers ok;
  ok.latency_ms = 50;
  ok.link_uptime = 1;
  ok.devices = 1;
  EXPECT_TRUE(ValidateAnswers(ok).ok());
}

TEST(AdvisorDecide, ParsesTypedAnswers) {
  EXPECT_DOUBLE_EQ(*ParseNumberAnswer(" 42.5 "), 42.5);
  EXPECT_FALSE(ParseNumberAnswer("fast").ok());
  EXPECT_FALSE(ParseNumberAnswer("12ms").ok());
  EXPECT_FALSE(ParseNumberAnswer("nan").ok());
  EXPECT_FALSE(ParseNumberAnswer("").ok());
  EXPECT_TRUE(*ParseYesNoAnswer("YES"));
  EXPECT_TRUE(*ParseYesNoAnswer("y"));
  EXPECT_FALSE(*ParseYesNoAnswer(" no"));
  EXPECT_FALSE(*ParseYesNoAnswer("N"));
  const Expected<bool> bad = ParseYesNoAnswer("maybe");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.error().what()), "'maybe' is not yes or no");
}

// board: 1 GiB RAM. mcu: 256 KiB SRAM, 1 MiB flash.
HardwareCatalog FitCatalog() {
  auto fig = [](double v, const std::string& unit) {
    Figure f;
    f.value = v;
    f.unit = unit;
    f.source = "s";
    return f;
  };
  HardwareCatalog c;
  Target board;
  board.id = "board";
  board.kind = "sbc";
  board.memory["ram_bytes"] = fig(1024.0 * 1024 * 1024, "B");
  c.targets.push_back(board);
  Target mcu;
  mcu.id = "mcu";
  mcu.kind = "mcu";
  mcu.memory["ram_bytes"] = fig(256 * 1024, "B");
  mcu.memory["flash_onchip_bytes"] = fig(1024 * 1024, "B");
  c.targets.push_back(mcu);
  return c;
}

PlanModel FitModel(uint64_t arena, uint64_t weights, Precision p = Precision::kFp32) {
  PlanModel m;
  m.name = "m";
  m.macs = 1000;
  m.arena_bytes = arena;
  m.weight_bytes = weights;
  m.precision = p;
  return m;
}

TEST(AdvisorDecide, FitUsesPlansMemoryArithmetic) {
  const HardwareCatalog c = FitCatalog();
  // 100 KiB arena + 100 KiB weights in 1 GiB of RAM.
  Expected<ModelFit> f = CheckModelFit(FitModel(100 * 1024, 100 * 1024), "board", c);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ(f->result, ModelFit::Result::kFits);
  EXPECT_DOUBLE_EQ(*f->ram_share, 200.0 * 1024 / (1024.0 * 1024 * 1024));
  EXPECT_TRUE(Contains(f->detail, "200.0 KiB <= 1.0 GiB on board")) << f->detail;

  // MCU: 600 KiB arena > 256 KiB SRAM; as int8 150 KiB fits.
  f = CheckModelFit(FitModel(600 * 1024, 100 * 1024), "mcu", c);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->result, ModelFit::Result::kFitsAsInt8);
  EXPECT_TRUE(Contains(f->detail, "as int8 about 150.0 KiB")) << f->detail;
  // The same arena already int8: nothing smaller to go to.
  f = CheckModelFit(FitModel(600 * 1024, 100 * 1024, Precision::kInt8), "mcu", c);
  EXPECT_EQ(f->result, ModelFit::Result::kTooLarge);
  // 2 MiB arena: 512 KiB even as int8.
  f = CheckModelFit(FitModel(2 * 1024 * 1024, 100 * 1024), "mcu", c);
  EXPECT_EQ(f->result, ModelFit::Result::kTooLarge);
  // Weights beyond flash even as int8 (8 MiB / 4 > 1 MiB).
  f = CheckModelFit(FitModel(10 * 1024, 8 * 1024 * 1024), "mcu", c);
  EXPECT_EQ(f->result, ModelFit::Result::kTooLarge);

  const Expected<ModelFit> unknown = CheckModelFit(FitModel(1, 1), "nope", c);
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(Contains(unknown.error().what(), "nope"));
}

}  // namespace
}  // namespace outpost::advisor::decide
