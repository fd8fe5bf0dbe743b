// RefitLayers(): the original layers' outputs at sampled positions are recorded once; then
// each layer is refitted in execution order on the inputs the pruned graph (with the layers
// before it already refitted) gives it, so that the fit also absorbs the error of earlier cuts.
#include "compiler/prune/reconstruction.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <thread>

#include "compiler/prune/layer_rows.h"
#include "compiler/quantize/layer_sqnr.h"

namespace outpost::prune {
namespace {

using quant::GraphExecutor;

std::unique_ptr<GraphExecutor> Executor(const ir::Graph& g, const char* which) {
  Expected<std::unique_ptr<GraphExecutor>> x = GraphExecutor::Create(g);
  if (!x) throw Error(std::string("reconstruction: ") + which + " graph: " + x.message());
  return std::move(x.value());
}

void RunSample(GraphExecutor& x, const quant::Dataset& data, int64_t i) {
  Expected<Unit> r = x.Run(data.samples[static_cast<size_t>(i)]);
  if (!r) throw Error("reconstruction: sample " + std::to_string(i) + ": " + r.message());
}

// The normal equations of one layer's fit, augmented with a constant column for the bias.
struct Normal {
  int64_t n = 0;  // unknowns per output: width + 1
  int64_t m = 0;  // outputs
  std::vector<double> ata, aty, yty;
  int64_t rows = 0;

  Normal(int64_t width, int64_t outputs)
      : n(width + 1), m(outputs), ata(n * n, 0.0), aty(n * outputs, 0.0), yty(outputs, 0.0) {}

  void Add(const float* row, const float* y) {
    std::vector<double>& a = ata;
    for (int64_t i = 0; i < n; ++i) {
      const double ri = i + 1 < n ? row[i] : 1.0;
      if (ri == 0.0) continue;  // ReLU outputs are often 0: skip their rank-1 update
      double* arow = a.data() + i * n;
      for (int64_t j = i; j + 1 < n; ++j) arow[j] += ri * row[j];
      arow[n - 1] += ri;
      double* yrow = aty.data() + i * m;
      for (int64_t o = 0; o < m; ++o) yrow[o] += ri * y[o];
    }
    for (int64_t o = 0; o < m; ++o) yty[o] += double(y[o]) * y[o];
    ++rows;
  }

  void Symmetrize() {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < i; ++j) ata[i * n + j] = ata[j * n + i];
  }

  // Relative squared error of weights x (n x m, row-major: unknown i of output o at i*m+o).
  double Error(const std::vector<double>& x) const {
    double err = 0, total = 0;
    for (int64_t o = 0; o < m; ++o) {
      double quad = 0, lin = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double xi = x[i * m + o];
        if (xi == 0.0) continue;
        lin += xi * aty[i * m + o];
        double s = 0;
        for (int64_t j = 0; j < n; ++j) s += ata[i * n + j] * x[j * m + o];
        quad += xi * s;
      }
      err += yty[o] - 2 * lin + quad;
      total += yty[o];
    }
    return total > 0 ? std::max(0.0, err) / total : 0.0;
  }
};

// Weights [O, width] and bias as the unknowns layout of Normal (n x m).
std::vector<double> AsUnknowns(const DenseWeights& d) {
  std::vector<double> x(static_cast<size_t>((d.width + 1) * d.out));
  for (int64_t o = 0; o < d.out; ++o) {
    for (int64_t i = 0; i < d.width; ++i) x[i * d.out + o] = d.w[o * d.width + i];
    x[d.width * d.out + o] = d.b[o];
  }
  return x;
}

// The tensor in `slot` of `node`, replaced by a private copy when other nodes read it too.
ir::Tensor& Private(ir::Graph& g, int node, int slot) {
  int& t = g.nodes[node].inputs[slot];
  int users = 0;
  for (const ir::Node& n : g.nodes) users += std::count(n.inputs.begin(), n.inputs.end(), t);
  if (users > 1 || g.IsGraphOutput(t)) {
    ir::Tensor copy = g.tensors[t];
    copy.name = g.UniqueName(copy.name + ".refit");
    t = g.AddTensor(std::move(copy));
  }
  return g.tensors[t];
}

void WriteBack(ir::Graph& g, int node, const std::vector<double>& x, int64_t width, int64_t out) {
  std::vector<float> w(static_cast<size_t>(out * width)), b(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t i = 0; i < width; ++i) w[o * width + i] = static_cast<float>(x[i * out + o]);
    b[o] = static_cast<float>(x[width * out + o]);
  }
  ir::Tensor& wt = Private(g, node, 1);
  std::memcpy(wt.data.data(), w.data(), wt.data.size());
  ir::Node& n = g.nodes[node];
  if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
    ir::Tensor& bt = Private(g, node, 2);
    std::memcpy(bt.data.data(), b.data(), bt.data.size());
    return;
  }
  const int t = g.AddConstant<float>(g.UniqueName(n.name + ".bias"), opm::DType::FLOAT32, {out}, b);
  g.nodes[node].inputs.resize(3, -1);
  g.nodes[node].inputs[2] = t;
}

}  // namespace

bool SolveRidge(std::vector<double> a, int64_t n, std::vector<double>& b, int64_t m, double ridge,
                int64_t ridge_count) {
  for (int64_t i = 0; i < ridge_count; ++i) a[i * n + i] += ridge;
  // Cholesky A = L L^T, L stored in the lower triangle.
  for (int64_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int64_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0) || !std::isfinite(d)) return false;
    const double ljj = std::sqrt(d);
    a[j * n + j] = ljj;
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      const double* li = a.data() + i * n;
      const double* lj = a.data() + j * n;
      for (int64_t k = 0; k < j; ++k) s -= li[k] * lj[k];
      a[i * n + j] = s / ljj;
    }
  }
  // L Z = B, then L^T X = Z, for all right-hand sides at once.
  for (int64_t i = 0; i < n; ++i) {
    double* bi = b.data() + i * m;
    for (int64_t k = 0; k < i; ++k) {
      const double l = a[i * n + k];
      const double* bk = b.data() + k * m;
      for (int64_t o = 0; o < m; ++o) bi[o] -= l * bk[o];
    }
    for (int64_t o = 0; o < m; ++o) bi[o] /= a[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; --i) {
    double* bi = b.data() + i * m;
    for (int64_t k = i + 1; k < n; ++k) {
      const double l = a[k * n + i];
      const double* bk = b.data() + k * m;
      for (int64_t o = 0; o < m; ++o) bi[o] -= l * bk[o];
    }
    for (int64_t o = 0; o < m; ++o) bi[o] /= a[i * n + i];
  }
  return true;
}

namespace {

// One output's masked fit (see SolveMaskedRidge): conjugate gradients on the block of A its free
// unknowns select, gathered once as float (the block is read whole on every iteration, and
// half the bytes is twice the speed; the sums stay double).
void SolveOneMasked(const std::vector<double>& a, int64_t n, const std::vector<double>& b,
                    int64_t m, double ridge, const uint8_t* mask, int64_t o,
                    std::vector<double>& x, int max_iterations) {
  const int64_t width = n - 1;
  std::vector<int64_t> s;
  for (int64_t i = 0; i < width; ++i)
    if (mask[i]) s.push_back(i);
  s.push_back(width);  // the bias
  const auto k = static_cast<int64_t>(s.size());
  std::vector<float> as(static_cast<size_t>(k * k));
  std::vector<double> diag(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    const double* arow = a.data() + s[i] * n;
    for (int64_t j = 0; j < k; ++j) as[i * k + j] = static_cast<float>(arow[s[j]]);
    const double d = arow[s[i]] + (s[i] < width ? ridge : 0.0);
    as[i * k + i] = static_cast<float>(d);
    diag[i] = d > 0 ? d : 1.0;
  }
  auto multiply = [&](const std::vector<double>& v, std::vector<double>& out) {
    for (int64_t i = 0; i < k; ++i) {
      const float* row = as.data() + i * k;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // independent chains: no FMA latency stall
      int64_t j = 0;
      for (; j + 4 <= k; j += 4) {
        s0 += row[j] * v[j];
        s1 += row[j + 1] * v[j + 1];
        s2 += row[j + 2] * v[j + 2];
        s3 += row[j + 3] * v[j + 3];
      }
      for (; j < k; ++j) s0 += row[j] * v[j];
      out[i] = (s0 + s1) + (s2 + s3);
    }
  };
  std::vector<double> xs(static_cast<size_t>(k)), r(xs.size()), z(xs.size()), p, q(xs.size());
  for (int64_t i = 0; i < k; ++i) xs[i] = x[s[i] * m + o];
  multiply(xs, q);
  double rhs_norm = 0;
  for (int64_t i = 0; i < k; ++i) {
    const double bi = b[s[i] * m + o];
    r[i] = bi - q[i];
    rhs_norm += bi * bi;
  }
  if (!(rhs_norm > 0)) return;
  for (int64_t i = 0; i < k; ++i) z[i] = r[i] / diag[i];
  p = z;
  double rz = 0;
  for (int64_t i = 0; i < k; ++i) rz += r[i] * z[i];
  for (int it = 0; it < max_iterations; ++it) {
    double rr = 0;
    for (int64_t i = 0; i < k; ++i) rr += r[i] * r[i];
    if (rr <= 1e-10 * rhs_norm) break;  // residual within 1e-5 of the right-hand side
    multiply(p, q);
    double pq = 0;
    for (int64_t i = 0; i < k; ++i) pq += p[i] * q[i];
    if (!(pq > 0) || !std::isfinite(pq)) break;
    const double alpha = rz / pq;
    double rz_next = 0;
    for (int64_t i = 0; i < k; ++i) {
      xs[i] += alpha * p[i];
      r[i] -= alpha * q[i];
      z[i] = r[i] / diag[i];
      rz_next += r[i] * z[i];
    }
    const double beta = rz_next / rz;
    rz = rz_next;
    for (int64_t i = 0; i < k; ++i) p[i] = z[i] + beta * p[i];
  }
  for (int64_t i = 0; i < k; ++i) x[s[i] * m + o] = xs[i];
}

}  // namespace

void SolveMaskedRidge(const std::vector<double>& a, int64_t n, const std::vector<double>& b,
                      int64_t m, double ridge, const std::vector<uint8_t>& mask,
                      std::vector<double>& x, int max_iterations) {
  // Outputs are independent (each writes only its own column of x): split them over the
  // host's cores. The result does not depend on the split.
  const int64_t width = n - 1;
  const int64_t threads =
      std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, std::max<int64_t>(m, 1));
  std::atomic<int64_t> next{0};
  auto work = [&]() {
    for (int64_t o = next++; o < m; o = next++)
      SolveOneMasked(a, n, b, m, ridge, mask.data() + o * width, o, x, max_iterations);
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

Expected<std::vector<LayerFit>> RefitLayers(const ir::Graph& original, ir::Graph& pruned,
                                            const std::vector<RefitLayer>& layers,
                                            const quant::Dataset& data,
                                            const ReconstructionOptions& options,
                                            const PruneProgressFn& progress) {
  return Capture([&]() -> std::vector<LayerFit> {
    const int64_t samples = static_cast<int64_t>(data.samples.size());
    if (samples == 0) throw Error("reconstruction needs calibration data: no samples");
    const int64_t total = samples * static_cast<int64_t>(layers.size() + 1);
    int64_t done = 0;
    auto tick = [&]() {
      if (progress) progress("reconstruct", ++done, total);
    };

    // Rows per sample for each layer, and the original outputs at those rows.
    std::vector<LayerRows> geometry;
    std::vector<int64_t> per_sample;
    std::vector<std::vector<float>> targets(layers.size());
    std::vector<int> traced;
    for (const RefitLayer& l : layers) {
      geometry.emplace_back(original, l.node);
      const LayerRows& r = geometry.back();
      const int64_t want = r.is_conv() ? (options.conv_rows + samples - 1) / samples : 1;
      per_sample.push_back(std::clamp<int64_t>(want, 1, r.positions()));
      traced.push_back(original.nodes[l.node].inputs[0]);
    }
    {
      std::unique_ptr<GraphExecutor> x = Executor(original, "original");
      x->Trace(traced);
      std::vector<DenseWeights> weights;
      for (const RefitLayer& l : layers) weights.push_back(ReadDense(original, l.node));
      std::vector<float> row;
      for (int64_t i = 0; i < samples; ++i) {
        RunSample(*x, data, i);
        for (size_t k = 0; k < layers.size(); ++k) {
          const LayerRows& r = geometry[k];
          const DenseWeights& d = weights[k];
          const std::vector<float>& in = x->Traced(traced[k]);
          row.resize(static_cast<size_t>(r.width()));
          for (int64_t p : r.Pick(i, per_sample[k], static_cast<uint64_t>(layers[k].node))) {
            r.Row(in.data(), p, row.data());
            for (int64_t o : layers[k].kept_outputs) {
              const float* wo = d.w.data() + o * d.width;
              double s = d.b[o];
              for (int64_t j = 0; j < d.width; ++j) s += double(wo[j]) * row[j];
              targets[k].push_back(static_cast<float>(s));
            }
          }
        }
        tick();
      }
    }

    std::vector<LayerFit> fits;
    for (size_t k = 0; k < layers.size(); ++k) {
      const int node = layers[k].node;
      const LayerRows r(pruned, node);
      const int64_t outs = static_cast<int64_t>(layers[k].kept_outputs.size());
      Normal eq(r.width(), outs);
      std::unique_ptr<GraphExecutor> x = Executor(pruned, "pruned");
      const int input = pruned.nodes[node].inputs[0];
      x->Trace({input});
      std::vector<float> row(static_cast<size_t>(r.width()));
      const float* y = targets[k].data();
      for (int64_t i = 0; i < samples; ++i) {
        RunSample(*x, data, i);
        const std::vector<float>& in = x->Traced(input);
        for (int64_t p : r.Pick(i, per_sample[k], static_cast<uint64_t>(node))) {
          r.Row(in.data(), p, row.data());
          eq.Add(row.data(), y);
          y += outs;
        }
        tick();
      }
      eq.Symmetrize();

      LayerFit fit;
      fit.node = pruned.nodes[node].name;
      fit.rows = eq.rows;
      fit.unknowns = eq.n;
      fit.error_before = eq.Error(AsUnknowns(ReadDense(pruned, node)));
      double diag = 0;
      for (int64_t i = 0; i + 1 < eq.n; ++i) diag += eq.ata[i * eq.n + i];
      diag = eq.n > 1 ? diag / double(eq.n - 1) : 0.0;
      double ridge = (r.is_conv() ? options.ridge_conv : options.ridge_fc) * diag;
      if (!(ridge > 0)) ridge = 1e-12;
      std::vector<double> solution;
      if (!layers[k].mask.empty()) {
        if (layers[k].mask.size() != static_cast<size_t>(outs * r.width()))
          throw Error("reconstruction: the weight mask of '" + fit.node + "' has the wrong size");
        // Sparse weights: each output is fitted over its own nonzero weights, started from the
        // weights as they were cut.
        solution = AsUnknowns(ReadDense(pruned, node));
        SolveMaskedRidge(eq.ata, eq.n, eq.aty, eq.m, ridge, layers[k].mask, solution);
      } else {
        bool solved = false;
        for (int attempt = 0; attempt < 6 && !solved; ++attempt, ridge *= 10) {
          solution = eq.aty;
          solved = SolveRidge(eq.ata, eq.n, solution, eq.m, ridge, eq.n - 1);
        }
        if (!solved) throw Error("reconstruction: the least-squares system of '" + fit.node +
                                 "' could not be solved (its inputs carry no signal)");
      }
      fit.error_after = eq.Error(solution);
      // The fit minimizes the regularized error; should it not improve on the cut weights
      // (possible only through the ridge), the cut weights stay.
      if (fit.error_after < fit.error_before) {
        WriteBack(pruned, node, solution, r.width(), outs);
      } else {
        fit.error_after = fit.error_before;
      }
      fits.push_back(fit);
    }
    return fits;
  });
}

}  // namespace outpost::prune
