// Reading option objects of a pipeline file: unknown keys are errors (a misspelt option never
// falls back to its default silently), values are typed, and choices are listed in the error.
// Errors are thrown as outpost::Error; the parsers catch them at their API boundary.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/expected.h"

namespace outpost::pipeline {

// Throws Error when `j` is not an object or has a key outside `allowed`; `where` names the
// object ("realtime", "classification").
inline void CheckKeys(const nlohmann::json& j, std::string_view where,
                      std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) throw Error(std::string(where) + ": expected a JSON object");
  for (const auto& [key, value] : j.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw Error(std::string(where) + ": unknown option '" + key + "'");
}

// Sets `out` from j[key] when present; a value of the wrong type throws an Error naming the
// key and showing the value.
template <typename T>
void Read(const nlohmann::json& j, const char* key, T& out) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  // nlohmann converts -1 to a huge unsigned value: refuse the sign before converting.
  if constexpr (std::is_unsigned_v<T> && !std::is_same_v<T, bool>)
    if (it->is_number_integer() && it->template get<int64_t>() < 0)
      throw Error(std::string("option '") + key + "' must not be negative (" + it->dump() + ")");
  try {
    out = it->template get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string("option '") + key + "' has the wrong type (" + it->dump() + ")");
  }
}

// j[key], or `fallback` when absent; errors are prefixed with `where`.
template <typename T>
T ReadOr(const nlohmann::json& j, std::string_view where, const char* key, T fallback) {
  try {
    Read(j, key, fallback);
  } catch (const Error& e) {
    throw Error(std::string(where) + ": " + e.what());
  }
  return fallback;
}

// ReadOr, and the value must lie in [lo, hi].
template <typename T>
T ReadInRange(const nlohmann::json& j, std::string_view where, const char* key, T fallback, T lo,
              T hi) {
  const T v = ReadOr(j, where, key, fallback);
  if (!(v >= lo && v <= hi))
    throw Error(std::string(where) + ": option '" + key + "' must be in [" + std::to_string(lo) +
                ", " + std::to_string(hi) + "]");
  return v;
}

// j[key] as one of the named values, `fallback` when absent.
template <typename E>
E Choice(const nlohmann::json& j, const char* key, E fallback,
         std::initializer_list<std::pair<std::string_view, E>> names) {
  if (!j.contains(key)) return fallback;
  const std::string v = j.at(key).get<std::string>();
  std::string all;
  for (const auto& [name, value] : names) {
    if (v == name) return value;
    all += (all.empty() ? "" : ", ") + std::string(name);
  }
  throw Error(std::string(key) + ": '" + v + "' is not one of " + all);
}

}  // namespace outpost::pipeline
