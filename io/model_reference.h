// The drift reference a model carries: what its inputs and outputs looked like on reference
// data when it was compiled, stored as compact JSON under the metadata key `outpost.reference`
// (docs/model-format.md). The compiler writes it (`outpost compile --reference DATA`,
// `outpost quantize --calib DATA`); a device compares a window of live inputs and outputs with
// it (agent/drift/). Both sides bin values with the edges stored here, so a live histogram and
// the reference histogram always have the same bins.
//
// Contents (version 1):
//   - per input: its shape, the channel axis, per-channel mean and std, and a histogram of the
//     input values;
//   - per output of a classifier (task classification, one class axis): the count of each
//     top-1 class and a histogram of the top-1 score (the output value of the winning class);
//   - per output of any other model: a histogram of all the output's values.
// Histogram edges (inner edges, stored as exact floats) are the deciles of the reference values,
// the binning PSI is conventionally computed on, merged with the edges of 10 equal-width bins
// over the reference's [min, max], so that a point mass covering several deciles (the zero
// background of images) does not leave the values next to it without bins: at most 19 bins.
// Bin i holds the values x with edges[i-1] < x <= edges[i]; the first and the last bin are
// open-ended, so every finite value has a bin. Non-finite values are not counted. A classifier's
// class distribution is counted per class.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "io/model_file.h"

namespace outpost::io {

inline constexpr const char* kReferenceKey = "outpost.reference";
inline constexpr int kReferenceVersion = 1;
inline constexpr int kReferenceBins = 10;  // deciles; equal-width bins over [min, max]

struct ValueHistogram {
  std::vector<float> edges;      // inner edges, strictly ascending
  std::vector<uint64_t> counts;  // edges.size() + 1 bins

  // The bin of `x` (x finite).
  size_t BinOf(float x) const;
  // Counts `x` (ignored when not finite).
  void Add(float x);
  uint64_t total() const;
};

struct InputReference {
  std::string name;
  std::vector<int64_t> shape;
  int channel_axis = -1;      // -1: all values are one channel
  std::vector<double> mean;   // per channel
  std::vector<double> std;    // per channel (population standard deviation)
  ValueHistogram values;
};

struct OutputReference {
  std::string name;
  bool classes = false;               // classifier output: class_counts and a top-1 score histogram
  std::vector<uint64_t> class_counts;  // one per class
  ValueHistogram values;              // top-1 scores (classes) or every output value
};

struct ModelReference {
  int version = kReferenceVersion;
  uint64_t samples = 0;
  std::vector<InputReference> inputs;
  std::vector<OutputReference> outputs;
};

// Compact JSON, deterministic (same reference, same bytes).
std::string ModelReferenceToJson(const ModelReference& ref);
// Parses and checks JSON written by ModelReferenceToJson; errors name the problem.
Expected<ModelReference> ParseModelReference(std::string_view json);
// The reference stored in `model`; an Error when the model carries none or it is malformed.
Expected<ModelReference> ReadModelReference(const LoadedModel& model);

// Runs `model` on every sample (preprocessed float values of its only input, as
// quant::LoadDataset gives them) and builds its reference. Deterministic.
Expected<ModelReference> BuildModelReference(const LoadedModel& model,
                                             std::span<const std::vector<float>> samples);

// Accumulates live statistics with the bins, shapes and kinds of a reference, so that the
// result compares bin by bin with it.
class ReferenceAccumulator {
 public:
  explicit ReferenceAccumulator(const ModelReference& like);

  // One sample: the float values of every input and output (in model order). Errors when a
  // count does not match the reference's shapes.
  Expected<Unit> Add(std::span<const std::span<const float>> inputs,
                     std::span<const std::span<const float>> outputs);
  // What was accumulated since construction or the last Reset, in the reference's form.
  ModelReference Result() const;
  uint64_t samples() const { return result_.samples; }
  void Reset();

 private:
  ModelReference result_;  // counts and sums live here; mean/std are finished in Result()
  std::vector<std::vector<double>> sum_, sum_sq_;
  std::vector<std::vector<uint64_t>> n_;
};

}  // namespace outpost::io
