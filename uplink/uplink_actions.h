// The actions that leave the device: "webhook" (HTTP POST) and "mqtt". They live outside
// pipeline/ so that the pipeline itself never depends on network code; the CLI offers them to
// the pipeline's action factory.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/expected.h"
#include "pipeline/core/action.h"

namespace outpost::uplink {

// The action for `spec` when its "type" is an uplink type, null when it is another type
// (the pipeline's own factory handles those), or an Error for bad options.
Expected<std::unique_ptr<pipeline::Action>> MakeUplinkAction(const nlohmann::json& spec,
                                                             const std::string& base_dir);

}  // namespace outpost::uplink
