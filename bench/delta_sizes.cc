// Delta sizes on the zoo: for every model, a recompilation of the same ONNX (the cost of the
// delta's own overhead; it also shows whether compiling is deterministic), a last-layer retrain
// and a full retrain (tests/package/retrained_variants.h), compiled like `outpost compile`
// does, packed as `outpost pack` does, and the delta from the original package as `outpost
// diff` makes it. Prints a Markdown table (docs/delta-format.md). Every delta is applied back
// (`outpost patch`: rebuilt and verified) and checked bit for bit. Usage: delta_sizes [ZOO_DIR...]
//   (default: models/zoo/* and models/generated/* of the source tree)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "package/pack.h"
#include "package/package_delta.h"
#include "tests/package/package_fixtures.h"
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
  const package::KeyPair key = testing::TestSigningPair();
  auto pack = [&](const std::vector<uint8_t>& model, const char* version) {
    package::PackOptions o;
    o.version = version;
    return package::PackModel(model, key.secret, o);
  };
  std::printf("| model | variant | package bytes | delta bytes | ratio | tensors sent / copied | make s | apply s |\n");
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
      auto old_package = pack(*old_model, "1.0.0");
      auto new_package = pack(*new_model, "1.1.0");
      if (!old_package.ok() || !new_package.ok()) {
        std::fprintf(stderr, "%s %s: %s\n", name.c_str(), label,
                     (old_package.ok() ? new_package : old_package).message().c_str());
        ++failures;
        continue;
      }
      auto start = std::chrono::steady_clock::now();
      auto delta = package::MakePackageDelta(*old_package, *new_package, key.public_key);
      const double make_s = Seconds(start);
      start = std::chrono::steady_clock::now();
      auto applied = delta.ok() ? package::ApplyPackageDelta(*old_package, *delta, key.public_key)
                                : Expected<package::PatchedPackage>(delta.error());
      const double apply_s = Seconds(start);
      if (!applied.ok() || applied->bytes != *new_package) {
        std::fprintf(stderr, "%s %s: %s\n", name.c_str(), label,
                     applied.ok() ? "rebuilt package differs" : applied.message().c_str());
        ++failures;
        continue;
      }
      const package::DeltaInfo& info = applied->delta;
      std::printf("| %s | %s | %zu | %zu | %.2f%% | %u / %u | %.2f | %.3f |\n", name.c_str(), label,
                  new_package->size(), delta->size(),
                  100.0 * static_cast<double>(delta->size()) / static_cast<double>(new_package->size()),
                  info.tensors_sent, info.tensors_copied, make_s, apply_s);
      std::fflush(stdout);
    }
  }
  return failures == 0 ? 0 : 1;
}
