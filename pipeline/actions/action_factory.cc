// MakeAction: the built-in local actions, after any extension's types.
#include <nlohmann/json.hpp>

#include "pipeline/actions/command_action.h"
#include "pipeline/actions/jsonl_action.h"
#include "pipeline/config/json_options.h"
#include "pipeline/config/pipeline_config.h"
#include "pipeline/runner/factories.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;

Expected<std::unique_ptr<Action>> Builtin(const json& spec, const std::string& type,
                                          const std::string& base_dir,
                                          const ActionFactoryExtension* extension) {
  if (type == "stdout") {
    CheckKeys(spec, "stdout action", {"type"});
    return std::unique_ptr<Action>(JsonlAction::Stdout());
  }
  if (type == "file") {
    CheckKeys(spec, "file action", {"type", "path"});
    if (!spec.contains("path")) throw Error("file action: \"path\" is required");
    Expected<std::unique_ptr<JsonlAction>> a =
        JsonlAction::OpenFile(ResolvePath(base_dir, spec.at("path").get<std::string>()));
    if (!a) return a.error();
    return std::unique_ptr<Action>(std::move(a).value());
  }
  if (type == "command") {
    CheckKeys(spec, "command action", {"type", "run", "timeout_ms"});
    if (!spec.contains("run")) throw Error("command action: \"run\" is required");
    int64_t timeout_ms = 5000;
    Read(spec, "timeout_ms", timeout_ms);
    Expected<std::unique_ptr<CommandAction>> a = CommandAction::Create(
        spec.at("run").get<std::vector<std::string>>(), std::chrono::milliseconds(timeout_ms));
    if (!a) return a.error();
    return std::unique_ptr<Action>(std::move(a).value());
  }
  std::string known;
  if (extension)
    for (const std::string& t : extension->types) known += t + ", ";
  known += "stdout, file, command";
  throw Error("unknown action type '" + type + "' (known: " + known + ")");
}

}  // namespace

Expected<std::unique_ptr<Action>> MakeAction(const json& spec, const std::string& base_dir,
                                             const ActionFactoryExtension* extension) {
  try {
    if (!spec.is_object() || !spec.contains("type") || !spec.at("type").is_string())
      return Error("action: expected an object with a \"type\"");
    const std::string type = spec.at("type").get<std::string>();
    if (extension && extension->make &&
        std::find(extension->types.begin(), extension->types.end(), type) !=
            extension->types.end())
      return extension->make(spec, base_dir);
    return Builtin(spec, type, base_dir, extension);
  } catch (const Error& e) {
    return e;
  } catch (const json::exception& e) {
    return Error(std::string("action: ") + e.what());
  }
}

}  // namespace outpost::pipeline
