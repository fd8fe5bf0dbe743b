// outpost bench: latency statistics and a per-operator profile. Latency is measured here, by a
// benchmark printing a table, never by a timed unit test.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <thread>

#include "io/model_file.h"
#include "io/session.h"
#include "io/thread_pool.h"
#include "runtime/cpu_features.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace outpost::cli {
namespace {

struct BenchArgs {
  std::string model;
  int threads = 0;  // 0: one per physical core
  int runs = 50;
  int warmup = 5;
  bool json = false;
  std::string kernels = "auto";
};

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Realistic data matters (denormals and NaNs change kernel speed): the golden input when the
// model has one, otherwise seeded uniform noise in [-1, 1].
std::string FillInputs(io::Session& s) {
  const io::LoadedModel& m = s.model();
  if (const opm::SelfTest* st = m.fb().self_test()) {
    for (int i = 0; i < s.num_inputs(); ++i)
      std::memcpy(s.input(i).data, m.model().BufferData(st->inputs()->Get(i)), s.input(i).bytes);
    return "self-test input";
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  for (int i = 0; i < s.num_inputs(); ++i) {
    TensorView& v = s.input(i);
    if (v.dtype == DType::FLOAT32) {
      for (int64_t k = 0; k < v.num_elements(); ++k) v.as<float>()[k] = uni(rng);
    } else {
      auto* p = static_cast<uint8_t*>(v.data);
      for (size_t k = 0; k < v.bytes; ++k) p[k] = static_cast<uint8_t>(rng());
    }
  }
  return "random input";
}

struct OpStats {
  int index;
  double median_us;
};

// A fixed amount of dependent arithmetic per index, so that the work cannot be optimized away
// and takes the same time on every thread.
void SpinWork(void* sink, int64_t begin, int64_t end) {
  float v = 1.0f;
  for (int64_t i = begin * 64; i < end * 64; ++i) v = v * 0.999999f + 1e-7f;
  if (v == 0.5f) *static_cast<float*>(sink) = v;  // never true; keeps v alive
}

// What splitting a loop across the pool costs and gains: one loop of about kLoopUs of work,
// run serially, then through a pool of `threads`, both back to back (threads polling for the
// next call, as between the operators of an Invoke) and after the pool has gone to sleep.
struct ParallelForFigures {
  double work_us = 0;          // the loop run serially
  double back_to_back_us = 0;  // through the pool, calls back to back
  double after_idle_us = 0;    // through the pool, each call after 5 ms idle
};

ParallelForFigures MeasureParallelFor(int threads) {
  constexpr double kLoopUs = 50;
  constexpr int kCalls = 200, kIdleCalls = 20;
  float sink = 0;
  auto time_us = [](auto&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
        .count();
  };
  // Size the loop: indices per microsecond, from the median of a few serial runs.
  std::vector<double> probe;
  for (int r = 0; r < 21; ++r) probe.push_back(time_us([&] { SpinWork(&sink, 0, 1000); }));
  const int64_t n =
      std::max<int64_t>(threads, static_cast<int64_t>(kLoopUs * 1000 / Median(probe)));
  io::ThreadPool pool(threads);
  ParallelForFigures f;
  std::vector<double> serial, busy, idle;
  for (int r = 0; r < kCalls; ++r) serial.push_back(time_us([&] { SpinWork(&sink, 0, n); }));
  for (int r = 0; r < kCalls; ++r)
    busy.push_back(time_us([&] { pool.ParallelFor(n, 1, SpinWork, &sink); }));
  for (int r = 0; r < kIdleCalls; ++r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    idle.push_back(time_us([&] { pool.ParallelFor(n, 1, SpinWork, &sink); }));
  }
  f.work_us = Median(serial);
  f.back_to_back_us = Median(busy);
  f.after_idle_us = Median(idle);
  return f;
}

// Page faults of this process so far (all threads): fresh memory costs a fault per page, and a
// fault is the dominant cost of cold start on a virtual machine.
long MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

void RunBench(const BenchArgs& a) {
  if (a.runs < 1) throw UsageError("--runs must be at least 1");
  if (a.warmup < 0) throw UsageError("--warmup must not be negative");
  CheckThreads(a.threads);
  if (a.kernels != "auto" && a.kernels != "reference" && a.kernels != "avx2")
    throw UsageError("--kernels must be 'auto', 'avx2' or 'reference'");
  // Cold start: reading and verifying the file, then arena, kernel prepare and weight packing.
  // Memory first touched by a kernel faults in during the first run, reported separately.
  const long faults_start = MinorFaults();
  const auto load_start = std::chrono::steady_clock::now();
  const io::LoadedModel model = Must(io::LoadedModel::Open(a.model));
  io::SessionOptions options;
  options.threads = a.threads;
  options.profile = true;
  options.reference_kernels = a.kernels == "reference";
  if (a.kernels == "avx2") options.cpu_feature_mask = kCpuX86Avx2Fma;
  std::unique_ptr<io::Session> s = Must(io::Session::Create(model, options));
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start)
          .count();
  const long load_faults = MinorFaults() - faults_start;
  const std::string data = FillInputs(*s);

  const int total = a.warmup + a.runs;
  const int num_ops = static_cast<int>(s->op_profiles().size());
  std::vector<double> run_ms;
  std::vector<std::vector<double>> op_us(num_ops);
  Progress progress("bench", total, std::chrono::milliseconds(1000));
  double first_run_ms = 0;
  for (int r = 0; r < total; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    Must(s->Run());
    const auto t1 = std::chrono::steady_clock::now();
    if (r == 0) first_run_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    if (r >= a.warmup) {
      run_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      for (int i = 0; i < num_ops; ++i)
        op_us[i].push_back(static_cast<double>(s->op_profiles()[i].nanos) / 1000.0);
    }
    progress.Update(r + 1);
  }
  progress.Finish();

  std::vector<double> sorted = run_ms;
  std::sort(sorted.begin(), sorted.end());
  const double mean = std::accumulate(run_ms.begin(), run_ms.end(), 0.0) / run_ms.size();
  const double median = Median(run_ms);
  const double p90 = Percentile(sorted, 90);
  const double p99 = Percentile(sorted, 99);

  std::vector<OpStats> ops;
  double op_total = 0;
  for (int i = 0; i < num_ops; ++i) {
    ops.push_back({i, Median(op_us[i])});
    op_total += ops.back().median_us;
  }
  std::stable_sort(ops.begin(), ops.end(),
                   [](const OpStats& x, const OpStats& y) { return x.median_us > y.median_us; });
  auto gmacs = [](uint64_t macs, double us) {
    return us > 0 ? static_cast<double>(macs) / (us * 1e3) : 0.0;
  };

  uint64_t macs = 0;
  for (const io::OpProfile& p : s->op_profiles()) macs += p.macs;
  const bool pooled = s->threads_used() > 1;
  const ParallelForFigures pf =
      pooled ? MeasureParallelFor(s->threads_used()) : ParallelForFigures();
  if (a.json) {
    nlohmann::json j;
    j["model"] = model.path();
    j["runs"] = a.runs;
    j["warmup"] = a.warmup;
    j["threads_requested"] = s->threads_requested();
    j["threads_used"] = s->threads_used();
    j["input"] = data;
    j["load_ms"] = load_ms;
    j["load_page_faults"] = load_faults;
    j["first_run_ms"] = first_run_ms;
    if (pooled)
      j["parallel_for_us"] = {{"work", pf.work_us},
                              {"back_to_back", pf.back_to_back_us},
                              {"after_idle", pf.after_idle_us}};
    j["latency_ms"] = {{"min", sorted.front()},
                       {"median", median},
                       {"mean", mean},
                       {"p90", p90},
                       {"p99", p99},
                       {"max", sorted.back()}};
    j["macs"] = macs;
    j["gmacs_per_s"] = gmacs(macs, median * 1e3);
    j["ops"] = nlohmann::json::array();
    for (const OpStats& o : ops) {
      const io::OpProfile& p = s->op_profiles()[o.index];
      j["ops"].push_back({{"index", p.index},
                          {"op", p.op},
                          {"name", p.name},
                          {"kernel", p.kernel},
                          {"output_shape", p.output_shape},
                          {"median_us", o.median_us},
                          {"share", op_total > 0 ? o.median_us / op_total : 0.0},
                          {"macs", p.macs},
                          {"gmacs_per_s", gmacs(p.macs, o.median_us)}});
    }
    std::cout << j.dump(2) << "\n";
    return;
  }

  std::cout << "model:    " << model.path() << "\n";
  std::cout << "runs:     " << a.runs << " timed after " << a.warmup << " warm-up, on " << data
            << "\n";
  std::cout << "threads:  " << s->threads_used() << " available to the kernels";
  if (s->threads_requested() == 0) std::cout << " (one per physical core)";
  std::cout << "\n";
  std::cout << "latency:  min " << FormatFixed(sorted.front(), 3) << " ms, median "
            << FormatFixed(median, 3) << " ms, mean " << FormatFixed(mean, 3) << " ms, p99 "
            << FormatFixed(p99, 3) << " ms, max " << FormatFixed(sorted.back(), 3) << " ms\n";
  std::cout << "start:    load " << FormatFixed(load_ms, 3) << " ms (" << load_faults
            << " page faults), first run " << FormatFixed(first_run_ms, 3) << " ms\n";
  if (pooled)
    std::cout << "pool:     a " << FormatFixed(pf.work_us, 1) << " us loop takes "
              << FormatFixed(pf.back_to_back_us, 1) << " us on " << s->threads_used()
              << " threads back to back, " << FormatFixed(pf.after_idle_us, 1)
              << " us after idle\n";
  std::cout << "compute:  " << FormatCount(macs) << " MACs, "
            << FormatFixed(gmacs(macs, median * 1e3), 2) << " GMAC/s at the median\n";
  std::cout << "\nper-op profile (median of " << a.runs << " runs, slowest first):\n";
  Table table({"#", "op", "name", "kernel", "median us", "share", "MACs", "GMAC/s"},
              {true, false, false, false, true, true, true, true});
  for (const OpStats& o : ops) {
    const io::OpProfile& p = s->op_profiles()[o.index];
    table.AddRow({std::to_string(p.index), p.op, p.name, p.kernel, FormatFixed(o.median_us, 1),
                  FormatFixed(op_total > 0 ? 100.0 * o.median_us / op_total : 0.0, 1) + "%",
                  p.macs ? FormatCount(p.macs) : "-",
                  p.macs ? FormatFixed(gmacs(p.macs, o.median_us), 2) : "-"});
  }
  table.Print(std::cout);
}

}  // namespace

Command AddBenchCommand(CLI::App& root) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* app = root.add_subcommand("bench", "Measure latency and profile every operator");
  app->add_option("model", args->model, ".opm model file")->required();
  app->add_option("-t,--threads", args->threads, kThreadsHelp);
  app->add_option("-n,--runs", args->runs, "Timed runs (default 50)");
  app->add_option("-w,--warmup", args->warmup, "Untimed warm-up runs (default 5)");
  app->add_flag("--json", args->json, "Print one JSON object instead of text");
  app->add_option("--kernels", args->kernels,
                  "auto: the fastest kernels this CPU supports (default); avx2: x86-64 "
                  "kernels without AVX-512, as on a CPU without it; reference: the portable "
                  "reference kernels only");
  app->footer(
      "Latency is wall time per Invoke (steady clock); per-op times come from the runtime's\n"
      "observer hooks. Examples:\n"
      "  outpost bench model.opm\n"
      "  outpost bench model.opm --runs 500 --warmup 20 --json");
  return {app, [args] { RunBench(*args); }};
}

}  // namespace outpost::cli
