#include "compiler/quantize/top1_accuracy.h"

#include <memory>

#include "compiler/quantize/layer_sqnr.h"
#include "io/classification.h"

namespace outpost::quant {

Expected<double> Top1Accuracy(const ir::Graph& graph, const Dataset& data,
                              const ProgressFn& progress) {
  return Capture([&]() -> double {
    const int64_t n = static_cast<int64_t>(data.samples.size());
    if (n == 0) throw Error("accuracy: no samples");
    if (data.labels.size() != data.samples.size())
      throw Error("accuracy: the data has no labels (one per sample is needed)");
    Expected<std::unique_ptr<GraphExecutor>> x = GraphExecutor::Create(graph);
    if (!x) throw Error("accuracy: " + x.message());
    int64_t correct = 0;
    for (int64_t i = 0; i < n; ++i) {
      Expected<Unit> r = (*x)->Run(data.samples[static_cast<size_t>(i)]);
      if (!r) throw Error("accuracy: sample " + std::to_string(i) + ": " + r.message());
      correct += io::ArgMax((*x)->Output(0)) == data.labels[static_cast<size_t>(i)];
      if (progress) progress(i + 1, n);
    }
    return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
  });
}

}  // namespace outpost::quant
