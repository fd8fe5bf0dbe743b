// Loading calibration / validation data sets (see dataset.h).
#include "compiler/quantize/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "io/idx.h"
#include "io/image.h"
#include "io/image_folder.h"
#include "io/npy.h"
#include "io/preprocess.h"

namespace outpost::quant {
namespace {

namespace fs = std::filesystem;

std::string Dims(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Which samples a limit keeps: evenly spaced over [0, n).
std::vector<int64_t> Pick(int64_t n, int64_t limit) {
  const int64_t k = limit > 0 ? std::min(limit, n) : n;
  std::vector<int64_t> idx(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) idx[static_cast<size_t>(i)] = i * n / k;
  return idx;
}

const ir::Tensor& OnlyInput(const ir::Graph& g) {
  if (g.inputs.size() != 1)
    throw Error("calibration data sets are for models with one input; this model has " +
                std::to_string(g.inputs.size()));
  const ir::Tensor& t = g.tensors[g.inputs[0]];
  if (t.dtype != opm::DType::FLOAT32)
    throw Error("model input '" + t.name + "' is " + opm::EnumNameDType(t.dtype) +
                ", not float32: quantize the float model");
  return t;
}

// The preprocessing `outpost eval` would use for the model input, from the graph's InputSpec.
struct Preprocessor {
  io::PreprocessPlan plan;
  explicit Preprocessor(const ir::Graph& g) {
    const ir::Tensor& t = OnlyInput(g);
    std::vector<int32_t> shape(t.shape.begin(), t.shape.end());
    const ir::InputSpec* spec = nullptr;
    for (const ir::InputSpec& s : g.info.input_specs)
      if (s.tensor == g.inputs[0]) spec = &s;
    flatbuffers::FlatBufferBuilder fbb;
    const opm::InputSpec* fb = nullptr;
    if (spec) {
      opm::InputSpecT o;
      o.tensor = spec->tensor;
      o.layout = spec->layout;
      o.color = spec->color;
      o.value_scale = spec->value_scale;
      o.mean = spec->mean;
      o.std = spec->std;
      fbb.Finish(opm::InputSpec::Pack(fbb, &o));
      fb = flatbuffers::GetRoot<opm::InputSpec>(fbb.GetBufferPointer());
    }
    Expected<io::PreprocessPlan> p = io::MakePreprocessPlan(shape, fb);
    if (!p)
      throw Error("model input '" + t.name + "' " + ir::ShapeString(t.shape) +
                  " does not take images (" + p.message() +
                  "): give calibration data as float32 .npy model inputs");
    plan = p.value();
  }
  std::vector<float> Run(const io::ImageView& view) const {
    std::vector<float> out(plan.num_values());
    io::Preprocess(view, plan, out.data());
    return out;
  }
};

void NoteResize(int w, int h, const io::PreprocessPlan& plan, const std::string& what,
                std::vector<std::string>* warnings) {
  if (warnings && (w != plan.width || h != plan.height))
    warnings->push_back(what + " are " + std::to_string(w) + "x" + std::to_string(h) +
                        ", the model input is " + std::to_string(plan.width) + "x" +
                        std::to_string(plan.height) +
                        ": resized (bilinear) as `outpost eval` does");
}

std::vector<int> ReadLabels(const std::string& path, int64_t count) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open labels file");
  char magic[6] = {};
  f.read(magic, 6);
  io::HostTensor t;
  if (io::IsNpy(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(magic), 6))) {
    t = io::ToFloat32(io::ReadNpy(path).value());
  } else {
    Expected<io::HostTensor> idx = io::ReadIdx(path);
    if (!idx) throw Error(path + ": not a .npy or IDX labels file: " + idx.message());
    t = io::ToFloat32(idx.value());
  }
  if (t.shape.size() != 1)
    throw Error(path + ": labels must be one-dimensional (N,), got " + Dims(t.shape));
  if (t.shape[0] != count)
    throw Error(path + ": " + std::to_string(t.shape[0]) + " labels for " +
                std::to_string(count) + " samples");
  std::vector<int> labels;
  for (float v : t.values<float>()) {
    if (!(v >= 0) || v != static_cast<float>(static_cast<int>(v)))
      throw Error(path + ": labels must be non-negative integers");
    labels.push_back(static_cast<int>(v));
  }
  return labels;
}

Dataset FromIdx(const DatasetSource& src, const ir::Graph& g, const DatasetOptions& o,
                std::vector<std::string>* warnings, const ProgressFn& progress) {
  Expected<io::HostTensor> images = io::ReadIdx(src.path);
  if (!images)
    throw Error(src.path + ": not calibration data: expected an IDX image file, a .npy file or a "
                           "folder of class sub-folders of images (as IDX: " +
                images.message() + ")");
  const io::HostTensor& t = images.value();
  if (t.type != io::ElementType::kUint8 || (t.shape.size() != 3 && t.shape.size() != 4))
    throw Error(src.path + ": IDX images must be uint8 (N, H, W) or (N, H, W, C), got " +
                io::ElementTypeName(t.type) + " " + Dims(t.shape));
  const int64_t n = t.shape[0];
  if (n == 0) throw Error(src.path + ": the file holds no images");
  const int h = static_cast<int>(t.shape[1]);
  const int w = static_cast<int>(t.shape[2]);
  const int c = t.shape.size() == 4 ? static_cast<int>(t.shape[3]) : 1;
  if (c != 1 && c != 3 && c != 4)
    throw Error(src.path + ": images with " + std::to_string(c) + " channels");
  const io::PixelFormat fmt = c == 1   ? io::PixelFormat::kGray
                              : c == 3 ? io::PixelFormat::kRgb
                                       : io::PixelFormat::kRgba;
  const Preprocessor pre(g);
  NoteResize(w, h, pre.plan, src.path + ": images", warnings);
  std::vector<int> all_labels;
  if (!src.labels_path.empty()) all_labels = ReadLabels(src.labels_path, n);

  Dataset d;
  d.sample_shape = g.tensors[g.inputs[0]].shape;
  const std::vector<int64_t> picked = Pick(n, o.limit);
  const size_t image_bytes = static_cast<size_t>(h) * static_cast<size_t>(w) * c;
  for (size_t i = 0; i < picked.size(); ++i) {
    const uint8_t* p = t.bytes.data() + static_cast<size_t>(picked[i]) * image_bytes;
    d.samples.push_back(pre.Run(io::ImageView{p, w, h, fmt, 0}));
    if (!all_labels.empty()) d.labels.push_back(all_labels[static_cast<size_t>(picked[i])]);
    if (progress) progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(picked.size()));
  }
  return d;
}

Dataset FromFolder(const DatasetSource& src, const ir::Graph& g, const DatasetOptions& o,
                   std::vector<std::string>* warnings, const ProgressFn& progress) {
  if (!src.labels_path.empty())
    throw Error(src.path + ": a folder of images is labelled by its sub-folders; drop the labels "
                           "file");
  Expected<io::ImageFolder> folder = io::ScanImageFolder(src.path, g.info.labels);
  if (!folder) throw folder.error();
  const Preprocessor pre(g);
  Dataset d;
  d.sample_shape = g.tensors[g.inputs[0]].shape;
  const auto& samples = folder->samples;
  const std::vector<int64_t> picked = Pick(static_cast<int64_t>(samples.size()), o.limit);
  bool noted = false;
  for (size_t i = 0; i < picked.size(); ++i) {
    const io::ImageFolder::Sample& s = samples[static_cast<size_t>(picked[i])];
    Expected<io::Image> image = io::DecodeImageFile(s.path);
    if (!image) throw image.error();
    if (!noted) {
      NoteResize(image->width, image->height, pre.plan, src.path + ": images (the first)",
                 warnings);
      noted = true;
    }
    d.samples.push_back(pre.Run(image->view()));
    d.labels.push_back(s.label);
    if (progress) progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(picked.size()));
  }
  return d;
}

Dataset FromNpy(const DatasetSource& src, const ir::Graph& g, const DatasetOptions& o,
                std::vector<std::string>* warnings) {
  io::NpyReadOptions ro;
  ro.float64_to_float32 = true;
  Expected<io::HostTensor> read = io::ReadNpy(src.path, ro);
  if (!read) throw read.error();
  const io::HostTensor& t = read.value();
  const ir::Tensor& input = OnlyInput(g);
  if (!t.shape.empty() && t.shape[0] == 0) throw Error(src.path + ": the array holds no samples");
  Dataset d;
  d.sample_shape = input.shape;

  if (t.type == io::ElementType::kFloat32) {
    // Rows are model inputs: (N, *input[1:]) for a batch-1 input, else (N, *input).
    std::vector<int64_t> row(input.shape.begin() + (input.shape[0] == 1 ? 1 : 0),
                             input.shape.end());
    std::vector<int64_t> want = {-1};
    want.insert(want.end(), row.begin(), row.end());
    const bool fits = t.shape.size() == want.size() &&
                      std::equal(t.shape.begin() + 1, t.shape.end(), row.begin());
    if (!fits)
      throw Error(src.path + ": shape " + Dims(t.shape) + " does not fit the model input '" +
                  input.name + "' " + ir::ShapeString(input.shape) + ": expected (N" +
                  [&] {
                    std::string s;
                    for (int64_t r : row) s += "," + std::to_string(r);
                    return s;
                  }() +
                  ") float32 preprocessed inputs, or uint8 images (N,H,W[,C])");
    const int64_t n = t.shape[0];
    const size_t per = static_cast<size_t>(input.num_elements());
    const std::span<const float> v = t.values<float>();
    std::vector<int> all_labels;
    if (!src.labels_path.empty()) all_labels = ReadLabels(src.labels_path, n);
    for (int64_t i : Pick(n, o.limit)) {
      const float* p = v.data() + static_cast<size_t>(i) * per;
      d.samples.emplace_back(p, p + per);
      if (!all_labels.empty()) d.labels.push_back(all_labels[static_cast<size_t>(i)]);
    }
    return d;
  }
  if (t.type == io::ElementType::kUint8) {
    const bool image_shape =
        t.shape.size() == 3 ||
        (t.shape.size() == 4 && (t.shape[3] == 1 || t.shape[3] == 3 || t.shape[3] == 4));
    if (!image_shape)
      throw Error(src.path + ": uint8 arrays are taken for images (N,H,W) or (N,H,W,C) with C "
                             "1, 3 or 4; got " + Dims(t.shape));
    const int64_t n = t.shape[0];
    const int h = static_cast<int>(t.shape[1]);
    const int w = static_cast<int>(t.shape[2]);
    const int c = t.shape.size() == 4 ? static_cast<int>(t.shape[3]) : 1;
    const io::PixelFormat fmt = c == 1   ? io::PixelFormat::kGray
                                : c == 3 ? io::PixelFormat::kRgb
                                         : io::PixelFormat::kRgba;
    const Preprocessor pre(g);
    NoteResize(w, h, pre.plan, src.path + ": images", warnings);
    std::vector<int> all_labels;
    if (!src.labels_path.empty()) all_labels = ReadLabels(src.labels_path, n);
    const size_t image_bytes = static_cast<size_t>(h) * static_cast<size_t>(w) * c;
    for (int64_t i : Pick(n, o.limit)) {
      const uint8_t* p = t.bytes.data() + static_cast<size_t>(i) * image_bytes;
      d.samples.push_back(pre.Run(io::ImageView{p, w, h, fmt, 0}));
      if (!all_labels.empty()) d.labels.push_back(all_labels[static_cast<size_t>(i)]);
    }
    return d;
  }
  throw Error(src.path + ": " + io::ElementTypeName(t.type) +
              " arrays are not calibration data: give float32 preprocessed inputs or uint8 "
              "images");
}

}  // namespace

Expected<Dataset> LoadDataset(const DatasetSource& source, const ir::Graph& graph,
                              const DatasetOptions& options, std::vector<std::string>* warnings,
                              const ProgressFn& progress) {
  return Capture([&]() -> Dataset {
    if (options.limit < 0) throw Error("the sample limit must not be negative");
    OnlyInput(graph);
    std::error_code ec;
    const fs::file_status st = fs::status(source.path, ec);
    if (ec || !fs::exists(st)) throw Error(source.path + ": no such file or directory");
    Dataset d;
    if (fs::is_directory(st)) {
      d = FromFolder(source, graph, options, warnings, progress);
    } else {
      std::ifstream f(source.path, std::ios::binary);
      char magic[6] = {};
      f.read(magic, 6);
      if (f.gcount() == 0) throw Error(source.path + ": the file is empty");
      if (io::IsNpy(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(magic),
                                             static_cast<size_t>(f.gcount())))) {
        d = FromNpy(source, graph, options, warnings);
      } else {
        d = FromIdx(source, graph, options, warnings, progress);
      }
    }
    if (d.samples.empty()) throw Error(source.path + ": no samples");
    return d;
  });
}

}  // namespace outpost::quant
