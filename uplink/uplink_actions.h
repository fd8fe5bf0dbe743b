// The actions that leave the device: "webhook" (HTTP POST) and "mqtt". They live outside
// pipeline/ so that the pipeline itself never depends on network code; the CLI offers them to
// the pipeline's action factory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.h"
#include "pipeline/core/action.h"

namespace outpost::uplink {

// The "type"s MakeUplinkAction builds: "webhook", "mqtt".
const std::vector<std::string>& UplinkActionTypes();

// The action for `spec`, whose "type" is one of UplinkActionTypes(); an Error for bad options
// or another type.
Expected<std::unique_ptr<pipeline::Action>> MakeUplinkAction(const nlohmann::json& spec,
                                                             const std::string& base_dir);

}  // namespace outpost::uplink
