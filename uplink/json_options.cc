#include "uplink/json_options.h"

namespace outpost::uplink {

void CheckKnownKeys(const nlohmann::json& options, std::string_view what,
                    std::initializer_list<std::string_view> known) {
  if (!options.is_object()) throw Error(std::string(what) + ": options must be a JSON object");
  for (const auto& [key, value] : options.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (found) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    throw Error(std::string(what) + ": unknown option '" + key + "' (known: " + list + ")");
  }
}

}  // namespace outpost::uplink
