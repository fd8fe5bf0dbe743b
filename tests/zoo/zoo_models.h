// The zoo models the tests run: every folder of models/zoo (committed) and of models/generated
// (large models made on demand by `models/zoo.py export-large`, when present).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace outpost::testing {

inline std::vector<std::string> ZooModelDirs() {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  for (const char* root : {"models/zoo", "models/generated"}) {
    const fs::path base = fs::path(OUTPOST_SOURCE_DIR) / root;
    if (!fs::is_directory(base)) continue;
    for (const auto& e : fs::directory_iterator(base))
      if (fs::exists(e.path() / "model.onnx") && fs::exists(e.path() / "output.npy"))
        dirs.push_back(e.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

inline std::string ZooName(const std::string& dir) {
  return std::filesystem::path(dir).filename().string();
}

}  // namespace outpost::testing
