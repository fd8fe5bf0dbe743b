// outpost eval: accuracy of a classifier on a labelled data set (IDX files such as
// Fashion-MNIST, or a folder of images per class), with a confusion matrix; or the mAP of a
// detector on synthetic camera frames.
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "io/classification.h"
#include "io/idx.h"
#include "io/image.h"
#include "io/image_folder.h"
#include "io/model_file.h"
#include "io/preprocess.h"
#include "io/session.h"
#include "pipeline/eval/synthetic_detection_eval.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace outpost::cli {
namespace {

struct EvalArgs {
  std::string model;
  std::string images;
  std::string labels;
  std::string data;
  std::optional<int64_t> limit;
  std::optional<int64_t> synthetic;
  std::string detection;
  std::string camera;
  bool json = false;
  int threads = 0;
};

// Runs one preprocessed sample and returns the predicted class.
int Classify(io::Session& s, const io::ImageView& image, const io::PreprocessPlan& plan,
             std::vector<float>& buffer) {
  io::Preprocess(image, plan, buffer.data());
  Must(s.SetInputFromFloat(0, buffer));
  Must(s.Run());
  return io::ArgMax(s.OutputAsFloat(0));
}

// Column header for a label: short enough to keep the matrix readable.
std::string Short(const std::string& s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 1) + "~";
}

void PrintMatrix(const io::ConfusionMatrix& cm, const std::vector<std::string>& names) {
  std::cout << "confusion matrix (rows: true class, columns: predicted class):\n";
  std::vector<std::string> headers = {"true \\ predicted"};
  std::vector<bool> right = {false};
  for (int p = 0; p < cm.classes(); ++p) {
    headers.push_back(Short(names[p], 8));
    right.push_back(true);
  }
  if (cm.has_other()) {
    headers.push_back("other");
    right.push_back(true);
  }
  headers.push_back("recall");
  right.push_back(true);
  Table table(headers, right);
  for (int t = 0; t < cm.classes(); ++t) {
    std::vector<std::string> row = {std::to_string(t) + " " + Short(names[t], 16)};
    for (int p = 0; p < cm.classes(); ++p) row.push_back(std::to_string(cm.count(t, p)));
    if (cm.has_other()) row.push_back(std::to_string(cm.other(t)));
    row.push_back(FormatFixed(100.0 * cm.recall(t), 1) + "%");
    table.AddRow(row);
  }
  table.Print(std::cout);
}

nlohmann::json ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open the file");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(path + ": not valid JSON");
  return j;
}

// mAP of a detector on synthetic frames; the scoring itself is pipeline::DetectionMetrics.
void RunDetectionEval(const EvalArgs& a) {
  if (*a.synthetic < 1) throw UsageError("--synthetic must be at least 1");
  if (a.detection.empty()) throw UsageError("--synthetic needs --detection CONFIG.json");
  const io::LoadedModel model = Must(io::LoadedModel::Open(a.model));
  CheckThreads(a.threads);
  io::SessionOptions options;
  options.threads = a.threads;
  std::unique_ptr<io::Session> s = Must(io::Session::Create(model, options));
  nlohmann::json config = ReadJsonFile(a.detection);
  if (config.is_object() && config.contains("postprocess")) config = config["postprocess"];

  nlohmann::json camera_json = nlohmann::json::object();
  if (!a.camera.empty()) {
    camera_json = nlohmann::json::parse(a.camera, nullptr, /*allow_exceptions=*/false);
    if (camera_json.is_discarded() || !camera_json.is_object())
      throw UsageError("--camera must be a JSON object, e.g. '{\"noise\": 12}'");
  }
  // By default frames are rendered at the model's input size (no resize) and the scene
  // changes every 10 frames, so N frames hold N / 10 independent scenes.
  const io::PreprocessPlan plan = Must(io::MakePreprocessPlan(model.model(), 0));
  if (!camera_json.contains("width")) camera_json["width"] = plan.width;
  if (!camera_json.contains("height")) camera_json["height"] = plan.height;
  if (!camera_json.contains("scene_frames")) camera_json["scene_frames"] = 10;
  const pipeline::SyntheticCameraOptions camera =
      Must(pipeline::ParseSyntheticCameraOptions(camera_json));

  Progress progress("eval", *a.synthetic);
  const pipeline::DetectionMetrics m = Must(pipeline::EvaluateDetectorOnSyntheticFrames(
      *s, config, camera, static_cast<uint64_t>(*a.synthetic),
      [&](uint64_t done) { progress.Update(static_cast<int64_t>(done)); }));
  progress.Finish();

  const std::vector<std::string> labels = io::ModelLabels(model.fb());
  auto name = [&](int c) {
    return c < static_cast<int>(labels.size()) ? labels[c] : std::to_string(c);
  };
  if (a.json) {
    nlohmann::json j;
    j["model"] = model.path();
    j["frames"] = m.frames();
    j["camera"] = camera_json;
    j["map50"] = m.MeanAp();
    j["map"] = m.MeanApCoco();
    j["classes"] = nlohmann::json::array();
    for (int c = 0; c < m.num_classes(); ++c) {
      if (!m.has_ap(c)) continue;
      j["classes"].push_back({{"class", c},
                              {"label", name(c)},
                              {"truth", m.truth_count(c)},
                              {"ap50", m.ClassAp(c)},
                              {"ap", m.ClassApCoco(c)}});
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "mAP@0.5: " << FormatFixed(100.0 * m.MeanAp(), 2) << "%\n";
  std::cout << "mAP@[.5:.95]: " << FormatFixed(100.0 * m.MeanApCoco(), 2) << "%\n";
  std::cout << "frames: " << m.frames() << " (synthetic, " << camera_json.dump() << ")\n";
  Table table({"class", "objects", "AP@0.5", "AP@[.5:.95]"}, {false, true, true, true});
  for (int c = 0; c < m.num_classes(); ++c) {
    if (!m.has_ap(c)) continue;
    table.AddRow({std::to_string(c) + " " + name(c), std::to_string(m.truth_count(c)),
                  FormatFixed(100.0 * m.ClassAp(c), 2) + "%",
                  FormatFixed(100.0 * m.ClassApCoco(c), 2) + "%"});
  }
  table.Print(std::cout);
}

void RunEval(const EvalArgs& a) {
  if (a.synthetic || !a.detection.empty() || !a.camera.empty()) {
    if (!a.images.empty() || !a.labels.empty() || !a.data.empty() || a.limit)
      throw UsageError("--synthetic does not go with --images, --labels, --data or --limit");
    if (!a.synthetic) throw UsageError("--detection and --camera go with --synthetic N");
    return RunDetectionEval(a);
  }
  const bool idx = !a.images.empty() || !a.labels.empty();
  if (idx && !a.data.empty()) throw UsageError("give either --images/--labels or --data");
  if (!idx && a.data.empty()) throw UsageError("give --images and --labels, or --data DIR");
  if (idx && (a.images.empty() || a.labels.empty()))
    throw UsageError("--images and --labels go together");
  if (a.limit && *a.limit < 1) throw UsageError("--limit must be at least 1");

  const io::LoadedModel model = Must(io::LoadedModel::Open(a.model));
  CheckThreads(a.threads);
  io::SessionOptions options;
  options.threads = a.threads;
  std::unique_ptr<io::Session> s = Must(io::Session::Create(model, options));
  if (s->num_inputs() != 1)
    throw Error(a.model + ": eval needs a model with one image input, this one has " +
                std::to_string(s->num_inputs()));
  const io::PreprocessPlan plan = Must(io::MakePreprocessPlan(model.model(), 0));
  std::vector<float> buffer(plan.num_values());
  int64_t outputs = 1;
  for (int64_t d : s->output_shape(0)) outputs *= d;
  const std::vector<std::string> model_labels = io::ModelLabels(model.fb());

  std::vector<std::string> names;
  std::optional<io::ConfusionMatrix> cm;
  std::string source;
  if (idx) {
    const io::IdxImageSet set = Must(io::ReadIdxImageSet(a.images, a.labels));
    const int64_t n = a.limit ? std::min(*a.limit, set.count()) : set.count();
    int classes = static_cast<int>(outputs);
    for (int64_t i = 0; i < n; ++i) classes = std::max(classes, set.label(i) + 1);
    for (int c = 0; c < classes; ++c)
      names.push_back(c < static_cast<int>(model_labels.size()) ? model_labels[c]
                                                                : std::to_string(c));
    cm.emplace(classes);
    source = a.images;
    Progress progress("eval", n);
    for (int64_t i = 0; i < n; ++i) {
      const io::ImageView view{set.image(i), set.width(), set.height(), io::PixelFormat::kGray, 0};
      cm->Add(set.label(i), Classify(*s, view, plan, buffer));
      progress.Update(i + 1);
    }
    progress.Finish();
  } else {
    io::ImageFolder folder = Must(io::ScanImageFolder(a.data, model_labels));
    if (!folder.classes_from_model_labels && !model_labels.empty())
      PrintWarning("folder names in " + a.data +
                   " do not all match the model's labels; class k is the k-th folder in "
                   "sorted order");
    if (a.limit && static_cast<int64_t>(folder.samples.size()) > *a.limit)
      folder.samples.resize(static_cast<size_t>(*a.limit));
    names = folder.classes;
    cm.emplace(static_cast<int>(names.size()));
    source = a.data;
    Progress progress("eval", static_cast<int64_t>(folder.samples.size()));
    for (size_t i = 0; i < folder.samples.size(); ++i) {
      const io::Image image = Must(io::DecodeImageFile(folder.samples[i].path));
      cm->Add(folder.samples[i].label, Classify(*s, image.view(), plan, buffer));
      progress.Update(static_cast<int64_t>(i + 1));
    }
    progress.Finish();
  }

  if (a.json) {
    nlohmann::json j;
    j["model"] = model.path();
    j["data"] = source;
    j["accuracy"] = cm->accuracy();
    j["correct"] = cm->correct();
    j["total"] = cm->total();
    j["labels"] = names;
    j["confusion"] = nlohmann::json::array();
    j["recall"] = nlohmann::json::array();
    for (int t = 0; t < cm->classes(); ++t) {
      std::vector<int64_t> row;
      for (int p = 0; p < cm->classes(); ++p) row.push_back(cm->count(t, p));
      j["confusion"].push_back(row);
      j["recall"].push_back(cm->recall(t));
    }
    if (cm->has_other()) {
      j["other"] = nlohmann::json::array();
      for (int t = 0; t < cm->classes(); ++t) j["other"].push_back(cm->other(t));
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "accuracy: " << FormatFixed(100.0 * cm->accuracy(), 2) << "%\n";
  std::cout << "correct: " << cm->correct() << "/" << cm->total() << "\n";
  PrintMatrix(*cm, names);
}

}  // namespace

Command AddEvalCommand(CLI::App& root) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* app = root.add_subcommand(
      "eval", "Measure a classifier's accuracy on a data set, or a detector's mAP");
  app->add_option("model", args->model, ".opm model file")->required();
  app->add_option("--images", args->images, "IDX image file, gzipped or not");
  app->add_option("--labels", args->labels, "IDX label file, gzipped or not");
  app->add_option("--data", args->data,
                  "Folder with one sub-folder of images per class (named like the model's "
                  "labels, or in sorted order)");
  app->add_option("-n,--limit", args->limit, "Evaluate only the first N samples");
  app->add_option("--synthetic", args->synthetic,
                  "Detector: mAP on N frames of the synthetic camera");
  app->add_option("--detection", args->detection,
                  "Detector: the detection postprocess config (JSON file)");
  app->add_option(
      "--camera", args->camera,
      "Detector: synthetic camera options as JSON, e.g. '{\"seed\": 2, \"noise\": 12}'");
  app->add_option("-t,--threads", args->threads, kThreadsHelp);
  app->add_flag("--json", args->json, "Print one JSON object instead of text");
  app->footer(
      "Each sample is preprocessed with the model's input spec: x = (pixel * value_scale -\n"
      "mean[c]) / std[c], resized to the input if needed. Examples:\n"
      "  outpost eval model.opm \\\n"
      "      --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \\\n"
      "      --labels /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz\n"
      "  outpost eval model.opm --data photos/ --limit 500 --json\n"
      "  outpost eval shapes.opm --synthetic 500 --detection shapes_detection.json");
  return {app, [args] { RunEval(*args); }};
}

}  // namespace outpost::cli
