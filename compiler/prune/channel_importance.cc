#include "compiler/prune/channel_importance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include "compiler/prune/layer_rows.h"
#include "compiler/quantize/layer_sqnr.h"

namespace outpost::prune {
namespace {

// Rows of each reading layer used by the greedy criterion: its cost grows with channels^2.
constexpr int64_t kCriterionRows = 4096;

std::vector<double> NormScores(const ir::Graph& g, const ChannelSpace& sp, bool l1) {
  std::vector<double> score(static_cast<size_t>(sp.channels), 0.0);
  for (int p : sp.producers) {
    const DenseWeights d = ReadDense(g, p);
    std::vector<double> norm(static_cast<size_t>(d.out), 0.0);
    for (int64_t o = 0; o < d.out; ++o) {
      double s = 0;
      for (int64_t i = 0; i < d.width; ++i) {
        const double w = d.w[o * d.width + i];
        s += l1 ? std::fabs(w) : w * w;
      }
      norm[o] = l1 ? s : std::sqrt(s);
    }
    double mean = 0;
    for (double v : norm) mean += v;
    mean /= double(std::max<int64_t>(d.out, 1));
    if (mean <= 0) continue;  // an all-zero producer says nothing about its channels
    for (int64_t c = 0; c < sp.channels && c < d.out; ++c) score[c] += norm[c] / mean;
  }
  return score;
}

// One dense layer reading a group: the columns of its rows that belong to each channel.
struct Reader {
  size_t space = 0;  // index into `spaces`
  int node = -1;
  std::vector<std::vector<int64_t>> columns;  // by channel of the space
  std::vector<double> gram;                   // channels x channels
  double energy = 0;                          // sum of the layer's squared outputs
};

std::vector<std::vector<int64_t>> ChannelColumns(const ir::Graph& g, const ChannelAnalysis& a,
                                                 int space, int node) {
  const ir::Node& n = g.nodes[node];
  const int64_t taps = n.op == opm::OpCode::CONV_2D
                           ? g.tensors[n.inputs[1]].shape[2] * g.tensors[n.inputs[1]].shape[3]
                           : 1;
  std::vector<std::vector<int64_t>> cols(static_cast<size_t>(a.spaces[space].channels));
  int64_t base = 0;
  for (const Segment& s : a.segments[n.inputs[0]]) {
    if (s.space == space)
      for (int64_t c = 0; c < s.channels; ++c)
        for (int64_t j = 0; j < s.inner; ++j) {
          const int64_t pos = base + c * s.inner + j;
          for (int64_t t = 0; t < taps; ++t) cols[c].push_back(pos * taps + t);
        }
    base += s.channels * s.inner;
  }
  return cols;
}

// Greedy removal order from the error Gram matrix: step k removes the channel adding least.
std::vector<double> GreedyOrder(const std::vector<double>& gram, int64_t channels) {
  std::vector<double> score(static_cast<size_t>(channels), 0.0);
  std::vector<double> cross(static_cast<size_t>(channels), 0.0);  // sum over removed t of G[t][c]
  std::vector<bool> removed(static_cast<size_t>(channels), false);
  for (int64_t step = 0; step < channels; ++step) {
    int64_t best = -1;
    double best_cost = std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < channels; ++c) {
      if (removed[c]) continue;
      const double cost = gram[c * channels + c] + 2 * cross[c];
      if (cost < best_cost) {
        best_cost = cost;
        best = c;
      }
    }
    removed[best] = true;
    score[best] = double(step);
    for (int64_t c = 0; c < channels; ++c) cross[c] += gram[best * channels + c];
  }
  return score;
}

std::vector<std::vector<double>> RankByReconstruction(const ir::Graph& g, const ChannelAnalysis& a,
                                                      const std::vector<int>& spaces,
                                                      const quant::Dataset& data,
                                                      const PruneProgressFn& progress) {
  std::vector<Reader> readers;
  for (size_t k = 0; k < spaces.size(); ++k)
    for (int node : a.spaces[spaces[k]].consumers) {
      Reader r;
      r.space = k;
      r.node = node;
      r.columns = ChannelColumns(g, a, spaces[k], node);
      const size_t c = r.columns.size();
      r.gram.assign(c * c, 0.0);
      readers.push_back(std::move(r));
    }
  std::map<int, DenseWeights> weights;
  std::map<int, LayerRows> geometry;
  std::vector<int> traced;
  for (const Reader& r : readers) {
    weights.emplace(r.node, ReadDense(g, r.node));
    geometry.emplace(r.node, LayerRows(g, r.node));
    traced.push_back(g.nodes[r.node].inputs[0]);
  }
  Expected<std::unique_ptr<quant::GraphExecutor>> made = quant::GraphExecutor::Create(g);
  if (!made) throw Error("channel ranking: " + made.message());
  quant::GraphExecutor& x = *made.value();
  x.Trace(traced);

  const int64_t samples = static_cast<int64_t>(data.samples.size());
  std::vector<float> row;
  std::vector<double> z, y;
  for (int64_t i = 0; i < samples; ++i) {
    Expected<Unit> ran = x.Run(data.samples[static_cast<size_t>(i)]);
    if (!ran) throw Error("channel ranking: sample " + std::to_string(i) + ": " + ran.message());
    for (Reader& r : readers) {
      const LayerRows& geo = geometry.at(r.node);
      const DenseWeights& d = weights.at(r.node);
      const int64_t per = std::clamp<int64_t>((kCriterionRows + samples - 1) / samples, 1,
                                              geo.positions());
      const int64_t channels = static_cast<int64_t>(r.columns.size());
      const std::vector<float>& in = x.Traced(g.nodes[r.node].inputs[0]);
      row.resize(static_cast<size_t>(geo.width()));
      z.assign(static_cast<size_t>(channels * d.out), 0.0);
      y.resize(static_cast<size_t>(d.out));
      for (int64_t p : geo.Pick(i, per, 0x51u + static_cast<uint64_t>(r.node))) {
        geo.Row(in.data(), p, row.data());
        for (int64_t o = 0; o < d.out; ++o) {
          const float* wo = d.w.data() + o * d.width;
          double s = d.b[o];
          for (int64_t j = 0; j < d.width; ++j) s += double(wo[j]) * row[j];
          r.energy += s * s;
        }
        for (int64_t c = 0; c < channels; ++c) {
          double* zc = z.data() + c * d.out;
          for (int64_t o = 0; o < d.out; ++o) {
            const float* wo = d.w.data() + o * d.width;
            double s = 0;
            for (int64_t col : r.columns[c]) s += double(wo[col]) * row[col];
            zc[o] = s;
          }
        }
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t e = c; e < channels; ++e) {
            double s = 0;
            for (int64_t o = 0; o < d.out; ++o) s += z[c * d.out + o] * z[e * d.out + o];
            r.gram[c * channels + e] += s;
          }
      }
    }
    if (progress) progress("importance", i + 1, samples);
  }

  std::vector<std::vector<double>> scores;
  for (size_t k = 0; k < spaces.size(); ++k) {
    const int64_t channels = a.spaces[spaces[k]].channels;
    std::vector<double> gram(static_cast<size_t>(channels * channels), 0.0);
    for (const Reader& r : readers) {
      if (r.space != k || r.energy <= 0) continue;
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t e = c; e < channels; ++e) {
          const double v = r.gram[c * channels + e] / r.energy;
          gram[c * channels + e] += v;
          if (e != c) gram[e * channels + c] += v;
        }
    }
    scores.push_back(GreedyOrder(gram, channels));
  }
  return scores;
}

}  // namespace

Expected<std::vector<std::vector<double>>> RankChannels(const ir::Graph& g,
                                                        const ChannelAnalysis& a,
                                                        const std::vector<int>& spaces,
                                                        Criterion criterion,
                                                        const quant::Dataset* calibration,
                                                        const PruneProgressFn& progress) {
  return Capture([&]() -> std::vector<std::vector<double>> {
    if (criterion == Criterion::kReconstruction) {
      if (calibration == nullptr || calibration->samples.empty())
        throw Error("the reconstruction criterion needs calibration data");
      return RankByReconstruction(g, a, spaces, *calibration, progress);
    }
    std::vector<std::vector<double>> scores;
    for (int s : spaces) scores.push_back(NormScores(g, a.spaces[s], criterion == Criterion::kL1));
    return scores;
  });
}

}  // namespace outpost::prune
