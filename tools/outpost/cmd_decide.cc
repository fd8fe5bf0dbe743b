// outpost decide: the edge-or-cloud checklist (docs/advisor.md, "Decide: edge or cloud"). The
// rules are advisor/decide/edge_or_cloud.h; this file takes the answers from flags or a short
// questionnaire, checks the model's fit on a catalog target when asked, and prints the verdict.
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "advisor/catalog/hardware_catalog.h"
#include "advisor/decide/edge_or_cloud.h"
#include "io/model_file.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"
#include "tools/outpost/model_summary.h"

namespace outpost::cli {
namespace {

struct DecideArgs {
  advisor::decide::DecideAnswers answers;
  std::string private_data, offline_autonomy, cross_device, model_fits;  // yes|no as typed
  std::string model, target, catalog_dir;
  bool interactive = false;
  bool json = false;
};

std::optional<bool> DecideYesNoFlag(const std::string& flag, const std::string& text) {
  if (text.empty()) return std::nullopt;
  Expected<bool> v = advisor::decide::ParseYesNoAnswer(text);
  if (!v) throw UsageError(flag + ": " + v.error().what());
  return *v;
}

advisor::decide::ModelFit DecideAnsweredFit(bool fits) {
  advisor::decide::ModelFit f;
  f.result = fits ? advisor::decide::ModelFit::Result::kFits : advisor::decide::ModelFit::Result::kTooLarge;
  f.detail = fits ? "answered: the model fits the device" : "answered: the model does not fit the device";
  return f;
}

// One question of the questionnaire: asked only when its flag was not given.
struct DecideQuestion {
  std::string flag, text, default_text;
  bool yes_no = false;
  std::function<bool(const advisor::decide::DecideAnswers&)> answered;
  std::function<void(advisor::decide::DecideAnswers&, double)> set;  // yes/no arrive as 1 / 0
};

std::vector<DecideQuestion> DecideQuestions(bool fit_from_model) {
  using A = advisor::decide::DecideAnswers;
  std::vector<DecideQuestion> q = {
      {"--latency-ms", "Latency budget per inference, end to end (ms)", "skip", false,
       [](const A& a) { return a.latency_ms.has_value(); }, [](A& a, double v) { a.latency_ms = v; }},
      {"--rtt-ms", "Round trip to the cloud (ms)",
       "assume " + std::to_string(int(advisor::decide::kDefaultRttMs)) + ": median 4G LTE ping, Catchpoint 2013", false,
       [](const A& a) { return a.rtt_ms.has_value(); }, [](A& a, double v) { a.rtt_ms = v; }},
      {"--input-bytes", "Bytes uploaded per inference for cloud inference", "skip", false,
       [](const A& a) { return a.input_bytes.has_value(); }, [](A& a, double v) { a.input_bytes = v; }},
      {"--uplink-mbps", "Uplink rate (Mbit/s)", "skip", false, [](const A& a) { return a.uplink_mbps.has_value(); },
       [](A& a, double v) { a.uplink_mbps = v; }},
      {"--upload-mb-per-day", "Data uploaded per device per day for cloud inference (MB)", "skip", false,
       [](const A& a) { return a.upload_mb_per_day || a.inferences_per_day; },
       [](A& a, double v) { a.upload_mb_per_day = v; }},
      {"--inferences-per-day", "Inferences per device per day", "skip", false,
       // Only asked when the upload per day can be derived from it.
       [](const A& a) { return a.inferences_per_day || a.upload_mb_per_day || !a.input_bytes; },
       [](A& a, double v) { a.inferences_per_day = v; }},
      {"--link-uptime", "Share of the time the link is up (0-1)", "skip", false,
       [](const A& a) { return a.link_uptime || a.outage_hours_per_day; }, [](A& a, double v) { a.link_uptime = v; }},
      {"--link-cost-per-gb", "Link cost per GB uploaded (USD)", "skip", false,
       [](const A& a) { return a.link_cost_per_gb.has_value(); }, [](A& a, double v) { a.link_cost_per_gb = v; }},
      {"--private-data", "Must the raw data stay on the device (yes/no)", "skip", true,
       [](const A& a) { return a.private_data.has_value(); }, [](A& a, double v) { a.private_data = v != 0; }},
      {"--offline-autonomy", "Must the device act while the link is down (yes/no)", "skip", true,
       [](const A& a) { return a.offline_autonomy.has_value(); }, [](A& a, double v) { a.offline_autonomy = v != 0; }},
      {"--cross-device", "Must results be aggregated across devices (yes/no)", "skip", true,
       [](const A& a) { return a.cross_device.has_value(); }, [](A& a, double v) { a.cross_device = v != 0; }},
      {"--devices", "Number of devices", "skip", false, [](const A& a) { return a.devices.has_value(); },
       [](A& a, double v) { a.devices = v; }},
  };
  if (!fit_from_model) {
    q.push_back({"--model-fits", "Does the model fit the device (yes/no)", "skip", true,
                 [](const A& a) { return a.model_fit.has_value(); }, [](A& a, double v) { a.model_fit = DecideAnsweredFit(v != 0); }});
    q.push_back({"--model-mb", "Model size (MB)", "skip", false, [](const A& a) { return a.model_mb.has_value(); },
                 [](A& a, double v) { a.model_mb = v; }});
  }
  return q;
}

// Asks each unanswered question on `out`, reads the answers from stdin: an empty line skips, an
// invalid answer is asked again once with the reason, then is an error; end of input stops
// asking.
void AskDecideQuestions(advisor::decide::DecideAnswers& answers, bool fit_from_model, std::ostream& out) {
  for (const DecideQuestion& q : DecideQuestions(fit_from_model)) {
    if (q.answered(answers)) continue;
    for (int attempt = 0;; ++attempt) {
      out << q.text << " [" << q.default_text << "]: " << std::endl;
      std::string line;
      if (!std::getline(std::cin, line)) return;
      if (line.find_first_not_of(" \t\r") == std::string::npos) break;
      std::string problem;
      advisor::decide::DecideAnswers trial = answers;
      if (q.yes_no) {
        Expected<bool> v = advisor::decide::ParseYesNoAnswer(line);
        if (v) q.set(trial, *v ? 1 : 0);
        else problem = v.error().what();
      } else {
        Expected<double> v = advisor::decide::ParseNumberAnswer(line);
        if (v) q.set(trial, *v);
        else problem = v.error().what();
      }
      if (problem.empty()) {
        Expected<advisor::decide::DecideAnswers> ok = advisor::decide::ValidateAnswers(trial);
        if (ok) {
          answers = trial;
          break;
        }
        problem = ok.error().what();
      }
      if (attempt > 0) throw UsageError(q.flag + ": " + problem);
      out << "  invalid: " << problem << "; once more" << std::endl;
    }
  }
}

nlohmann::json DecideOptNum(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
nlohmann::json DecideOptBool(const std::optional<bool>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

std::string_view DecideFitName(advisor::decide::ModelFit::Result r) {
  switch (r) {
    case advisor::decide::ModelFit::Result::kFits: return "fits";
    case advisor::decide::ModelFit::Result::kFitsAsInt8: return "fits_as_int8";
    case advisor::decide::ModelFit::Result::kTooLarge: return "too_large";
    case advisor::decide::ModelFit::Result::kUnknown: return "unknown";
  }
  return "unknown";
}

void PrintDecisionJson(const advisor::decide::DecideAnswers& a, const advisor::decide::Decision& d) {
  nlohmann::json j;
  j["verdict"] = std::string(advisor::decide::ChoiceName(d.verdict));
  j["summary"] = d.summary;
  j["needs_bigger_target"] = d.needs_bigger_target;
  j["answered"] = d.answered;
  nlohmann::json findings = nlohmann::json::array();
  for (const advisor::decide::Finding& f : d.findings)
    findings.push_back({{"factor", f.factor},
                        {"side", std::string(advisor::decide::SideName(f.side))},
                        {"strength", f.strength == advisor::decide::Strength::kNone ? "none" : std::string(advisor::decide::StrengthName(f.strength))},
                        {"reason", f.reason}});
  j["findings"] = findings;
  j["reasons"] = d.reasons;
  j["would_change"] = d.would_change;
  nlohmann::json unanswered = nlohmann::json::array();
  for (const advisor::decide::Unanswered& u : d.unanswered)
    unanswered.push_back({{"factor", u.factor}, {"question", u.question}, {"flag", u.flag}});
  j["unanswered"] = unanswered;
  j["ask_first"] = d.ask_first;
  nlohmann::json assumptions = nlohmann::json::array();
  for (const advisor::decide::Assumption& s : d.assumptions)
    assumptions.push_back({{"what", s.what}, {"value", s.value}, {"source", s.source}});
  j["assumptions"] = assumptions;
  nlohmann::json fit = nullptr;
  if (a.model_fit) {
    fit = {{"result", std::string(DecideFitName(a.model_fit->result))}, {"detail", a.model_fit->detail},
           {"ram_share", DecideOptNum(a.model_fit->ram_share)}};
  }
  j["answers"] = {{"latency_ms", DecideOptNum(a.latency_ms)},
                  {"rtt_ms", DecideOptNum(a.rtt_ms)},
                  {"uplink_mbps", DecideOptNum(a.uplink_mbps)},
                  {"input_bytes", DecideOptNum(a.input_bytes)},
                  {"inferences_per_day", DecideOptNum(a.inferences_per_day)},
                  {"link_uptime", DecideOptNum(a.link_uptime)},
                  {"outage_hours_per_day", DecideOptNum(a.outage_hours_per_day)},
                  {"link_cost_per_gb", DecideOptNum(a.link_cost_per_gb)},
                  {"upload_mb_per_day", DecideOptNum(a.upload_mb_per_day)},
                  {"private_data", DecideOptBool(a.private_data)},
                  {"offline_autonomy", DecideOptBool(a.offline_autonomy)},
                  {"cross_device", DecideOptBool(a.cross_device)},
                  {"devices", DecideOptNum(a.devices)},
                  {"model_fit", fit},
                  {"model_mb", DecideOptNum(a.model_mb)}};
  std::cout << j.dump(2) << "\n";
}

void PrintDecisionText(const advisor::decide::Decision& d) {
  std::cout << "verdict: " << advisor::decide::ChoiceName(d.verdict) << "\n  " << d.summary << "\n\n";
  if (!d.findings.empty()) {
    Table table({"factor", "for", "strength", "finding"}, {false, false, false, false});
    for (const advisor::decide::Finding& f : d.findings)
      table.AddRow({f.factor, std::string(advisor::decide::SideName(f.side)), std::string(advisor::decide::StrengthName(f.strength)), f.reason});
    table.Print(std::cout);
    std::cout << "\n";
  }
  if (!d.ask_first.empty()) {
    std::cout << "answer these first:\n";
    for (const std::string& q : d.ask_first) std::cout << "  - " << q << "\n";
  }
  if (!d.unanswered.empty()) {
    std::cout << "not answered:\n";
    for (const advisor::decide::Unanswered& u : d.unanswered) std::cout << "  - " << u.factor << ": " << u.question << " (" << u.flag << ")\n";
  }
  for (const advisor::decide::Assumption& s : d.assumptions)
    std::cout << "assumed: " << s.what << " " << s.value << ", " << s.source << " (--rtt-ms to give yours)\n";
  if (!d.reasons.empty() && d.verdict != advisor::decide::Choice::kInsufficient) {
    std::cout << "\nreasons, by weight:\n";
    for (const std::string& r : d.reasons) std::cout << "  - " << r << "\n";
  }
  if (!d.would_change.empty()) {
    std::cout << "\nwould change the verdict:\n";
    for (const std::string& w : d.would_change) std::cout << "  - " << w << "\n";
  }
}

void RunDecide(DecideArgs& args) {
  advisor::decide::DecideAnswers& a = args.answers;
  a.private_data = DecideYesNoFlag("--private-data", args.private_data);
  a.offline_autonomy = DecideYesNoFlag("--offline-autonomy", args.offline_autonomy);
  a.cross_device = DecideYesNoFlag("--cross-device", args.cross_device);
  if (std::optional<bool> fits = DecideYesNoFlag("--model-fits", args.model_fits)) a.model_fit = DecideAnsweredFit(*fits);
  if (!args.target.empty() && args.model.empty())
    throw UsageError("--target needs --model: the fit is the model's arena + weights against the target's memory");
  if (!args.model.empty() && a.model_fit)
    throw UsageError("give --model-fits or --model, not both: they answer the same question");
  if (Expected<advisor::decide::DecideAnswers> ok = advisor::decide::ValidateAnswers(a); !ok) throw UsageError(ok.error().what());

  if (!args.model.empty()) {
    const io::LoadedModel model = Must(io::LoadedModel::Open(args.model));
    const advisor::PlanModel pm = SummarizeModel(model, args.model);
    if (!a.model_mb) a.model_mb = static_cast<double>(pm.weight_bytes) / 1e6;
    if (args.target.empty()) {
      advisor::decide::ModelFit unknown;
      unknown.detail = "give --target ID to check " + args.model + " against a catalog target";
      a.model_fit = unknown;
    } else {
      const std::string dir = args.catalog_dir.empty() ? advisor::DefaultCatalogDir() : args.catalog_dir;
      const advisor::HardwareCatalog catalog = Must(advisor::LoadHardwareCatalog(dir + "/hardware.json"));
      if (Expected<const advisor::Target*> t = catalog.FindTarget(args.target); !t) throw UsageError(t.error().what());
      a.model_fit = Must(advisor::decide::CheckModelFit(pm, args.target, catalog));
    }
  }
  if (args.interactive) AskDecideQuestions(a, !args.model.empty(), args.json ? std::cerr : std::cout);

  const advisor::decide::Decision d = advisor::decide::Decide(a);
  if (args.json)
    PrintDecisionJson(a, d);
  else
    PrintDecisionText(d);
}

void AddDecideNumber(CLI::App* app, const std::string& name, std::optional<double>& target, const std::string& help) {
  app->add_option_function<double>(name, [&target](const double& v) { target = v; }, help);
}

}  // namespace

Command AddDecideCommand(CLI::App& root) {
  auto args = std::make_shared<DecideArgs>();
  CLI::App* app = root.add_subcommand("decide", "Edge or cloud: the checklist, a verdict and its reasons");
  advisor::decide::DecideAnswers& a = args->answers;
  AddDecideNumber(app, "--latency-ms", a.latency_ms, "Latency budget per inference, end to end (ms)");
  AddDecideNumber(app, "--rtt-ms", a.rtt_ms, "Round trip to the cloud (ms; default 55, a median 4G LTE ping)");
  AddDecideNumber(app, "--uplink-mbps", a.uplink_mbps, "Uplink rate (Mbit/s)");
  AddDecideNumber(app, "--input-bytes", a.input_bytes, "Bytes uploaded per inference for cloud inference");
  AddDecideNumber(app, "--inferences-per-day", a.inferences_per_day, "Inferences per device per day (with --input-bytes)");
  AddDecideNumber(app, "--link-uptime", a.link_uptime, "Share of the time the link is up, (0, 1]");
  AddDecideNumber(app, "--outage-hours", a.outage_hours_per_day, "Hours a day the link is down (instead of --link-uptime)");
  AddDecideNumber(app, "--link-cost-per-gb", a.link_cost_per_gb, "Link cost per GB uploaded (USD)");
  AddDecideNumber(app, "--upload-mb-per-day", a.upload_mb_per_day, "Data uploaded per device per day for cloud inference (MB)");
  AddDecideNumber(app, "--devices", a.devices, "Number of devices");
  AddDecideNumber(app, "--model-mb", a.model_mb, "Model size (MB; default with --model: its weights)");
  app->add_option("--private-data", args->private_data, "yes: the raw data may not leave the device");
  app->add_option("--offline-autonomy", args->offline_autonomy, "yes: the device must act while the link is down");
  app->add_option("--cross-device", args->cross_device, "yes: results are aggregated across devices");
  app->add_option("--model-fits", args->model_fits, "yes|no: whether the model fits the device (or --model with --target)");
  app->add_option("--model", args->model, ".opm model whose fit on --target is checked")->check(CLI::ExistingFile);
  app->add_option("--target", args->target, "Catalog target id for the fit check (outpost plan lists them)");
  app->add_option("--catalog", args->catalog_dir, "Directory with hardware.json (default: the built-in catalog)");
  app->add_flag("--interactive", args->interactive,
                "Ask the questions not given as flags, one a line on stdout (stderr with --json); empty answer skips");
  app->add_flag("--json", args->json, "Print one JSON object instead of the text");
  app->footer(
      "Unanswered questions are listed, never assumed; the cloud round trip defaults to 55 ms (median 4G LTE\n"
      "ping, https://calendar.perfplanet.com/2013/network-latency-4g/). Example:\n"
      "  outpost decide --latency-ms 50 --private-data no --offline-autonomy yes --cross-device yes \\\n"
      "      --upload-mb-per-day 500 --link-cost-per-gb 2 --devices 200 --model kws.opm --target rpi4-4gb");
  return {app, [args] { RunDecide(*args); }};
}

}  // namespace outpost::cli
