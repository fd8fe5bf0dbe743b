// Model delta sizes on the zoo: for every model, a recompilation of the same ONNX (the cost
// of the delta's own overhead; it also shows whether compiling is deterministic), a last-layer
// retrain and a full retrain (tests/package/retrained_variants.h), compiled like
// `outpost compile` does, and the delta from the original. Prints a Markdown table (docs/delta-format.md). Every delta is applied
// back and checked bit for bit. Usage: delta_sizes [ZOO_DIR...]
//   (default: models/zoo/* and models/generated/* of the source tree)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "package/model_delta.h"
#include "tests/package/retrained_variants.h"

namespace fs = std::filesystem;
using namespace outpost;

namespace {

std::vector<fs::path> DefaultDirs() {
  std::vector<fs::path> dirs;
  for (const char* root : {"models/zoo", "models/generated"}) {
    const fs::path base = fs::path(OUTPOST_SOURCE_DIR) / root;
    if (!fs::is_directory(base)) continue;
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(base))
      if (fs::exists(e.path() / "model.onnx")) found.push_back(e.path());
    std::sort(found.begin(), found.end());
    dirs.insert(dirs.end(), found.begin(), found.end());
  }
  return dirs;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> dirs;
  for (int i = 1; i < argc; ++i) dirs.emplace_back(argv[i]);
  if (dirs.empty()) dirs = DefaultDirs();
  std::printf("| model | variant | model bytes | delta bytes | ratio | tensors sent / copied | make s | apply s |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  int failures = 0;
  for (const fs::path& dir : dirs) {
    const std::string name = dir.filename().string();
    const std::string onnx = (dir / "model.onnx").string();
    auto old_model = testing::CompileForDelta(onnx);
    if (!old_model.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), old_model.message().c_str());
      ++failures;
      continue;
    }
    for (int variant = 0; variant < 3; ++variant) {
      const testing::Retrain r =
          variant == 2 ? testing::Retrain::kFull : testing::Retrain::kLastLayer;
      const char* label = variant == 0 ? "recompiled" : testing::RetrainName(r);
      const fs::path tmp = fs::temp_directory_path() / ("delta_sizes_" + name + ".onnx");
      auto new_model = [&]() -> Expected<std::vector<uint8_t>> {
        if (variant == 0) return testing::CompileForDelta(onnx);
        auto changed = testing::WriteRetrainedOnnx(onnx, r, tmp.string());
        if (!changed.ok()) return changed.error();
        auto compiled = testing::CompileForDelta(tmp.string());
        fs::remove(tmp);
        return compiled;
      }();
      if (variant == 0 && new_model.ok() && *new_model != *old_model) {
        std::fprintf(stderr, "%s: two compilations of the same ONNX differ\n", name.c_str());
        ++failures;
      }
      if (!new_model.ok()) {
        std::fprintf(stderr, "%s: %s\n", name.c_str(), new_model.message().c_str());
        ++failures;
        continue;
      }
      auto start = std::chrono::steady_clock::now();
      auto delta = package::MakeModelDelta(*old_model, *new_model, {});
      const double make_s = Seconds(start);
      start = std::chrono::steady_clock::now();
      auto applied = delta.ok() ? package::ApplyModelDelta(*old_model, *delta)
                                : Expected<package::AppliedDelta>(delta.error());
      const double apply_s = Seconds(start);
      if (!applied.ok() || applied->model != *new_model) {
        std::fprintf(stderr, "%s %s: %s\n", name.c_str(), label,
                     applied.ok() ? "rebuilt model differs" : applied.message().c_str());
        ++failures;
        continue;
      }
      const package::DeltaInfo& info = applied->info;
      std::printf("| %s | %s | %zu | %zu | %.2f%% | %u / %u | %.2f | %.3f |\n", name.c_str(), label,
                  new_model->size(), delta->size(),
                  100.0 * static_cast<double>(delta->size()) / static_cast<double>(new_model->size()),
                  info.tensors_sent, info.tensors_copied, make_s, apply_s);
      std::fflush(stdout);
    }
  }
  return failures == 0 ? 0 : 1;
}
