// The agent tests' Fashion-MNIST models (tests/agent/fashion_fixture.h).
#include "tests/agent/fashion_fixture.h"

#include <filesystem>
#include <memory>

#include "compiler/compile.h"
#include "compiler/emit/opm_writer.h"
#include "compiler/quantize/dataset.h"
#include "compiler/quantize/finalize.h"
#include "compiler/quantize/model_reference_data.h"
#include "io/model_reference.h"

namespace outpost::agent::testing {

bool FashionAvailable() {
  return std::filesystem::exists(kFashionData + "/t10k-images-idx3-ubyte.gz");
}

const FashionModels& Fashion() {
  static std::unique_ptr<FashionModels> built;
  if (built) return *built;
  auto m = std::make_unique<FashionModels>();
  const std::string onnx = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn/model.onnx";
  m->float_graph = compiler::CompileOnnx(onnx, compiler::CompileOptions{}).value();
  m->float_opm_plain = emit::EmitOpm(m->float_graph);

  // 2,000 evenly spaced test images (the small file: quick to read, under the sanitizers too),
  // alternately into the reference and the fresh sample: two samples of one distribution.
  quant::DatasetOptions limit;
  limit.limit = 2000;
  const quant::Dataset all = quant::LoadDataset({kFashionData + "/t10k-images-idx3-ubyte.gz",
                                                 kFashionData + "/t10k-labels-idx1-ubyte.gz"},
                                                m->float_graph, limit)
                                 .value();
  for (quant::Dataset* d : {&m->reference, &m->fresh}) d->sample_shape = all.sample_shape;
  for (size_t i = 0; i < all.samples.size(); ++i) {
    quant::Dataset& d = i % 2 == 0 ? m->reference : m->fresh;
    d.samples.push_back(all.samples[i]);
    d.labels.push_back(all.labels[i]);
  }
  quant::AddModelReference(m->float_graph, m->reference).value();
  m->float_opm = emit::EmitOpm(m->float_graph);

  // int8 as `outpost quantize --calib` makes it (calibrated on 250 of the reference images).
  ir::Graph g = m->float_graph;
  g.info.metadata.erase(io::kReferenceKey);  // the float model's outputs are not the int8 one's
  g.plan.reset();
  g.self_test.reset();
  quant::Dataset calib;
  calib.sample_shape = m->reference.sample_shape;
  for (size_t i = 0; i < m->reference.samples.size(); i += 4)
    calib.samples.push_back(m->reference.samples[i]);
  const quant::CalibrationResult stats = quant::Calibrate(g, calib).value();
  ir::Graph q = quant::QuantizeGraph(g, stats, quant::QuantizeOptions{}).value();
  quant::PlanAndSelfTest(q, &calib.samples[0]).value();
  m->int8_opm = emit::EmitOpm(q);
  built = std::move(m);
  return *built;
}

std::vector<float> MapPixels(const std::vector<float>& sample, const ir::Graph& graph,
                             float (*f)(float value, uint64_t index)) {
  const ir::InputSpec& spec = graph.info.input_specs.at(0);
  const float mean = spec.mean.empty() ? 0.0f : spec.mean[0];
  const float std = spec.std.empty() ? 1.0f : spec.std[0];
  std::vector<float> out(sample.size());
  for (size_t i = 0; i < sample.size(); ++i) {
    const float value = sample[i] * std + mean;
    out[i] = (f(value, i) - mean) / std;
  }
  return out;
}

}  // namespace outpost::agent::testing
