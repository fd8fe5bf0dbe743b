// Building sources and actions from their objects in a pipeline file:
//   {"type": "images", "path": "data/", "loop": false}
//   {"type": "file", "path": "out.jsonl"}
// Relative paths are resolved against `base_dir` (the pipeline file's folder). An unknown type
// is an error listing the known ones.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/expected.h"
#include "pipeline/core/action.h"
#include "pipeline/core/source.h"

namespace outpost::pipeline {

Expected<std::unique_ptr<Source>> MakeSource(const nlohmann::json& spec,
                                             const std::string& base_dir);

// Action types built outside pipeline/ (network actions live above it, see the layer rule in
// docs/architecture.md): `make` is tried for the listed types before the built-in ones.
struct ActionFactoryExtension {
  std::vector<std::string> types;
  std::function<Expected<std::unique_ptr<Action>>(const nlohmann::json& spec,
                                                  const std::string& base_dir)>
      make;
};

Expected<std::unique_ptr<Action>> MakeAction(const nlohmann::json& spec,
                                             const std::string& base_dir,
                                             const ActionFactoryExtension* extension = nullptr);

}  // namespace outpost::pipeline
