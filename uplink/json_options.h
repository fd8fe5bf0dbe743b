// Reading an action's JSON options strictly: a misspelt key is an error, never a silent
// default, and every message names the action and the key.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace outpost::uplink {

// Throws Error("<what>: unknown option 'k' (known: a, b)") for a key not in `known`.
void CheckKnownKeys(const nlohmann::json& options, std::string_view what,
                    std::initializer_list<std::string_view> known);

// options[key] as T, or `fallback` when absent; a value of the wrong type is an Error.
template <typename T>
T OptionOr(const nlohmann::json& options, std::string_view what, const char* key, T fallback) {
  auto it = options.find(key);
  if (it == options.end()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string(what) + ": option '" + key + "' has the wrong type (" +
                it->dump() + ")");
  }
}

}  // namespace outpost::uplink
