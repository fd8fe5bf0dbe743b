// Calibration and validation data for a single-input model, preprocessed exactly as
// `outpost eval` preprocesses it (the model's InputSpec: colour conversion, bilinear resize,
// x = (pixel * value_scale - mean[c]) / std[c]).
//
// Sources:
//   - an IDX image file (uint8 [N, H, W], gzipped or not), e.g. Fashion-MNIST; labels from an
//     IDX label file when given;
//   - a folder with one sub-folder of images per class (io/image_folder.h), labelled by folder;
//   - a .npy file: float32/float64 (N, ...) already preprocessed model inputs (the layout
//     `outpost run --input` takes, batch axis replaced by N), or uint8 images (N, H, W) or
//     (N, H, W, C) that are preprocessed like image files; labels from an integer .npy of N.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"
#include "compiler/quantize/quantizer.h"

namespace outpost::quant {

struct DatasetSource {
  std::string path;
  std::string labels_path;  // optional (IDX or .npy); folders label themselves
};

struct DatasetOptions {
  // At most this many samples (0: all), picked evenly spaced over the whole set so that a
  // folder sorted by class still gives every class.
  int64_t limit = 0;
};

// Loads `source` for the only input of `graph`. Errors name the file and the problem: an
// unrecognized file, data whose shape or type does not fit the model input, no samples,
// labels that do not match the samples. `warnings` receives notes such as images resized to
// the model's input.
Expected<Dataset> LoadDataset(const DatasetSource& source, const ir::Graph& graph,
                              const DatasetOptions& options = {},
                              std::vector<std::string>* warnings = nullptr,
                              const ProgressFn& progress = {});

}  // namespace outpost::quant
