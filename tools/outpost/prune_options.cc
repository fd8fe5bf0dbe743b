#include "tools/outpost/prune_options.h"

#include <cmath>
#include <map>

#include "tools/outpost/cli_util.h"
#include "tools/outpost/optimized_model.h"

namespace outpost::cli {

void AddPruneTargetOptions(CLI::App* app, PruneTargetArgs* args) {
  app->add_option("--ratio", args->ratio,
                  "Share of each channel group to remove, in [0, 1) (0.3: keep 70%)");
  app->add_option("--target-macs", args->target_macs,
                  "Prune until the model has at most this many MACs: 3000000, 3M, 800K, or a "
                  "share of the model's, e.g. 50%");
  app->add_option("--target-latency-ms", args->target_latency_ms,
                  "Prune until the median latency on this host (one thread) is at most this");
}

void AddPruneMethodOptions(CLI::App* app, PruneMethodArgs* args) {
  app->add_option("--criterion", args->criterion,
                  "How channels are ranked: l1 or l2 weight norm, or reconstruction (greedy, "
                  "least added output error of the next layers on the calibration data); auto: "
                  "reconstruction when --calib is given, else l1")
      ->check(CLI::IsMember({"auto", "l1", "l2", "reconstruction"}))
      ->capture_default_str();
  app->add_flag("--no-reconstruct", args->no_reconstruct,
                "Keep the cut weights as they are: no least-squares refit of the next layers");
  app->add_option("--ridge", args->ridge,
                  "Ridge term of the refit relative to the mean diagonal (default: 1e-3 for "
                  "convolutions, 1e-2 for fully connected layers)");
  app->add_option("--min-channels", args->min_channels, "Keep at least N channels per group")
      ->capture_default_str();
  app->add_option("--channel-multiple", args->channel_multiple,
                  "Round kept channels up to a multiple of N (vector-friendly widths)")
      ->capture_default_str();
  app->add_option("--exclude", args->exclude,
                  "Keep the output channels of node NODE (repeatable; see 'outpost inspect')")
      ->allow_extra_args(false);
}

void CheckPruneMethodArgs(const PruneMethodArgs& m) {
  if (m.ridge < 0) throw UsageError("--ridge must be 0 (defaults) or more");
  if (m.min_channels < 1) throw UsageError("--min-channels must be at least 1");
  if (m.channel_multiple < 1) throw UsageError("--channel-multiple must be at least 1");
}

void AddSparsityOptions(CLI::App* app, SparsityArgs* args) {
  app->add_option("--sparsity", args->sparsity,
                  "Also set this share of each layer's smallest weights to zero, in [0, 1) "
                  "(unstructured magnitude sparsity: the file shrinks, the MACs stay)");
  app->add_option("--sparsity-min-weights", args->min_weights,
                  "Leave layers with fewer weights than this dense")
      ->capture_default_str();
}

bool HasPruneTarget(const PruneTargetArgs& t) {
  return t.ratio.has_value() || !t.target_macs.empty() || t.target_latency_ms.has_value();
}

void CheckSparsityArgs(const SparsityArgs& s) {
  if (s.sparsity && !(*s.sparsity >= 0 && *s.sparsity < 1))
    throw UsageError("--sparsity must be in [0, 1)");
  if (s.min_weights < 1) throw UsageError("--sparsity-min-weights must be at least 1");
}

prune::SparsityOptions MakeSparsityOptions(const SparsityArgs& s, const PruneMethodArgs& m) {
  prune::SparsityOptions o;
  o.sparsity = s.sparsity.value_or(0.0);
  o.min_weights = s.min_weights;
  o.exclude.insert(m.exclude.begin(), m.exclude.end());
  return o;
}

void CheckPruneArgs(const PruneTargetArgs& t, const PruneMethodArgs& m, const SparsityArgs& s) {
  const int targets =
      int(t.ratio.has_value()) + int(!t.target_macs.empty()) + int(t.target_latency_ms.has_value());
  if (targets > 1 || (targets == 0 && !s.sparsity))
    throw UsageError("give one of --ratio, --target-macs, --target-latency-ms, or --sparsity, "
                     "or one of the three with --sparsity");
  CheckSparsityArgs(s);
  if (t.ratio && !(*t.ratio >= 0 && *t.ratio < 1)) throw UsageError("--ratio must be in [0, 1)");
  if (t.target_latency_ms && !(*t.target_latency_ms > 0))
    throw UsageError("--target-latency-ms must be more than 0");
  CheckPruneMethodArgs(m);
}

std::optional<NumberWithUnit> SplitNumber(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!std::isfinite(v)) return std::nullopt;
  return NumberWithUnit{v, text.substr(used)};
}

uint64_t ParseMacs(const std::string& text, uint64_t model_macs, const std::string& option) {
  const UsageError bad(option + " '" + text + "': give a count (3000000, 3M, 800K, 1.5G) or a "
                       "share of the model's MACs (50%)");
  const std::optional<NumberWithUnit> n = SplitNumber(text);
  if (!n || !(n->value > 0)) throw bad;
  if (n->unit == "%") {
    if (n->value > 100) throw bad;
    return static_cast<uint64_t>(std::floor(double(model_macs) * n->value / 100.0));
  }
  const std::map<std::string, double> scale = {{"", 1}, {"K", 1e3}, {"k", 1e3}, {"M", 1e6},
                                               {"G", 1e9}};
  const auto it = scale.find(n->unit);
  if (it == scale.end()) throw bad;
  return static_cast<uint64_t>(std::floor(n->value * it->second));
}

prune::PruneOptions MakePruneMethod(const PruneMethodArgs& m, bool have_data) {
  prune::PruneOptions o;
  const bool greedy = m.criterion == "reconstruction" || (m.criterion == "auto" && have_data);
  o.criterion = m.criterion == "l2" ? prune::Criterion::kL2
                : greedy            ? prune::Criterion::kReconstruction
                                    : prune::Criterion::kL1;
  o.reconstruct = !m.no_reconstruct;
  if (m.ridge > 0) o.reconstruction.ridge_conv = o.reconstruction.ridge_fc = m.ridge;
  o.min_channels = m.min_channels;
  o.channel_multiple = m.channel_multiple;
  o.exclude.insert(m.exclude.begin(), m.exclude.end());
  return o;
}

prune::PruneOptions MakePruneOptions(const PruneTargetArgs& t, const PruneMethodArgs& m,
                                     bool have_data, const ir::Graph& g,
                                     const std::vector<float>& sample) {
  prune::PruneOptions o = MakePruneMethod(m, have_data);
  o.ratio = t.ratio;
  if (!t.target_macs.empty()) o.target_macs = ParseMacs(t.target_macs, g.CountMacs(), "--target-macs");
  if (t.target_latency_ms) {
    o.target_cost = *t.target_latency_ms;
    o.cost_name = "latency (ms)";
    o.cost = [sample](const ir::Graph& x) -> Expected<double> {
      return Capture([&]() { return MedianLatencyMs(x, sample); });
    };
  }
  return o;
}

}  // namespace outpost::cli
