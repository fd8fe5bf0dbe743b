// PruneGraph(): channel ranking, the choice of how many channels each group keeps (from a ratio
// or by bisection on a MAC or cost target), the cut, and the least-squares refit.
#include "compiler/prune/pruner.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "compiler/prune/channel_importance.h"
#include "compiler/prune/reconstruction.h"

namespace outpost::prune {
namespace {

// Channels group `c` keeps when a share `ratio` is removed.
int64_t KeptCount(int64_t channels, double ratio, const PruneOptions& o) {
  int64_t keep = channels - static_cast<int64_t>(std::llround(ratio * double(channels)));
  keep = std::max<int64_t>(keep, std::min<int64_t>(o.min_channels, channels));
  if (o.channel_multiple > 1)
    keep = (keep + o.channel_multiple - 1) / o.channel_multiple * o.channel_multiple;
  return std::clamp<int64_t>(keep, 1, channels);
}

struct Plan {
  const ir::Graph& graph;
  const ChannelAnalysis& analysis;
  const std::vector<int>& prunable;                 // spaces that may be cut
  const std::vector<std::vector<double>>& ranking;  // by position in `prunable`
  const PruneOptions& options;

  KeepMap Keep(double ratio) const {
    KeepMap keep(analysis.spaces.size());
    for (size_t k = 0; k < prunable.size(); ++k) {
      const int s = prunable[k];
      const int64_t channels = analysis.spaces[s].channels;
      const int64_t kept = KeptCount(channels, ratio, options);
      if (kept >= channels) continue;
      // The most important channels, then back in their original order.
      std::vector<int64_t> order(static_cast<size_t>(channels));
      std::iota(order.begin(), order.end(), 0);
      const std::vector<double>& score = ranking[k];
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return score[a] > score[b]; });
      order.resize(static_cast<size_t>(kept));
      std::sort(order.begin(), order.end());
      keep[s] = std::move(order);
    }
    return keep;
  }

  ir::Graph Cut(double ratio) const {
    Expected<ir::Graph> g = ApplyChannelPruning(graph, analysis, Keep(ratio));
    if (!g) throw g.error();
    return std::move(g.value());
  }
};

// Smallest ratio in [0, 1] whose pruned graph's metric is at most `target` (the metric falls as
// the ratio grows). Throws when even the largest cut misses the target.
double SearchRatio(const Plan& plan, const std::function<double(const ir::Graph&)>& metric,
                   double target, const std::string& what, int steps,
                   const PruneProgressFn& progress) {
  const double at_zero = metric(plan.graph);
  if (at_zero <= target) return 0.0;
  const double at_max = metric(plan.Cut(1.0));
  if (at_max > target)
    throw Error("no channel pruning reaches the " + what + " target " + std::to_string(target) +
                ": keeping " + std::to_string(plan.options.min_channels) +
                " channel(s) per group still gives " + std::to_string(at_max));
  double lo = 0.0, hi = 1.0;
  for (int i = 0; i < steps; ++i) {
    const double mid = 0.5 * (lo + hi);
    (metric(plan.Cut(mid)) <= target ? hi : lo) = mid;
    if (progress) progress("search", i + 1, steps);
  }
  return hi;
}

}  // namespace

const char* CriterionName(Criterion c) {
  switch (c) {
    case Criterion::kL1:
      return "l1";
    case Criterion::kL2:
      return "l2";
    case Criterion::kReconstruction:
      return "reconstruction";
  }
  return "?";
}

uint64_t WeightBytes(const ir::Graph& g) {
  uint64_t bytes = 0;
  for (const ir::Tensor& t : g.tensors)
    if (t.constant) bytes += t.bytes();
  return bytes;
}

Expected<PruneResult> PruneGraph(const ir::Graph& float_graph, const quant::Dataset* calibration,
                                 const PruneOptions& options, const PruneProgressFn& progress) {
  return Capture([&]() -> PruneResult {
    const int targets = int(options.ratio.has_value()) + int(options.target_macs.has_value()) +
                        int(options.target_cost.has_value());
    if (targets != 1)
      throw Error("give exactly one pruning target: a ratio, a MAC budget or a cost budget");
    if (options.ratio && !(*options.ratio >= 0.0 && *options.ratio < 1.0))
      throw Error("pruning ratio must be in [0, 1), got " + std::to_string(*options.ratio));
    if (options.target_cost && !options.cost)
      throw Error("a cost target needs a cost measurement");
    if (options.min_channels < 1 || options.channel_multiple < 1)
      throw Error("minimum channels and channel multiple must be at least 1");
    const bool needs_data = options.reconstruct || options.criterion == Criterion::kReconstruction;
    if (needs_data && (calibration == nullptr || calibration->samples.empty()))
      throw Error(std::string("calibration data is needed for ") +
                  (options.reconstruct ? "least-squares reconstruction"
                                       : "the reconstruction criterion"));

    Expected<ChannelAnalysis> analyzed = AnalyzeChannels(float_graph);
    if (!analyzed) throw analyzed.error();
    const ChannelAnalysis& a = analyzed.value();
    const ir::Graph& g = float_graph;

    PruneResult result;
    PruneReport& r = result.report;
    r.criterion = CriterionName(options.criterion);
    for (const std::string& name : options.exclude)
      if (std::none_of(g.nodes.begin(), g.nodes.end(),
                       [&](const ir::Node& n) { return n.name == name; }))
        throw Error("--exclude: no node named '" + name + "'");

    std::vector<int> prunable;
    for (int s : a.groups) {
      const ChannelSpace& sp = a.spaces[s];
      const auto excluded = std::find_if(sp.producers.begin(), sp.producers.end(), [&](int p) {
        return options.exclude.count(g.nodes[p].name) > 0;
      });
      if (excluded != sp.producers.end()) {
        r.frozen.push_back({SpaceName(g, a, s), "excluded ('" + g.nodes[*excluded].name + "')"});
        continue;
      }
      prunable.push_back(s);
    }
    for (int s : a.frozen) r.frozen.push_back({SpaceName(g, a, s), a.spaces[s].frozen_why});
    if (prunable.empty())
      throw Error("the model has no prunable channel group (every layer's channels reach a "
                  "graph output, an input or an operator pruning cannot follow)");

    Expected<std::vector<std::vector<double>>> ranked =
        RankChannels(g, a, prunable, options.criterion, calibration, progress);
    if (!ranked) throw ranked.error();
    const std::vector<std::vector<double>>& ranking = ranked.value();

    const Plan plan{g, a, prunable, ranking, options};
    r.macs_before = g.CountMacs();
    r.weight_bytes_before = WeightBytes(g);
    auto measure = [&](const ir::Graph& x) {
      Expected<double> c = options.cost(x);
      if (!c) throw Error("measuring " + options.cost_name + ": " + c.message());
      return c.value();
    };
    if (options.ratio) {
      r.ratio = *options.ratio;
    } else if (options.target_macs) {
      r.ratio = SearchRatio(
          plan, [](const ir::Graph& x) { return double(x.CountMacs()); },
          double(*options.target_macs), "MAC", 24, progress);
    } else {
      r.ratio = SearchRatio(plan, measure, *options.target_cost, options.cost_name, 10, progress);
    }

    const KeepMap keep = plan.Keep(r.ratio);
    Expected<ir::Graph> cut = ApplyChannelPruning(g, a, keep);
    if (!cut) throw cut.error();
    ir::Graph pruned = std::move(cut.value());

    for (int s : prunable) {
      const ChannelSpace& sp = a.spaces[s];
      GroupReport gr;
      gr.name = SpaceName(g, a, s);
      for (int p : sp.producers) gr.producers.push_back(g.nodes[p].name);
      for (int c : sp.consumers) gr.consumers.push_back(g.nodes[c].name);
      gr.channels = sp.channels;
      gr.kept = keep[s].empty() ? sp.channels : static_cast<int64_t>(keep[s].size());
      r.groups.push_back(std::move(gr));
    }

    if (options.reconstruct) {
      // Dense layers whose input lost channels, in execution order.
      std::vector<RefitLayer> layers;
      for (size_t n = 0; n < g.nodes.size(); ++n) {
        const ir::Node& node = g.nodes[n];
        const bool dense = (node.op == opm::OpCode::FULLY_CONNECTED ||
                            (node.op == opm::OpCode::CONV_2D && !a.depthwise[n] &&
                             node.options.AsConv2DOptions()->groups == 1));
        if (!dense || node.inputs.size() < 2 || !g.tensors[node.inputs[1]].constant) continue;
        const int in = node.inputs[0];
        if (pruned.tensors[in].shape == g.tensors[in].shape) continue;
        const int out = node.outputs[0];
        layers.push_back({static_cast<int>(n),
                          KeptPositions(a, keep, out, g.tensors[out].shape[1]), {}});
      }
      r.calibration_samples = static_cast<int64_t>(calibration->samples.size());
      Expected<std::vector<LayerFit>> fits =
          RefitLayers(g, pruned, layers, *calibration, options.reconstruction, progress);
      if (!fits) throw fits.error();
      r.fits = std::move(fits.value());
    }

    pruned.RemoveUnusedTensors();
    r.macs_after = pruned.CountMacs();
    r.weight_bytes_after = WeightBytes(pruned);
    if (options.target_cost) {
      r.cost_before = measure(g);
      r.cost_after = measure(pruned);
    }
    result.graph = std::move(pruned);
    return result;
  });
}

}  // namespace outpost::prune
