// Strict reading of the JSON objects operators write (rollout plans, alert rules): an unknown
// key is refused rather than ignored, so a misspelt gate never silently falls back to its
// default, and every number is checked against its range with a message naming the field.
// Errors are thrown as outpost::Error; the parsers convert them at their API boundary.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace outpost::fleet {

// Throws when `j` is not an object or holds a key outside `allowed`; `where` names the object.
void CheckFields(const nlohmann::json& j, std::string_view where,
                 std::initializer_list<std::string_view> allowed);

// j[key] when present, else `fallback`; the value must be a number in [lo, hi].
double NumberField(const nlohmann::json& j, std::string_view where, const char* key,
                   double fallback, double lo, double hi);
// The same for whole numbers (a fraction is refused).
int64_t IntegerField(const nlohmann::json& j, std::string_view where, const char* key,
                     int64_t fallback, int64_t lo, int64_t hi);
std::string StringField(const nlohmann::json& j, std::string_view where, const char* key,
                        const std::string& fallback);

}  // namespace outpost::fleet
