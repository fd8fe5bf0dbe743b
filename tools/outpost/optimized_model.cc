#include "tools/outpost/optimized_model.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include "compiler/emit/opm_writer.h"
#include "compiler/quantize/dataset.h"
#include "compiler/quantize/finalize.h"
#include "compiler/quantize/layer_sqnr.h"
#include "compiler/quantize/model_reference_data.h"
#include "compiler/quantize/top1_accuracy.h"
#include "io/mapped_file.h"
#include "io/model_file.h"
#include "tools/outpost/cli_util.h"

namespace outpost::cli {

double MedianLatencyMs(const ir::Graph& g, const std::vector<float>& sample, int runs) {
  std::unique_ptr<quant::GraphExecutor> x = Must(quant::GraphExecutor::Create(g));
  for (int i = 0; i < 3; ++i) Must(x->Run(sample));
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    Must(x->Run(sample));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

WrittenModel WriteOptimizedModel(ir::Graph& g, const quant::Dataset* calibration,
                                 const std::string& path) {
  const bool data = calibration != nullptr && !calibration->samples.empty();
  Must(quant::PlanAndSelfTest(g, data ? &calibration->samples.front() : nullptr));
  WrittenModel w;
  if (data) {
    Must(quant::AddModelReference(g, *calibration));
    w.reference = true;
  }
  const std::vector<uint8_t> bytes = emit::EmitOpm(g);
  // The runtime must accept what is written; check before anything reaches the disk.
  Must(io::LoadedModel::FromBytes(path, bytes));
  Must(io::WriteFileAtomic(path, bytes));
  w.file_bytes = bytes.size();
  w.arena_bytes = g.plan ? g.plan->arena_bytes : 0;
  return w;
}

quant::Dataset LoadLabelledData(const std::string& data, const std::string& labels,
                                int64_t limit, const ir::Graph& g, const std::string& what) {
  std::vector<std::string> warnings;
  quant::DatasetOptions o;
  o.limit = limit;
  std::optional<Progress> progress;
  quant::Dataset d = Must(quant::LoadDataset({data, labels}, g, o, &warnings,
                                             [&](int64_t done, int64_t total) {
                                               if (!progress) progress.emplace(what, total);
                                               progress->Update(done);
                                             }));
  if (progress) progress->Finish();
  for (const std::string& w : warnings) PrintWarning(w);
  return d;
}

double MeasureAccuracy(const ir::Graph& g, const quant::Dataset& data, const std::string& what) {
  Progress progress(what, static_cast<int64_t>(data.samples.size()));
  const double a = Must(quant::Top1Accuracy(
      g, data, [&](int64_t done, int64_t) { progress.Update(done); }));
  progress.Finish();
  return a;
}

}  // namespace outpost::cli
